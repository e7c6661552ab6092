"""The managers' dashboard at /manage/: today live from the raw rows, the month so far from the
daily figures, by site (a site manager sees only theirs; a network manager compares them), and
each table as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import get_resolver, resolve
from django.utils import timezone
from playwright.sync_api import expect

from citedesmetiers.models import AuditEntry, Site, Theme, User
from citedesmetiers.roles import Role
from counselling import services as desk
from figures import stats
from figures.models import AggregatedDay, DailyStat
from reception import services as reception
from reception.models import Call, Visit
from tests.browser import TABLET, log_in
from tests.conftest import Centre, make_staff
from tests.counselling_fixtures import in_english, make_desk, open_session, theme  # noqa: F401
from tests.test_access import ACCESS

pytestmark = pytest.mark.usefixtures("in_english")


def today_at_alpha(centre: Centre) -> dict:
    """Five walk-ins at Alpha today (one served, one at a desk, two waiting, one gone), two desks
    open and one closed; a visitor still waiting from yesterday; Beta's own day."""
    site, now = centre.alpha, timezone.now()
    midnight = dt.datetime.combine(site.local_date(now), dt.time.min, tzinfo=site.zone)

    def ago(minutes: int) -> dt.datetime:
        return max(midnight, now - dt.timedelta(minutes=minutes))

    def arrive(s: Site, letter: str, at: dt.datetime) -> Visit:
        return reception.check_in(site=s, theme_id=theme(s, letter).pk, now=at)[0]

    closed = open_session(centre.counsellor_b, make_desk(site, "Desk 3", "A"), ago(200))
    desk.close_desk(session_id=closed.pk, counsellor=centre.counsellor_b, now=ago(190))
    bob = {
        "session_id": open_session(centre.counsellor_a, make_desk(site, "Desk 1", "E", "F")).pk,
        "counsellor": centre.counsellor_a,
    }
    open_session(centre.counsellor_b, make_desk(site, "Desk 2", "A"))

    arrive(site, "A", midnight - dt.timedelta(hours=3))  # yesterday evening, never closed
    served = arrive(site, "E", ago(120))
    assert desk.call_next(**bob, now=ago(100)).pk == served.pk
    desk.start_interview(**bob, now=ago(99))
    desk.finish_interview(**bob, outcomes=["information"], now=ago(80))
    held = arrive(site, "E", ago(90))
    assert desk.call_next(**bob, now=ago(70)).pk == held.pk
    arrive(site, "F", ago(60))
    arrive(site, "E", ago(50))
    gone = arrive(site, "A", ago(40))
    reception.mark_left(site=site, visit_id=gone.pk, now=ago(30))

    arrive(centre.beta, "E", ago(30))
    beta_desk = make_desk(centre.beta, "Desk 1", "E")
    open_session(make_staff("hugo@beta.test", Role.COUNSELLOR, centre.beta), beta_desk)
    return {"served": served, "held": held}


def raw_live(site: Site) -> dict:
    """Today's live figures, counted straight from the raw rows."""
    today = Visit.objects.filter(site=site, local_date=site.local_date())
    waits = [
        (Call.objects.filter(visit=v).order_by("at").first().at - v.arrived_at).total_seconds() / 60
        for v in today
        if v.calls.exists()
    ]
    return {
        "arrived": today.count(),
        "waiting": today.filter(status="waiting").count(),
        "served": today.filter(status="done").count(),
        "median_wait": round(statistics.median(waits)),
        "desks_open": 2,
    }


