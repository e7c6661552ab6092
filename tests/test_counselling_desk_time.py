"""Where a sitting's time went — serving, paused, idle with nobody waiting, idle while visitors
waited — from the pauses the desk records and the day's raw rows; and the day figures that keep
it by desk and partner, with the hours the plan gave them."""

from __future__ import annotations

import datetime as dt

import pytest

from citedesmetiers.clock import local_day_bounds
from citedesmetiers.facts import parse_key
from counselling import selectors, services
from counselling.desk_time import DeskTime, desk_times
from counselling.models import DeskPause, DeskSession, Outcome, PlanMode
from counselling.planning import plan_session
from figures import reports
from figures.stats import aggregate_day, read
from tests.counselling_actions import alpha_desks, call_next, finish, start
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    minutes,
    open_session,
    queue_visit,
    theme,
)

pytestmark = pytest.mark.usefixtures("in_english")


def pause(session, at):
    services.pause_desk(session_id=session.pk, counsellor=session.counsellor, now=at)


def resume(session, at):
    services.resume_desk(session_id=session.pk, counsellor=session.counsellor, now=at)


def close(session, at):
    services.close_desk(session_id=session.pk, counsellor=session.counsellor, now=at)


def times_of(session) -> DeskTime:
    session = (
        DeskSession.objects.select_related("desk")
        .prefetch_related("themes", "desk__themes")
        .get(pk=session.pk)
    )
    day = local_day_bounds(session.desk.site.zone, T0.date())
    return desk_times([session], day)[session.pk]


def a_morning(centre, desks):
    """Bob at the jobs desk 9:00–10:10: a visitor from 9:10 called at 9:15 and seen 9:17–9:35;
    a pause 9:40–9:50 while another arrives at 9:45, called at 9:55, gone at 10:00."""
    at = lambda m: T0 + minutes(m)  # noqa: E731
    session = open_session(centre.counsellor_a, desks.jobs, at(0))
    first = queue_visit(centre.alpha, "E", at(10))
    assert call_next(session, now=at(15)) == first
    start(session, first, now=at(17))
    finish(session, first, now=at(35))
    pause(session, at(40))
    second = queue_visit(centre.alpha, "E", at(45))
    resume(session, at(50))
    assert call_next(session, now=at(55)) == second
    services.mark_no_show(
        session_id=session.pk, counsellor=session.counsellor, visit_id=second.pk, now=at(60)
    )
    close(session, at(70))
    return session


def plan_the_jobs_desk(centre, desks) -> None:
    """The plan gives the jobs desk to partner A on T0's weekday, 9:00–12:00, for walk-ins."""
    plan_session(
        site=centre.alpha,
        desk_id=desks.jobs.pk,
        partner_id=centre.partner_a.pk,
        weekday=T0.weekday(),
        starts=dt.time(9),
        ends=dt.time(12),
        mode=PlanMode.WALK_IN,
        theme_ids=[theme(centre.alpha, "E").pk],
        valid_from=T0.date(),
    )


def test_it_splits_a_sitting_into_serving_paused_and_two_kinds_of_idle(centre):
    session = a_morning(centre, alpha_desks(centre))

    t = times_of(session)

    assert t == DeskTime(
        serving=(20 + 5) * 60,  # 9:15–9:35 with the first, 9:55–10:00 calling the second
        paused=10 * 60,
        idle_empty=(10 + 5 + 10) * 60,  # before 9:10, 9:35–9:40, after 10:00
        idle_waiting=(5 + 5) * 60,  # 9:10–9:15, and 9:50–9:55 (the wait during the pause is paused)
    )
    assert t.open == 70 * 60


def test_it_keeps_each_pause_and_ends_the_one_in_progress_at_closing(centre):
    desks = alpha_desks(centre)
    session = open_session(centre.counsellor_a, desks.jobs, T0)
    pause(session, T0 + minutes(5))
    pause(session, T0 + minutes(6))  # a second press changes nothing
    resume(session, T0 + minutes(15))
    pause(session, T0 + minutes(20))
    close(session, T0 + minutes(30))

    pauses = list(DeskPause.objects.filter(session=session).values_list("started_at", "ended_at"))
    assert sorted(pauses) == [
        (T0 + minutes(5), T0 + minutes(15)),
        (T0 + minutes(20), T0 + minutes(30)),
    ]
    assert times_of(session) == DeskTime(
        serving=0, paused=20 * 60, idle_empty=10 * 60, idle_waiting=0
    )


def test_visitors_of_other_themes_do_not_make_a_desk_idle_while_waiting(centre):
    desks = alpha_desks(centre)
    session = open_session(centre.counsellor_a, desks.jobs, T0)  # serves E only
    queue_visit(centre.alpha, "A", T0 + minutes(5))  # waits all along, for another theme
    close(session, T0 + minutes(30))

    assert times_of(session) == DeskTime(serving=0, paused=0, idle_empty=30 * 60, idle_waiting=0)


