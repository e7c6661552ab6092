"""The label's yearly self-assessment report: one section per principle, each figure beside the
year before; asked for and made like the monthly ones (never twice at once), made by the daily
job from 2 January, listed beside the monthly ones, and whole from the demo's history."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from citedesmetiers.models import Site
from events.models import Registration
from figures import yearly
from figures.models import MonthlyReport
from figures.report_service import ReportError, missing_reports, request_report
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401  (fixture)
from tests.events_fixtures import make_event
from tests.report_fixtures import (  # noqa: F401  (fixtures)
    add,
    eager_celery_fixture,
    media_fixture,
    numbers,
    pages,
    since_2024,
)

pytestmark = pytest.mark.usefixtures("in_english")
PARIS = ZoneInfo("Europe/Paris")
Y2025, Y2024 = dt.date(2025, 1, 1), dt.date(2024, 1, 1)


def two_years(centre) -> None:
    """Alpha's figures for 2025 and 2024 (a few days of each)."""
    alpha = centre.alpha
    e = theme(alpha, "E").pk
    desk = make_desk(alpha, "Desk 1", "E").pk
    pa, pb = centre.partner_a.pk, centre.partner_b.pk
    for year, visits in ((Y2025, 400), (Y2024, 300)):
        add(
            alpha,
            3,
            "reception",
            "visits",
            visits,
            month=year,
            channel="in_person",
            hour=10,
            theme=e,
        )
        add(
            alpha, 3, "reception", "wait_minutes", visits, month=year, m=12 if year == Y2025 else 20
        )
        add(alpha, 3, "reception", "visit_end", 9, month=year, how="walked_out")
    add(
        alpha,
        3,
        "appointments",
        "appointments",
        40,
        month=Y2025,
        channel="phone",
        status="attended",
        theme=e,
    )
    add(alpha, 3, "counselling", "visit_partners", 270, month=Y2025, n=1)
    add(alpha, 3, "counselling", "visit_partners", 25, month=Y2025, n=2)
    add(alpha, 3, "counselling", "visit_partners", 5, month=Y2025, n=3)
    add(alpha, 3, "counselling", "interviews", 300, month=Y2025, desk=desk, partner=pa, theme=e)
    add(alpha, 3, "counselling", "interviews", 50, month=Y2025, desk=desk, partner=pb, theme=e)
    add(alpha, 3, "reception", "take_away", 60, month=Y2025, what="lists")
    add(alpha, 3, "reception", "take_away", 150, month=Y2025, what="resources")
    for v, n in (("-", 380), ("en", 17), ("pt", 3)):
        add(alpha, 3, "reception", "visit_language", n, month=Y2025, v=v)
    add(
        alpha,
        3,
        "counselling",
        "planned_seconds",
        100 * 3600,
        month=Y2025,
        desk=desk,
        partner=pa,
        mode="walk_in",
    )
    for part, hours in (("serving", 60), ("paused", 5), ("idle_empty", 25), ("idle_waiting", 2)):
        add(
            alpha,
            3,
            "counselling",
            "desk_seconds",
            hours * 3600,
            month=Y2025,
            desk=desk,
            partner=pa,
            part=part,
        )


def rows(report: dict) -> dict[str, tuple]:
    return {str(r.label): (r.now, r.before) for s in report["sections"] for r in s.rows}


def test_it_puts_each_figure_of_the_year_beside_the_year_before(centre):
    two_years(centre)

    report = yearly.build(centre.alpha, 2025)

    assert [str(s.title) for s in report["sections"]] == [
        "Anonymity",
        "Free and without appointment",
        "All audiences",
        "Plurality of points of view",
        "Counselling and resources",
        "Events",
        "Quality",
        "The partners' presence",
    ]
    r = rows(report)
    assert r["Visits"] == (400, 300)
    assert r["Visits without an appointment"] == ("90 %", "100 %")
    assert r["Appointments held"] == (40, 0)
    assert r["Median wait (min)"] == (12, 20)
    assert r["Left before being called"] == (9, 9)
    assert r["Visitors who met two or more partner institutions"] == ("30 (10 %)", "0 (—)")
    assert r["Partner institutions that held interviews"] == (2, 0)
    assert r["Take-away lists handed over"] == (60, 0)
    assert r["Resources on those lists"] == (150, 0)
    assert r["Desk hours planned"] == (100, 0)
    assert r["Desk hours open"] == (92, 0)
    assert r["Desk hours with a visitor"] == (60, 0)
    assert all(str(row.counts) for s in report["sections"] for row in s.rows)  # each says what


def test_its_languages_hide_groups_under_five(centre):
    two_years(centre)

    [audiences] = [s for s in yearly.build(centre.alpha, 2025)["sections"] if s.tables]
    languages = dict(next(t for t in audiences.tables if "Language" in str(t["title"]))["rows"])

    assert languages["Portuguese"] == "< 5"
    assert languages["English"] != "17"  # hidden too: it would give the small one away
    assert languages["the site's language"] == "380"