def raw_long_waits(site: Site, now: dt.datetime) -> list[tuple[Site, Theme, int]]:
    """Each theme's longest wait at `now`, straight from the waiting rows, when it reached the
    site's alert threshold."""
    oldest: dict[Theme, dt.datetime] = {}
    for v in Visit.objects.filter(site=site, status="waiting").select_related("theme"):
        oldest[v.theme] = min(oldest.get(v.theme, v.queued_at), v.queued_at)
    waits = [(site, t, int((now - at).total_seconds() // 60)) for t, at in oldest.items()]
    return sorted((w for w in waits if w[2] >= site.long_wait_minutes), key=lambda w: -w[2])


def test_it_shows_today_live_as_the_raw_rows_say(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    site = mfa_enrolled.alpha

    before = timezone.now()
    response = login(mfa_enrolled.manager).get("/manage/")
    after = timezone.now()

    assert response.status_code == 200
    live = dict(response.context["live"])
    # The alert counts minutes up to the request's own clock: it lies between the two readings.
    long_waits = live.pop("long_waits")
    low, high = ({t: m for _, t, m in raw_long_waits(site, at)} for at in (before, after))
    assert set(low) <= {t for _, t, _ in long_waits} <= set(high)
    for _, t, m in long_waits:
        assert low.get(t, 0) <= m <= high[t]
    assert [m for *_, m in long_waits] == sorted((m for *_, m in long_waits), reverse=True)
    # Yesterday's visitor, never closed, has waited past the threshold whatever the hour.
    assert theme(site, "A") in [t for _, t, _ in long_waits]
    assert live == raw_live(site)
    assert (live["arrived"], live["waiting"], live["served"], live["desks_open"]) == (5, 2, 1, 2)
    page = response.content.decode()
    assert "Site Alpha" in page
    assert f"<strong>{live['median_wait']} min</strong>" in page


def test_the_month_so_far_comes_from_the_daily_figures(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())

    response = login(mfa_enrolled.manager).get("/manage/")

    tables = response.context["tables"]
    assert sorted(tables["visits_by_theme"]) == [
        ("Create a business", 1),
        ("Find a job", 3),
        ("Find a training", 1),
    ]
    assert tables["interviews_by_partner"] == [("Employment agency", 1)]
    today = mfa_enrolled.alpha.local_date().isoformat()
    assert dict(tables["visits_by_day"])[today] == 5
    assert sum(n for _day, n in tables["visits_by_day"]) == 5
    assert response.context["comparison"][0][:2] == ("Visits", 5)


def test_a_site_manager_cannot_see_another_site(mfa_enrolled, login):
    client = login(mfa_enrolled.manager)
    assert client.get("/manage/?site=beta").status_code == 403
    assert client.get("/manage/export/visits_by_theme.csv?site=beta").status_code == 403
    # Asking for every site only shows their own.
    response = client.get("/manage/?site=all")
    assert response.status_code == 200
    assert response.context["site"] == mfa_enrolled.alpha
    assert response.context["by_site"] == []


def test_a_site_manager_sees_their_own_site(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    response = login(mfa_enrolled.beta_manager).get("/manage/")
    assert response.context["site"] == mfa_enrolled.beta
    assert response.context["live"]["arrived"] == 1
    assert response.context["live"]["desks_open"] == 1


@pytest.fixture
def network_manager(mfa_enrolled) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_staff("nina@network.test", Role.MANAGER, None)
    TOTP.activate(user, generate_totp_secret())
    return user


def test_a_network_manager_compares_the_sites(mfa_enrolled, network_manager, login):
    today_at_alpha(mfa_enrolled)
    for site in (mfa_enrolled.alpha, mfa_enrolled.beta):
        stats.aggregate_day(site, site.local_date())

    response = login(network_manager).get("/manage/?site=all")

    assert response.status_code == 200
    assert response.context["network"] is True
    compared = {name: f["visits"] for name, f in response.context["by_site"]}
    assert compared == {"Site Alpha": 5, "Site Beta": 1}
    assert response.context["live"]["arrived"] == 6
    page = response.content.decode()
    assert "Sites compared" in page and "Site Beta" in page
    # And each site alone.
    beta = login(network_manager).get("/manage/?site=beta")
    assert beta.context["site"] == mfa_enrolled.beta
    assert beta.context["live"]["arrived"] == 1


def test_filters_narrow_the_tables(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())
    training = theme(mfa_enrolled.alpha, "F")

    response = login(mfa_enrolled.manager).get(f"/manage/?theme={training.pk}")

    assert response.context["filters"] == {"theme": str(training.pk)}
    assert response.context["tables"]["visits_by_theme"] == [("Find a training", 1)]
    # Another site's theme is not a filter here.
    beta_theme = theme(mfa_enrolled.beta, "E")
    response = login(mfa_enrolled.manager).get(f"/manage/?theme={beta_theme.pk}")
    assert response.context["filters"] == {}


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("table", ["visits_by_theme", "visits_by_day", "interviews_by_partner"])
def test_each_table_exports_as_csv_with_the_same_numbers(mfa_enrolled, login, table):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())
    client = login(mfa_enrolled.manager)
    shown = client.get("/manage/").context["tables"][table]

    response = client.get(f"/manage/export/{table}.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{table}-' in response["Content-Disposition"]
    header, *lines = read_csv(response)
    assert header == ["label", "value"]
    assert [(label, int(n)) for label, n in lines] == [(str(k), v) for k, v in shown]
    assert lines


def test_a_csv_cell_never_starts_a_formula(mfa_enrolled, login):
    formula = Theme.objects.create(site=mfa_enrolled.alpha, letter="Z", name="=HYPERLINK(1)")
    reception.check_in(site=mfa_enrolled.alpha, theme_id=formula.pk)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())

    response = login(mfa_enrolled.manager).get("/manage/export/visits_by_theme.csv")

    assert read_csv(response)[1] == ["'=HYPERLINK(1)", "1"]


@pytest.mark.parametrize("table", ["nothing", "_figures"])
def test_an_unknown_table_is_not_found(mfa_enrolled, login, table):
    assert login(mfa_enrolled.manager).get(f"/manage/export/{table}.csv").status_code == 404


def test_the_dashboard_reads_a_bounded_number_of_queries(
    mfa_enrolled, network_manager, login, django_assert_max_num_queries
):
    today_at_alpha(mfa_enrolled)
    for site in (mfa_enrolled.alpha, mfa_enrolled.beta):
        stats.aggregate_day(site, site.local_date())

    # The first page after logging in reads the directory too (the account, the grant, the sites
    # with their themes and opening hours), and on SQLite the cache is a table.
    manager = login(mfa_enrolled.manager)
    with django_assert_max_num_queries(41):
        assert manager.get("/manage/").status_code == 200
    network = login(network_manager)
    with django_assert_max_num_queries(41):
        assert network.get("/manage/?site=all").status_code == 200


def demo_figures() -> list[tuple]:
    return sorted(
        DailyStat.objects.values_list("site__slug", "day", "source", "metric", "key", "value")
    )


def test_the_demo_history_is_the_same_when_seeded_twice_and_shows(db, client):
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )
    first = demo_figures()
    days = AggregatedDay.objects.count()
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )

    assert demo_figures() == first
    assert AggregatedDay.objects.count() == days
    demo = Site.objects.get(slug="demo")
    today = demo.local_date()
    two_months_ago = (today.replace(day=1) - dt.timedelta(days=32)).replace(day=1)
    assert days == (today - two_months_ago).days  # every day up to yesterday
    assert len(first) > 1000

    client.force_login(User.objects.get(email="manager@demo.test"))
    response = client.get("/manage/")

    assert response.status_code == 200
    this_month = stats.read([demo], today.replace(day=1), today).total("visits")
    assert sum(n for _day, n in response.context["tables"]["visits_by_day"]) == this_month
    assert "<svg" in response.content.decode() or this_month == 0


def test_every_manage_address_is_in_the_access_matrix():
    class Example(dict):
        def __missing__(self, key: str) -> str:
            return "1"

    covered = set()
    for template, _method, _expected in ACCESS:
        if isinstance(template, str) and template.startswith("/manage/"):
            covered.add(resolve(urlsplit(template.format_map(Example())).path).view_name)
    namespace = get_resolver().namespace_dict["manage"][1]
    assert {f"manage:{p.name}" for p in namespace.url_patterns} - covered == set()


def test_an_export_of_figures_is_written_to_the_audit_log(mfa_enrolled, login):
    login(mfa_enrolled.manager).get("/manage/export/visits_by_theme.csv")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.subject, entry.site) == (
        mfa_enrolled.manager,
        "export",
        "figures: visits_by_theme",
        mfa_enrolled.alpha,
    )


# --- the month picker ----------------------------------------------------------------------------


def months_back(site: Site, months: int) -> dt.date:
    month = site.local_date().replace(day=1)
    for _index in range(months):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def visits_on(site: Site, day: dt.date, letters: str) -> None:
    """One walk-in per letter at noon of `day`, rolled into that day's figures."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=site.zone)
    for letter in letters:
        reception.check_in(
            site=site, theme_id=theme(site, letter).pk, override_hours=True, now=noon
        )
    stats.aggregate_day(site, day)


@pytest.fixture
def two_months_of_alpha(mfa_enrolled) -> Centre:
    """Alpha has figures from two months ago (three visits on the 10th) to today (one)."""
    site = mfa_enrolled.alpha
    visits_on(site, months_back(site, 2).replace(day=10), "EEF")
    visits_on(site, site.local_date(), "A")
    return mfa_enrolled


def test_the_month_picker_shows_a_past_month_whole(two_months_of_alpha, login):
    site = two_months_of_alpha.alpha
    month = months_back(site, 2)

    response = login(two_months_of_alpha.manager).get(f"/manage/?month={month:%Y-%m}")

    assert response.status_code == 200
    assert response.context["month"] == month
    days = response.context["tables"]["visits_by_day"]
    assert days[0][0] == month.isoformat()
    start, end = stats.month_bounds(month)
    assert len(days) == (end - start).days
    assert sum(n for _day, n in days) == 3
    assert dict(days)[month.replace(day=10).isoformat()] == 3
    assert sorted(response.context["tables"]["visits_by_theme"]) == [
        ("Find a job", 2),
        ("Find a training", 1),
    ]
    # Against the whole month before it, which has no figures.
    assert response.context["comparison"][0] == ("Visits", 3, 0)
    page = response.content.decode()
    assert f'<option value="{month:%Y-%m}" selected>' in page
    assert "This month so far" not in page


def test_the_month_picker_offers_the_months_with_figures_and_no_others(two_months_of_alpha, login):
    site = two_months_of_alpha.alpha

    response = login(two_months_of_alpha.manager).get("/manage/")

    offered = [
        value for _year, months in response.context["month_groups"] for value, _n, _s in months
    ]
    assert offered == [f"{months_back(site, n):%Y-%m}" for n in (0, 1, 2)]
    assert response.context["month"] == months_back(site, 0)
    assert "This month so far" in response.content.decode()
    # The neighbours of the month shown, keeping the other choices.
    assert response.context["older"] == f"month={months_back(site, 1):%Y-%m}"
    assert response.context["newer"] == ""
    oldest = login(two_months_of_alpha.manager).get(
        f"/manage/?site=alpha&month={months_back(site, 2):%Y-%m}"
    )
    assert oldest.context["older"] == ""
    assert oldest.context["newer"] == f"site=alpha&month={months_back(site, 1):%Y-%m}"


def test_a_site_without_figures_offers_this_month_alone(mfa_enrolled, login):
    response = login(mfa_enrolled.manager).get("/manage/")
    assert response.status_code == 200
    assert [len(months) for _year, months in response.context["month_groups"]] == [1]


@pytest.mark.parametrize(
    "value", ["2026-13", "2026-00", "0000-01", "abc", "2026-1x", "20261", "12026-01", "٢٠٢٦-٠١"]
)
def test_a_month_that_is_not_one_is_refused_with_a_message(two_months_of_alpha, login, value):
    response = login(two_months_of_alpha.manager).get("/manage/", {"month": value})

    assert response.status_code == 400
    assert response.context["month"] == months_back(two_months_of_alpha.alpha, 0)
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "is not a month: choose one in the list." in page


@pytest.mark.parametrize("asked", ["before the first figures", "a year before", "next month"])
def test_a_month_without_figures_is_refused_naming_the_months_there_are(
    two_months_of_alpha, login, asked
):
    site = two_months_of_alpha.alpha
    asked = {
        "before the first figures": months_back(site, 3),
        "a year before": months_back(site, 14),
        "next month": stats.month_bounds(site.local_date())[1],
    }[asked]

    response = login(two_months_of_alpha.manager).get(f"/manage/?month={asked:%Y-%m}")

    assert response.status_code == 400
    assert response.context["month"] == months_back(site, 0)
    first, last = months_back(site, 2), months_back(site, 0)
    assert (
        f"There are no figures for {asked:%B %Y}: choose a month from {first:%B %Y} "
        f"to {last:%B %Y}."
    ) in response.content.decode()


def test_the_year_1900_is_refused_too(two_months_of_alpha, login):
    response = login(two_months_of_alpha.manager).get("/manage/?month=1900-01")
    assert response.status_code == 400
    assert "There are no figures for January 1900" in response.content.decode()


def test_the_csv_of_a_past_month_has_its_figures(two_months_of_alpha, login):
    month = months_back(two_months_of_alpha.alpha, 2)
    client = login(two_months_of_alpha.manager)

    response = client.get(f"/manage/export/visits_by_theme.csv?month={month:%Y-%m}")

    assert response.status_code == 200
    assert f'filename="visits_by_theme-{month:%Y-%m}.csv"' in response["Content-Disposition"]
    assert sorted(read_csv(response)[1:]) == [["Find a job", "2"], ["Find a training", "1"]]
    refused = client.get("/manage/export/visits_by_theme.csv?month=2026-13")
    assert refused.status_code == 400
    assert "is not a month" in refused.content.decode()


def test_the_csv_links_keep_the_month_shown(two_months_of_alpha, login):
    month = months_back(two_months_of_alpha.alpha, 1)
    response = login(two_months_of_alpha.manager).get(f"/manage/?month={month:%Y-%m}")
    assert f"/manage/export/visits_by_day.csv?month={month:%Y-%m}" in response.content.decode()


# --- the charts, as a manager's tablet shows them ----------------------------------------------

LONG_THEME = "Reprendre des études après une longue interruption de carrière professionnelle"


def log_in_with_totp(page, user: User) -> None:
    """The real login form, then the authenticator's code, as an enrolled manager does."""
    import time

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from allauth.mfa.utils import decrypt

    log_in(page, user.email)
    secret = decrypt(Authenticator.objects.get(user=user, type="totp").data["secret"])
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()


RENDERED_TEXT = """() => [...document.querySelectorAll('.chart svg text')].map(text => {
    const svg = text.ownerSVGElement.getBoundingClientRect(), box = text.getBoundingClientRect();
    return {
        text: text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
        inside: box.left >= svg.left - 0.5 && box.right <= svg.right + 0.5,
    };
})"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_chart_labels_are_readable_and_whole_on_a_tablet(new_page, mfa_enrolled):
    site = mfa_enrolled.alpha
    Theme.objects.create(site=site, letter="R", name=LONG_THEME)
    today = site.local_date()
    for day in range(1, today.day + 1):
        visits_on(site, today.replace(day=day), "RRE")

    page = new_page(viewport=TABLET)
    log_in_with_totp(page, mfa_enrolled.manager)
    page.goto("/manage/")
    expect(page.locator(".chart svg").first).to_be_visible()

    texts = page.evaluate(RENDERED_TEXT)
    assert len(texts) >= 5
    assert [t for t in texts if t["px"] < 12] == []
    assert [t for t in texts if not t["inside"]] == []
    # The long name wraps or is shortened in the chart; it is whole in its title and the table.
    themes = page.locator("section[aria-labelledby=themes-title]")
    assert LONG_THEME not in themes.locator("svg text").all_text_contents()
    assert themes.locator("svg title", has_text=LONG_THEME).count() == 1
    expect(themes.get_by_role("rowheader", name=LONG_THEME)).to_be_visible()
    assert page.js_errors == []
