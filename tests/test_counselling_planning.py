"""The presence plan's services and selectors: conflicts refused, bad input refused with nothing
changed, exceptions applied, wall-clock times across a change of summer time, the next walk-in
session of a theme, and two managers planning at once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from counselling import planning
from counselling.models import PlanException, PlanMode, PlannedSession
from counselling.planning import PlanError
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401  (fixture)
from tests.threads import needs_postgresql, together

pytestmark = pytest.mark.usefixtures("in_english")

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 3, 2)  # a Monday, weekday 0
Kind = PlanException.Kind


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


def plan(site, desk, partner, *letters, **overrides):
    fields = {
        "site": site,
        "desk_id": desk.pk,
        "partner_id": partner.pk,
        "theme_ids": [theme(site, letter).pk for letter in letters or ("E",)],
        "mode": PlanMode.WALK_IN,
        "weekday": 0,
        "starts": t(10),
        "ends": t(12),
        "valid_from": MONDAY,
    }
    fields.update(overrides)
    return planning.plan_session(**fields)


@pytest.fixture
def desks(centre):
    return make_desk(centre.alpha, "Desk 1", "E", "F"), make_desk(centre.alpha, "Desk 2", "E")


# --- Conflicts ------------------------------------------------------------------------------


def test_a_desk_planned_twice_at_once_is_refused(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a)
    with pytest.raises(PlanError, match=r"Desk 1 is already planned then: Monday, 10:00–12:00"):
        plan(centre.alpha, desks[0], centre.partner_b, starts=t(11), ends=t(13))
    assert PlannedSession.objects.count() == 1


def test_a_counsellor_planned_twice_at_once_is_refused(centre, desks):
    bob = centre.counsellor_a
    plan(centre.alpha, desks[0], centre.partner_a, counsellor_id=bob.pk)
    with pytest.raises(PlanError, match="This counsellor is already planned then"):
        plan(centre.alpha, desks[1], centre.partner_a, counsellor_id=bob.pk, starts=t(9))
    assert PlannedSession.objects.count() == 1


def test_adjacent_ranges_other_weekdays_and_other_desks_are_not_conflicts(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a, counsellor_id=centre.counsellor_a.pk)
    plan(centre.alpha, desks[0], centre.partner_a, starts=t(12), ends=t(14))
    plan(centre.alpha, desks[0], centre.partner_a, starts=t(8), ends=t(10))
    plan(centre.alpha, desks[0], centre.partner_a, weekday=1)
    plan(centre.alpha, desks[1], centre.partner_b, counsellor_id=centre.counsellor_b.pk)
    assert PlannedSession.objects.count() == 5


def test_different_validity_periods_are_not_conflicts(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a, valid_until=dt.date(2026, 3, 31))
    plan(centre.alpha, desks[0], centre.partner_b, valid_from=dt.date(2026, 4, 1))
    with pytest.raises(PlanError, match="already planned"):
        plan(centre.alpha, desks[0], centre.partner_b, valid_from=dt.date(2026, 3, 30))
    assert PlannedSession.objects.count() == 2


def test_an_open_ended_range_clashes_with_any_later_one(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a)
    with pytest.raises(PlanError, match="already planned"):
        plan(centre.alpha, desks[0], centre.partner_a, valid_from=dt.date(2030, 1, 7))


def test_an_extra_session_clashing_with_the_weekly_plan_is_refused_both_ways(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a)
    extra = {
        "site": centre.alpha,
        "kind": Kind.EXTRA_SESSION,
        "desk_id": desks[0].pk,
        "partner_id": centre.partner_b.pk,
        "theme_ids": [theme(centre.alpha, "E").pk],
        "mode": PlanMode.WALK_IN,
        "starts": t(11),
        "ends": t(13),
    }
    with pytest.raises(PlanError, match="Desk 1 is already planned then"):
        planning.add_exception(day=dt.date(2026, 3, 9), **extra)
    planning.add_exception(day=dt.date(2026, 3, 10), **extra)  # a Tuesday: free
    with pytest.raises(PlanError, match="Desk 1 is already planned then"):
        plan(centre.alpha, desks[0], centre.partner_a, weekday=1, starts=t(12), ends=t(14))
    with pytest.raises(PlanError, match="Desk 1 is already planned then"):
        planning.add_exception(day=dt.date(2026, 3, 10), **extra | {"starts": t(12)})
    assert PlanException.objects.count() == 1
    assert PlannedSession.objects.count() == 1


def test_changing_a_session_does_not_clash_with_itself_but_with_others(centre, desks):
    session = plan(centre.alpha, desks[0], centre.partner_a)
    plan(centre.alpha, desks[0], centre.partner_a, starts=t(14), ends=t(16))
    fields = {
        "desk_id": desks[0].pk,
        "partner_id": centre.partner_b.pk,
        "theme_ids": [theme(centre.alpha, "F").pk],
        "mode": PlanMode.APPOINTMENTS,
        "channels": ["video", "phone"],
        "weekday": 0,
        "starts": t(10),
        "ends": t(13),
        "valid_from": MONDAY,
    }
    planning.change_session(session_id=session.pk, **fields)
    session.refresh_from_db()
    assert (session.partner, session.mode, session.ends) == (
        centre.partner_b,
        PlanMode.APPOINTMENTS,
        t(13),
    )
    assert list(session.themes.all()) == [theme(centre.alpha, "F")]
    assert session.channels == ["phone", "video"]  # in the plan's order
    with pytest.raises(PlanError, match="already planned"):
        planning.change_session(session_id=session.pk, **fields | {"ends": t(15)})
    session.refresh_from_db()
    assert session.ends == t(13)


def test_ending_a_session_keeps_its_past(centre, desks):
    session = plan(centre.alpha, desks[0], centre.partner_a)
    planning.end_session(session_id=session.pk, last_day=dt.date(2026, 3, 16))
    assert PlannedSession.objects.get().valid_until == dt.date(2026, 3, 16)
    assert planning.sessions_on(centre.alpha, dt.date(2026, 3, 16))
    assert planning.sessions_on(centre.alpha, dt.date(2026, 3, 23)) == []
    with pytest.raises(PlanError, match="cannot come before the first"):
        planning.end_session(session_id=session.pk, last_day=dt.date(2026, 3, 1))
    with pytest.raises(PlanError, match="already ends on"):
        planning.end_session(session_id=session.pk, last_day=dt.date(2026, 4, 1))
    assert PlannedSession.objects.get().valid_until == dt.date(2026, 3, 16)


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends": t(9)}, "The end must come after the start."),
        ({"ends": t(10)}, "The end must come after the start."),
        ({"valid_until": dt.date(2026, 3, 1)}, "The last day cannot come before the first."),
        ({"desk_id": 999_999}, "This desk does not exist."),
        ({"partner_id": 999_999}, "This partner does not exist."),
        ({"counsellor_id": 999_999}, "This counsellor does not exist."),
        ({"theme_ids": [999_999]}, "not a theme of this site"),
        ({"theme_ids": []}, "Choose at least one theme."),
        ({"mode": "video"}, "Choose walk-in or appointments."),
        ({"mode": "appointments"}, "Say how the appointments are held"),
        ({"mode": "appointments", "channels": ["chat"]}, "held in person, by phone or by video"),
        ({"weekday": 7}, "Choose a day of the week."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(centre, desks, change, message):
    with pytest.raises(PlanError, match=message):
        plan(centre.alpha, desks[0], centre.partner_a, **change)
    assert not PlannedSession.objects.exists()


def test_a_desk_or_a_theme_of_another_site_is_refused(centre, desks):
    beta_desk = make_desk(centre.beta, "Desk 9", "E")
    with pytest.raises(PlanError, match="Desk 9 is a desk of another site"):
        plan(centre.alpha, beta_desk, centre.partner_a)
    with pytest.raises(PlanError, match="not a theme of this site"):
        plan(centre.alpha, desks[0], centre.partner_a, theme_ids=[theme(centre.beta, "E").pk])
    assert not PlannedSession.objects.exists()


def test_bad_exceptions_are_refused_and_change_nothing(centre, desks):
    alpha = centre.alpha
    with pytest.raises(PlanError, match="Choose the partner who is absent"):
        planning.add_exception(site=alpha, day=MONDAY, kind=Kind.PARTNER_ABSENT)
    with pytest.raises(PlanError, match="This desk does not exist"):
        planning.add_exception(site=alpha, day=MONDAY, kind=Kind.EXTRA_SESSION)
    with pytest.raises(PlanError, match="Give the start and the end"):
        planning.add_exception(
            site=alpha,
            day=MONDAY,
            kind=Kind.EXTRA_SESSION,
            desk_id=desks[0].pk,
            partner_id=centre.partner_a.pk,
            theme_ids=[theme(alpha, "E").pk],
            mode=PlanMode.WALK_IN,
        )
    planning.add_exception(site=alpha, day=MONDAY, kind=Kind.SITE_CLOSED)
    with pytest.raises(PlanError, match="This day already has this exception"):
        planning.add_exception(site=alpha, day=MONDAY, kind=Kind.SITE_CLOSED)
    absent = {"kind": Kind.PARTNER_ABSENT, "partner_id": centre.partner_a.pk}
    planning.add_exception(site=alpha, day=MONDAY, **absent)
    with pytest.raises(PlanError, match="This day already has this exception"):
        planning.add_exception(site=alpha, day=MONDAY, **absent)
    planning.add_exception(site=alpha, day=MONDAY, **absent | {"partner_id": centre.partner_b.pk})
    with pytest.raises(PlanError, match="Choose what happens that day"):
        planning.add_exception(site=alpha, day=MONDAY, kind="party")
    with pytest.raises(PlanError, match="This exception does not exist"):
        planning.remove_exception(exception_id=999_999)
    with pytest.raises(PlanError, match="This planned session does not exist"):
        planning.end_session(session_id=999_999, last_day=MONDAY)
    assert PlanException.objects.count() == 3


def test_the_database_refuses_an_incomplete_exception_or_a_backward_range(centre, desks):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanException.objects.create(site=centre.alpha, day=MONDAY, kind=Kind.PARTNER_ABSENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanException.objects.create(
            site=centre.alpha, day=MONDAY, kind=Kind.EXTRA_SESSION, desk=desks[0]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PlannedSession.objects.create(
            site=centre.alpha,
            desk=desks[0],
            partner=centre.partner_a,
            mode=PlanMode.WALK_IN,
            weekday=0,
            starts=t(12),
            ends=t(10),
            valid_from=MONDAY,
        )


# --- Exceptions, times and the next session -------------------------------------------------


def test_exceptions_close_the_day_drop_an_absent_partner_and_add_extra_sessions(centre, desks):
    alpha = centre.alpha
    plan(alpha, desks[0], centre.partner_a)
    plan(alpha, desks[1], centre.partner_b)
    day = dt.date(2026, 3, 9)
    assert len(planning.sessions_on(alpha, day)) == 2
    absence = planning.add_exception(
        site=alpha, day=day, kind=Kind.PARTNER_ABSENT, partner_id=centre.partner_a.pk
    )
    assert [o.desk_id for o in planning.sessions_on(alpha, day)] == [desks[1].pk]
    planning.add_exception(
        site=alpha,
        day=day,
        kind=Kind.EXTRA_SESSION,
        desk_id=desks[0].pk,
        partner_id=centre.partner_b.pk,
        theme_ids=[theme(alpha, "F").pk],
        mode=PlanMode.APPOINTMENTS,
        channels=["in_person"],
        starts=t(15),
        ends=t(17),
    )
    extra = planning.sessions_on(alpha, day)[-1]
    assert (extra.desk_id, extra.mode, extra.theme_ids, extra.channels) == (
        desks[0].pk,
        PlanMode.APPOINTMENTS,
        frozenset({theme(alpha, "F").pk}),
        ("in_person",),
    )
    planning.remove_exception(exception_id=absence.pk)
    assert len(planning.sessions_on(alpha, day)) == 3
    planning.add_exception(site=alpha, day=day, kind=Kind.PUBLIC_HOLIDAY, label="Easter")
    assert planning.sessions_on(alpha, day) == []
    assert len(planning.sessions_on(alpha, dt.date(2026, 3, 16))) == 2
    planning.add_exception(site=alpha, day=dt.date(2026, 3, 16), kind=Kind.SITE_CLOSED)
    assert planning.sessions_on(alpha, dt.date(2026, 3, 16)) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [(dt.date(2026, 3, 23), dt.date(2026, 3, 30)), (dt.date(2026, 10, 19), dt.date(2026, 10, 26))],
)
def test_a_session_stays_at_its_local_time_across_a_change_of_summer_time(
    centre, desks, before, after
):
    plan(centre.alpha, desks[0], centre.partner_a, starts=t(14), ends=t(16), valid_from=before)
    (first,), (second,) = (planning.sessions_on(centre.alpha, d) for d in (before, after))
    assert first.starts.astimezone(PARIS).time() == t(14) == second.starts.astimezone(PARIS).time()
    assert first.starts.utcoffset() == dt.timedelta(0)
    assert abs(first.starts.hour - second.starts.hour) == 1  # 13:00 / 12:00 UTC or back
    assert second.ends - second.starts == dt.timedelta(hours=2)


def test_next_served_is_the_first_walk_in_session_of_the_theme(centre, desks):
    alpha = centre.alpha
    e, f = theme(alpha, "E"), theme(alpha, "F")
    plan(alpha, desks[0], centre.partner_a, "E", weekday=1, starts=t(14), ends=t(17))
    plan(
        alpha,
        desks[1],
        centre.partner_b,
        "F",
        weekday=0,
        mode=PlanMode.APPOINTMENTS,
        channels=["phone"],
    )
    monday_noon = dt.datetime(2026, 3, 9, 12, tzinfo=PARIS)
    found = planning.next_served(alpha, e, after=monday_noon)
    assert found.starts == dt.datetime(2026, 3, 10, 14, tzinfo=PARIS)
    ongoing = dt.datetime(2026, 3, 10, 15, tzinfo=PARIS)
    assert planning.next_served(alpha, e, after=ongoing).starts == found.starts
    after_it = dt.datetime(2026, 3, 10, 17, tzinfo=PARIS)
    assert planning.next_served(alpha, e, after=after_it).starts == dt.datetime(
        2026, 3, 17, 14, tzinfo=PARIS
    )
    assert planning.next_served(alpha, f, after=monday_noon) is None  # appointments only
    planning.add_exception(site=alpha, day=dt.date(2026, 3, 10), kind=Kind.SITE_CLOSED)
    assert planning.next_served(alpha, e, after=monday_noon).starts.date() == dt.date(2026, 3, 17)
    assert planning.next_served(alpha, e, after=monday_noon, horizon_days=5) is None


# --- Two managers at once -------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_conflicting_plans_at_once_save_exactly_one(centre):
    desk = make_desk(centre.alpha, "Desk 1", "E")

    def attempt(partner, starts):
        try:
            return plan(centre.alpha, desk, partner, starts=starts)
        except PlanError as refusal:
            return refusal

    for _ in range(5):
        results = together(
            lambda: attempt(centre.partner_a, t(10)), lambda: attempt(centre.partner_b, t(11))
        )
        assert sorted(type(r).__name__ for r in results) == ["PlanError", "PlannedSession"]
        assert PlannedSession.objects.count() == 1
        PlannedSession.objects.all().delete()


def test_a_conflict_is_explained_in_french(centre, desks):
    plan(centre.alpha, desks[0], centre.partner_a)
    with translation.override("fr"), pytest.raises(PlanError) as refused:
        plan(centre.alpha, desks[0], centre.partner_b)
    assert str(refused.value) == "Desk 1 est déjà prévu à ce moment-là\u00a0: lundi, 10:00–12:00."