def test_it_tells_whether_contacts_were_erased_on_time(centre):
    def event_ended(day: int, purged_after: int | None):
        ends = dt.datetime(2025, 3, day, 12, tzinfo=PARIS)
        event = make_event(centre.alpha, starts_at=ends - dt.timedelta(hours=2))
        Registration.objects.create(event=event, status="confirmed", pseudonym="")
        if purged_after is not None:
            event.contacts_purged_at = ends + dt.timedelta(days=purged_after)
            event.save(update_fields=["contacts_purged_at"])

    event_ended(3, 7)  # on the day
    event_ended(4, 8)  # the next day: the nightly job, on time
    event_ended(5, 30)  # late
    event_ended(6, None)  # still held

    r = rows(yearly.build(centre.alpha, 2025))

    assert r["Events whose registrants' contacts were erased on time"] == ("2 / 4", "—")
    assert r["Contacts still held past their date"] == (1, 0)


def test_a_year_not_over_or_before_the_site_is_refused(centre):
    since_2024(centre.alpha)
    this_year = dt.date(centre.alpha.local_date().year, 1, 1)
    with pytest.raises(ReportError, match="This year is not over yet"):
        request_report(site=centre.alpha, month=this_year, period="year")
    with pytest.raises(ReportError, match="existed yet in that year"):
        request_report(site=centre.alpha, month=dt.date(2023, 1, 1), period="year")
    assert not MonthlyReport.objects.exists()


def test_a_second_request_while_one_is_on_its_way_queues_nothing(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha)
    with django_capture_on_commit_callbacks() as first:
        report = request_report(site=centre.alpha, month=Y2024, period="year")
    with django_capture_on_commit_callbacks() as second:
        again = request_report(site=centre.alpha, month=dt.date(2024, 6, 1), period="year")

    assert (len(first), len(second)) == (1, 0)
    assert again.pk == report.pk and (again.period, again.month) == ("year", Y2024)
    # The monthly report of January 2024 is another report.
    request_report(site=centre.alpha, month=Y2024)
    assert MonthlyReport.objects.count() == 2


def test_a_manager_asks_for_the_yearly_pdf_then_gets_it(
    mfa_enrolled, login, media, eager_celery, django_capture_on_commit_callbacks
):
    two_years(mfa_enrolled)
    since_2024(mfa_enrolled.alpha)
    client = login(mfa_enrolled.manager)
    url = "/manage/reports/alpha/2025.pdf"

    missing = client.get(url)
    assert missing.status_code == 404 and "This report has not been made yet." in (
        missing.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(
            "/manage/reports/request/",
            {"site": "alpha", "period": "year", "year": "2025", "month": "2025-02", "next": "pdf"},
        )
    assert (asked.status_code, asked.url) == (302, url)

    response = client.get(url)

    assert response.status_code == 200
    assert 'filename="alpha-2025.pdf"' in response["Content-Disposition"]
    text = "\n".join(pages(b"".join(response.streaming_content)))
    # In the site's language, French, with a section per principle.
    assert "Rapport annuel d’auto" in text and "Site Alpha" in text
    for title in (
        "1. Anonymat",
        "4. Pluralité des points de vue",
        "8. La présence des partenaires",
    ):
        assert title in text
    assert {"400", "300"} <= numbers(text)
    listed = client.get("/manage/reports/").content.decode()
    assert "Year 2025" in listed and f'href="{url}"' in listed


@pytest.mark.parametrize("year", ["", "20x5", "99999", "0000"])
def test_a_bad_year_is_refused_with_a_message(mfa_enrolled, login, year):
    client = login(mfa_enrolled.manager)

    response = client.post(
        "/manage/reports/request/", {"site": "alpha", "period": "year", "year": year}, follow=True
    )

    assert response.status_code == 200
    assert "Choose a year." in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_the_daily_job_makes_last_years_report_from_2_january(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha, centre.beta)
    MonthlyReport.objects.filter(site__isnull=True).delete()

    def yearly_reports():
        return sorted(
            (r.place_key, r.month)
            for r in MonthlyReport.objects.filter(period="year").select_related("site", "cite")
        )

    with django_capture_on_commit_callbacks():
        missing_reports(now=dt.datetime(2025, 1, 1, 4, tzinfo=PARIS))
    assert yearly_reports() == []
    with django_capture_on_commit_callbacks():
        missing_reports(now=dt.datetime(2025, 1, 2, 4, tzinfo=PARIS))
    assert yearly_reports() == [("alpha", Y2024), ("beta", Y2024), ("network", Y2024)]
    with django_capture_on_commit_callbacks() as again:
        missing_reports(now=dt.datetime(2025, 1, 3, 4, tzinfo=PARIS))
    assert again == []


def test_the_demo_history_gives_last_year_a_report_with_every_section(db):
    call_command(
        "seed_demo", "--history", "13", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )
    site = Site.objects.get(slug="demo")
    last_year = site.local_date().year - 1

    report = yearly.build(site, last_year)

    for section in report["sections"]:
        figures = [r.now for r in section.rows]
        assert any(f not in (0, "—", None, "0 (—)") for f in figures), section.title
    r = rows(report)
    for shown in (
        "Visitors who met two or more partner institutions",
        "Take-away lists handed over",
        "Desk hours open",
        "Quoted waits that came true within 10 minutes",
    ):
        assert r[shown][0] not in (0, "—", "0 (—)"), shown
