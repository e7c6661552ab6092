"""Feedback in the daily figures: rolled in with the day, shown on the dashboard and in the
monthly report by theme and by partner (only from 5 answers, with secondary suppression), and
unchanged after the raw answers are purged."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from citedesmetiers.facts import key
from feedback import services
from feedback.models import FeedbackAnswer, FeedbackClaim, FeedbackHelp
from figures import reports, stats
from figures.feedback import feedback_section
from figures.history import seed_history
from tests.counselling_fixtures import in_english, theme  # noqa: F401 (a fixture)
from tests.feedback_fixtures import ANSWERS, desk_of, served_visit

pytestmark = pytest.mark.usefixtures("in_english")
PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2025, 3, 11)
MARCH = dt.date(2025, 3, 1)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS) + dt.timedelta(minutes=minute)


def answer(centre, counsellor, when: dt.datetime, **answers) -> None:
    visit = served_visit(centre.alpha, counsellor, at=when)
    services.answer_visit(
        token=visit.token,
        answers=services.Answers(**answers),
        now=visit.ended_at + dt.timedelta(hours=1),
    )


def a_day_of_answers(centre) -> None:
    """On DAY at Alpha: six visitors seen by partner A's counsellor answer, three by partner B's."""
    for i in range(6):
        answer(centre, centre.counsellor_a, at(9, 30 * i), got_what="yes", wait="fine")
    for i in range(3):
        answer(centre, centre.counsellor_b, at(13, 30 * i), got_what="no", wait="too_long")


def month(site) -> stats.Figures:
    return stats.read([site], MARCH, dt.date(2025, 4, 1))


def test_the_three_taps_on_the_phone_are_in_the_next_days_figures(mfa_enrolled, login):
    centre = mfa_enrolled
    visit = served_visit(centre.alpha, centre.counsellor_a)
    login(None).post(f"/t/{visit.token}/feedback/", ANSWERS)

    stats.aggregate_recent()  # the nightly run

    figures = stats.read([centre.alpha], visit.local_date, visit.local_date + dt.timedelta(days=1))
    e = theme(centre.alpha, "E").pk
    assert figures.totals["feedback_answers"] == {key(source="phone", theme=e): 1}
    assert figures.totals["feedback"][key(a="long", q="wait", source="phone", theme=e)] == 1
    assert figures.totals["feedback_partner_answers"] == {
        key(partner=centre.partner_a.pk, theme=e): 1
    }
    assert figures.totals["feedback_helped"] == {
        key(code="shorter_wait", source="phone", theme=e): 1
    }
    page = login(centre.manager).get("/manage/").content.decode()
    assert "What visitors said" in page
    assert "1 answer to the three closed questions" in page
    # One answer: its shares are not shown, nor a partner's.
    assert "Fewer than 5 answers" in page


def test_shares_by_theme_and_partner_from_five_answers_with_secondary_suppression(centre):
    a_day_of_answers(centre)
    stats.aggregate_day(centre.alpha, DAY)

    section = feedback_section(month(centre.alpha), {})

    assert section.answers == 9
    assert section.percent("got_what", "yes") == 67
    assert section.percent("wait", "too_long") == 33
    partners = {g.name: g for g in section.by_partner}
    # Partner B has 3 answers: hidden. Partner A's 6 could then tell B's from the total: hidden
    # too, as a bound.
    assert partners["Guidance centre"].answers == "< 5"
    assert partners["Guidance centre"].questions is None
    assert partners["Employment agency"].answers == "≤ 10"
    assert partners["Employment agency"].questions is None
    (theme_e,) = section.by_theme
    assert theme_e.answers == "9" and theme_e.questions[0].percent("yes") == 67


def test_a_partner_with_five_answers_and_another_shown_is_shown(centre):
    a_day_of_answers(centre)
    for i in range(2):  # partner B reaches 5
        answer(centre, centre.counsellor_b, at(16, 30 * i), got_what="partly")
    stats.aggregate_day(centre.alpha, DAY)

    partners = {g.name: g for g in feedback_section(month(centre.alpha), {}).by_partner}

    assert partners["Guidance centre"].answers == "5"
    assert partners["Guidance centre"].questions[0].percent("partly") == 40
    assert partners["Employment agency"].questions[0].percent("yes") == 100


def test_kiosk_answers_count_in_the_totals_but_in_no_theme_nor_partner(centre):
    for _ in range(5):
        services.answer_at_kiosk(
            site=centre.alpha, answers=services.Answers(recommend="yes"), now=at(17)
        )
    stats.aggregate_day(centre.alpha, DAY)

    section = feedback_section(month(centre.alpha), {})

    assert section.answers == 5
    assert section.by_source == [("exit kiosk", "5")]
    assert section.by_theme == [] and section.by_partner == []
    assert section.percent("recommend", "yes") == 100


def test_the_figures_are_the_same_after_the_raw_answers_are_purged(centre, settings):
    settings.RAW_RETENTION_DAYS = 5
    a_day_of_answers(centre)
    services.answer_at_kiosk(site=centre.alpha, answers=services.Answers(wait="fine"), now=at(18))
    stats.aggregate_day(centre.alpha, DAY)
    before = feedback_section(month(centre.alpha), {})
    report = reports.build(centre.alpha, MARCH)["feedback"]
    assert FeedbackHelp.objects.count() == 0 and FeedbackAnswer.objects.count() == 10

    stats.purge_raw(now=at(12, 0, DAY + dt.timedelta(days=10)))

    assert not FeedbackAnswer.objects.exists() and not FeedbackClaim.objects.exists()
    assert feedback_section(month(centre.alpha), {}) == before
    assert reports.build(centre.alpha, MARCH)["feedback"] == report
    assert before.answers == 10
    # A purged day aggregated again keeps its figures.
    stats.aggregate_day(centre.alpha, DAY)
    assert feedback_section(month(centre.alpha), {}) == before


def test_a_day_with_kiosk_answers_only_is_aggregated_before_its_purge(centre, settings):
    settings.RAW_RETENTION_DAYS = 5
    services.answer_at_kiosk(site=centre.alpha, answers=services.Answers(wait="fine"), now=at(11))

    stats.purge_raw(now=at(12, 0, DAY + dt.timedelta(days=10)))

    assert not FeedbackAnswer.objects.exists()
    assert feedback_section(month(centre.alpha), {}).answers == 1


def test_the_monthly_report_says_what_visitors_said(centre, settings):
    a_day_of_answers(centre)
    stats.aggregate_day(centre.alpha, DAY)

    html = reports.render_to_string("figures/report.html", reports.build(centre.alpha, MARCH))

    assert "What visitors said" in html
    assert "9 answers to the three closed questions" in html
    assert "hidden: fewer than 5 answers, or to protect a small group" in html
    assert "Got what they came for" in html


def test_the_demo_history_has_feedback(centre):
    desk_of(centre.alpha)
    seed_history(centre.alpha, 1)
    section = feedback_section(
        stats.read([centre.alpha], dt.date(2000, 1, 1), timezone.localdate()), {}
    )
    assert section.answers > 20 and section.shown
    assert any(g.questions for g in section.by_partner)
