"""Desks left open overnight: the day-close job closes them at their day's closing time, so that
nobody finds a desk “already open for a colleague” in the morning.

Site Gamma opens every day 09:30–12:30 and 13:30–17:30, Paris time; “today” is Wednesday 6 May
2026."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from citedesmetiers.roles import Role
from counselling import services
from counselling.models import DeskSession, Interview
from counselling.stats import daily_facts
from figures import reports, stats
from figures.models import DailyStat
from figures.tasks import close_finished_days
from reception import services as reception
from reception.models import Visit
from reception.queues import _service_minutes
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session
from tests.day_fixtures import TODAY, YESTERDAY, at, fixture_gamma  # noqa: F401 (a fixture)


@pytest.fixture
def bob(gamma):
    return make_staff("bob@gamma.test", Role.COUNSELLOR, gamma)


@pytest.fixture
def desk(gamma):
    return make_desk(gamma, "Desk 1", "E")


def walk_in(site, moment) -> Visit:
    visit, _created = reception.check_in(
        site=site, theme_id=site.themes.get(letter="E").pk, now=moment
    )
    return visit


def left_in_interview(gamma, bob, desk) -> tuple[DeskSession, Visit]:
    """Bob opened Desk 1 yesterday, started an interview, paused, and went home."""
    session = open_session(bob, desk, at(9, 30, YESTERDAY))
    visit = walk_in(gamma, at(10, day=YESTERDAY))
    who = {"session_id": session.pk, "counsellor": bob}
    services.call_next(**who, now=at(10, 5, YESTERDAY))
    services.start_interview(**who, visit_id=visit.pk, now=at(10, 6, YESTERDAY))
    services.pause_desk(**who, now=at(12, 0, YESTERDAY))
    return session, visit


def test_a_desk_left_open_in_interview_closes_at_that_days_closing(gamma, bob, desk):
    session, visit = left_in_interview(gamma, bob, desk)

    days = services.close_forgotten_desks(site=gamma, now=at(0, 15))

    assert days == {YESTERDAY}
    session.refresh_from_db()
    assert (session.closed_at, session.paused_since) == (at(17, 30, YESTERDAY), None)
    interview = Interview.objects.get(visit=visit)
    assert (interview.ended_at, interview.ended_by_day_close) == (at(17, 30, YESTERDAY), True)
    assert not interview.outcomes.exists()  # nothing is made up about what was said
    visit.refresh_from_db()
    assert (visit.status, visit.ended_at, visit.desk) == (
        Visit.Status.DONE,
        at(17, 30, YESTERDAY),
        None,
    )
    # A colleague can sit at the desk this morning.
    carol = make_staff("carol@gamma.test", Role.COUNSELLOR, gamma)
    assert open_session(carol, desk, at(9, 30)).desk == desk

    # Running it again changes nothing.
    before = list(DeskSession.objects.values_list("pk", "closed_at", "paused_since"))
    assert services.close_forgotten_desks(site=gamma, now=at(0, 30)) == set()
    assert list(DeskSession.objects.values_list("pk", "closed_at", "paused_since")) == before


def test_a_desk_opened_today_stays_open_after_closing(gamma, bob, desk):
    """Counsellors may stay on for late arrivals: today's desks are theirs to close."""
    session = open_session(bob, desk, at(9, 30))
    visit = walk_in(gamma, at(17, 0))
    services.call_next(session_id=session.pk, counsellor=bob, now=at(17, 40))

    assert services.close_forgotten_desks(site=gamma, now=at(18, 0)) == set()

    session.refresh_from_db()
    visit.refresh_from_db()
    assert session.closed_at is None
    assert (visit.status, visit.desk) == (Visit.Status.CALLED, desk)


@pytest.mark.parametrize(
    ("called", "closed"),
    [((17, 20), (17, 30)), ((17, 40), (17, 40))],  # a late arrival, called after closing
    ids=["before closing", "after closing"],
)
def test_a_visitor_still_called_at_a_forgotten_desk_is_left_at_closing(
    gamma, bob, desk, monkeypatch, called, closed
):
    session = open_session(bob, desk, at(9, 30, YESTERDAY))
    visit, _created = reception.check_in(
        site=gamma,
        theme_id=gamma.themes.get(letter="E").pk,
        now=at(17, 10, YESTERDAY),
        override_hours=True,
    )
    services.call_next(session_id=session.pk, counsellor=bob, now=at(*called, day=YESTERDAY))
    monkeypatch.setattr(timezone, "now", lambda: at(0, 15).astimezone(dt.UTC))

    close_finished_days.apply().get()

    visit.refresh_from_db()
    assert (visit.status, visit.left_how, visit.ended_at, visit.desk) == (
        Visit.Status.LEFT,
        Visit.LeftHow.AT_CLOSING,
        at(*closed, day=YESTERDAY),
        None,
    )
    session.refresh_from_db()
    assert session.closed_at == at(*closed, day=YESTERDAY)