def test_a_referred_visitor_waits_again_for_the_new_theme_from_the_interview_end(centre):
    desks = alpha_desks(centre)
    at = lambda m: T0 + minutes(m)  # noqa: E731
    jobs = open_session(centre.counsellor_a, desks.jobs, at(0))
    training = open_session(centre.counsellor_b, desks.training, at(0))
    visit = queue_visit(centre.alpha, "E", at(0))
    assert call_next(jobs, now=at(0)) == visit
    start(jobs, visit, now=at(1))
    finish(
        jobs,
        visit,
        outcomes=[Outcome.Code.REFERRED_DESK],
        refer_theme_id=theme(centre.alpha, "F").pk,
        referral_reason="other_view",
        now=at(10),
    )
    assert call_next(training, now=at(25)) == visit
    start(training, visit, now=at(26))
    finish(training, visit, now=at(40))
    close(jobs, at(40))
    close(training, at(40))

    assert times_of(training) == DeskTime(
        serving=15 * 60, paused=0, idle_empty=10 * 60, idle_waiting=15 * 60
    )
    assert times_of(jobs) == DeskTime(serving=10 * 60, paused=0, idle_empty=30 * 60, idle_waiting=0)


def test_the_day_figures_keep_desk_time_by_desk_and_partner_with_the_hours_planned(centre):
    desks = alpha_desks(centre)
    plan_the_jobs_desk(centre, desks)
    a_morning(centre, desks)

    aggregate_day(centre.alpha, T0.date())

    f = read([centre.alpha], T0.date(), T0.date() + dt.timedelta(days=1))
    desk, partner = str(desks.jobs.pk), str(centre.partner_a.pk)
    assert f.by("planned_seconds", "partner") == {partner: 3 * 3600}
    assert f.by("sittings", "desk") == {desk: 1}
    parts = {
        parse_key(k)["part"]: n
        for k, n in f.totals["desk_seconds"].items()
        if parse_key(k) | {"part": ""} == {"desk": desk, "partner": partner, "part": ""}
    }
    assert parts == {"serving": 1500, "paused": 600, "idle_empty": 1500, "idle_waiting": 600}


def test_the_dashboard_and_the_report_show_the_partners_presence(mfa_enrolled, login):
    centre = mfa_enrolled
    desks = alpha_desks(centre)
    plan_the_jobs_desk(centre, desks)
    a_morning(centre, desks)
    aggregate_day(centre.alpha, T0.date())

    page = login(centre.manager).get("/manage/?month=2025-03")

    assert page.status_code == 200
    presence = page.context["presence"]
    # 3 h planned, 70 min open (39 %), 25 min with a visitor, 10 min idle while one waited.
    assert presence["partners"] == [
        {
            "name": "Employment agency",
            "planned": 3.0,
            "open": 1.2,
            "serving": 0.4,
            "idle_waiting": 0.2,
            "presence": 39,
        }
    ]
    assert presence["desks"] == [
        {
            "name": "Desk 1",
            "open": 1.2,
            "serving": 0.4,
            "paused": 0.2,
            "idle_empty": 0.4,
            "idle_waiting": 0.2,
            "serving_share": 36,
        }
    ]
    html = page.content.decode()
    assert "The partners' presence at the desks" in html
    assert "Idle while visitors waited" in html
    comparison = {str(label): now for label, now, _ in page.context["comparison"]}
    assert (comparison["Left before being called"], comparison["Called, did not come"]) == (0, 1)
    assert reports.build(centre.alpha, T0.date())["presence"] == presence


def test_my_day_lists_my_sittings_with_where_their_time_went(centre, login):
    desks = alpha_desks(centre)
    session = a_morning(centre, desks)
    open_session(centre.counsellor_b, desks.mixed, T0)  # a colleague's

    sittings = selectors.sittings_today(centre.counsellor_a, centre.alpha, now=T0 + minutes(90))

    assert [(s.pk, t.minutes) for s, t in sittings] == [(session.pk, [70, 25, 10, 25, 10])]


def test_my_day_just_after_local_midnight_is_the_new_local_day(centre):
    """At 00:30 in Paris it is still yesterday in UTC: the sitting opened at 00:10 is today's."""
    desks = alpha_desks(centre)
    midnight = dt.datetime(2026, 12, 7, tzinfo=centre.alpha.zone)
    session = open_session(centre.counsellor_a, desks.jobs, midnight + minutes(10))

    sittings = selectors.sittings_today(
        centre.counsellor_a, centre.alpha, now=midnight + minutes(30)
    )

    assert [s.pk for s, _t in sittings] == [session.pk]
    with pytest.raises(TypeError):
        local_day_bounds(centre.alpha.zone, midnight)  # an instant is not a day


def test_my_day_shows_the_sitting_in_progress(centre, login):
    desks = alpha_desks(centre)
    open_session(centre.counsellor_a, desks.jobs)

    page = login(centre.counsellor_a).get("/desk/day/")

    assert page.status_code == 200
    [(session, t)] = page.context["sittings"]
    assert session.desk == desks.jobs and session.closed_at is None
    html = page.content.decode()
    assert "My sittings today" in html and "Desk 1" in html