def test_a_desk_left_open_yesterday_but_used_today_is_its_counsellors_to_close(gamma, bob, desk):
    """The job did not run overnight and Bob carried on this morning at the same desk."""
    session = open_session(bob, desk, at(9, 30, YESTERDAY))
    visit = walk_in(gamma, at(9, 40))
    who = {"session_id": session.pk, "counsellor": bob}
    services.call_next(**who, now=at(9, 45))
    services.start_interview(**who, visit_id=visit.pk, now=at(9, 46))

    assert services.close_forgotten_desks(site=gamma, now=at(10, 0)) == set()

    session.refresh_from_db()
    visit.refresh_from_db()
    assert session.closed_at is None
    assert (visit.status, visit.desk) == (Visit.Status.IN_INTERVIEW, desk)
    assert Interview.objects.get(visit=visit).ended_at is None


@pytest.mark.parametrize("action", ["resume", "pause", "finish"])
def test_acting_on_yesterdays_desk_this_morning_counts_as_using_it(gamma, bob, desk, action):
    """The job did not run overnight; Bob's first act this morning is on yesterday's desk."""
    session, visit = left_in_interview(gamma, bob, desk)  # paused yesterday
    who = {"session_id": session.pk, "counsellor": bob}
    if action == "pause":
        services.resume_desk(**who, now=at(12, 30, YESTERDAY))
        services.pause_desk(**who, now=at(9, 0))
    else:
        services.resume_desk(**who, now=at(9, 0))
    if action == "finish":
        services.finish_interview(**who, visit_id=visit.pk, now=at(9, 5))

    assert services.close_forgotten_desks(site=gamma, now=at(9, 15)) == set()
    session.refresh_from_db()
    assert session.closed_at is None


def test_an_interview_finished_only_the_next_morning_has_no_length_in_the_figures(gamma, bob, desk):
    session, visit = left_in_interview(gamma, bob, desk)
    who = {"session_id": session.pk, "counsellor": bob}
    services.resume_desk(**who, now=at(9, 0))
    services.finish_interview(**who, visit_id=visit.pk, now=at(9, 5))

    facts = {(f.metric, f.value) for f in daily_facts(gamma, YESTERDAY)}
    assert ("interviews", 1) in facts and ("interviews_untimed", 1) in facts
    assert not any(metric == "interview_seconds" for metric, _value in facts)


def test_a_desk_carried_over_then_forgotten_closes_at_the_closing_of_its_last_day(gamma, bob, desk):
    """Opened two days ago, used yesterday morning (the job was down), forgotten since."""
    session = open_session(bob, desk, at(9, 30, YESTERDAY - dt.timedelta(days=1)))
    visit = walk_in(gamma, at(10, 50, YESTERDAY))
    services.call_next(session_id=session.pk, counsellor=bob, now=at(11, 0, YESTERDAY))
    services.mark_no_show(session_id=session.pk, counsellor=bob, now=at(11, 5, YESTERDAY))

    assert services.close_forgotten_desks(site=gamma, now=at(0, 15)) == set()

    session.refresh_from_db()
    assert session.closed_at == at(17, 30, YESTERDAY)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.NO_SHOW


def test_the_day_close_job_closes_forgotten_desks_and_counts_their_interviews(
    gamma, bob, desk, monkeypatch
):
    session, visit = left_in_interview(gamma, bob, desk)
    # The job reads the clock itself (Celery passes no arguments): 00:15 this morning in Paris.
    monkeypatch.setattr(timezone, "now", lambda: at(0, 15).astimezone(dt.UTC))

    close_finished_days.apply().get()

    session.refresh_from_db()
    assert session.closed_at == at(17, 30, YESTERDAY)
    assert services.current_visit(session) is None

    # Yesterday's figures are aggregated again: the interview counts, its made-up length does
    # not (it would make the average interview seven hours long).
    def figure(metric):
        stats = DailyStat.objects.filter(site=gamma, day=YESTERDAY, metric=metric)
        return sum(stats.values_list("value", flat=True))

    assert (figure("interviews"), figure("interviews_untimed")) == (1, 1)
    assert figure("interview_seconds") == 0
    assert figure("walk_seconds") == 60  # 10:05 → 10:06
    month = reports.key_figures(stats.read([gamma], YESTERDAY, TODAY))
    assert (month["interviews"], month["interview_minutes"]) == (1, None)


def test_interviews_of_forgotten_desks_do_not_lengthen_the_wait_estimates(gamma, bob, desk):
    session = open_session(bob, desk, at(9, 30, YESTERDAY))
    e = gamma.themes.get(letter="E")

    def interview(start, minutes, **extra):
        Interview.objects.create(
            visit=walk_in(gamma, start),
            session=session,
            desk=desk,
            counsellor=bob,
            theme=e,
            started_at=start,
            ended_at=start + dt.timedelta(minutes=minutes),
            **extra,
        )

    for hour in (10, 11, 14):
        interview(at(hour, day=YESTERDAY), 20)
    interview(at(15, day=YESTERDAY), 150, ended_by_day_close=True)
    interview(at(16, day=YESTERDAY), 17 * 60)  # finished the next morning

    per_theme, site_mean = _service_minutes(gamma, at(9, 0))

    assert per_theme == {e.pk: 20} and site_mean == 20
