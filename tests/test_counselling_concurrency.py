"""Call next under real concurrency: real threads, real transactions, real PostgreSQL.

Django's TestCase wraps each test in one transaction and SQLite ignores SELECT … FOR UPDATE, so a
race "passes" there whatever the code does. These tests only mean something on PostgreSQL, which
CI runs the whole suite against as well; on other databases they are skipped, not faked."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction

from citedesmetiers.roles import Role
from counselling import services
from counselling.models import DeskSession, Interview, Outcome
from reception import services as reception
from reception.models import Call, Visit
from tests.conftest import make_staff
from tests.counselling_fixtures import T0, make_desk, open_session, queue_visit, theme
from tests.threads import in_background, together

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Races need real row locks: run with DATABASE_URL=postgres://… (CI does).",
    ),
    pytest.mark.django_db(transaction=True),
]

DESKS = 20
VISITS = 500
CALLS_PER_DESK = 50
BARRIER_TIMEOUT = 60


def waiting_visits(site, count: int) -> None:
    """`count` visits waiting for two themes, each with its own arrival time (one per second,
    alternating themes), as reception would have made them."""
    themes = [theme(site, "E"), theme(site, "F")]
    Visit.objects.bulk_create(
        Visit(
            site=site,
            theme=themes[n % 2],
            first_theme=themes[n % 2],
            local_date=T0.date(),
            letter=themes[n % 2].letter,
            number=n + 1,
            arrived_at=T0 + dt.timedelta(seconds=n),
            queued_at=T0 + dt.timedelta(seconds=n),
        )
        for n in range(count)
    )


def test_twenty_desks_calling_at_once_call_every_visitor_once_oldest_first(centre):
    alpha = centre.alpha
    waiting_visits(alpha, VISITS)
    sessions = [
        open_session(
            make_staff(f"counsellor{n}@alpha.test", Role.COUNSELLOR, alpha),
            make_desk(alpha, f"Desk {n}", "E", "F", order=n),
        )
        for n in range(DESKS)
    ]
    called: dict[int, list[Visit]] = defaultdict(list)  # desk id → visits, in calling order

    def desk_worker(session: DeskSession):
        def work():
            who = {"session_id": session.pk, "counsellor": session.counsellor}
            for _ in range(CALLS_PER_DESK):
                visit = services.call_next(**who)
                if visit is None:
                    return
                called[session.desk_id].append(visit)
                services.start_interview(**who, visit_id=visit.pk)
                services.finish_interview(
                    **who, visit_id=visit.pk, outcomes=[Outcome.Code.INFORMATION]
                )

        return work

    # Nothing surfaced: no IntegrityError from the constraints, no refusal, no deadlock.
    together(*(desk_worker(session) for session in sessions), timeout=2 * BARRIER_TIMEOUT)

    # Every visit called exactly once, and seen through to the end.
    everyone = [visit.pk for visits in called.values() for visit in visits]
    assert len(everyone) == VISITS
    assert len(set(everyone)) == VISITS
    calls_per_visit = Counter(
        Call.objects.filter(kind=Call.Kind.CALL).values_list("visit_id", flat=True)
    )
    assert len(calls_per_visit) == VISITS
    assert set(calls_per_visit.values()) == {1}
    assert set(Visit.objects.values_list("status", flat=True)) == {Visit.Status.DONE}
    assert Interview.objects.filter(ended_at__isnull=False).count() == VISITS
    assert not Interview.objects.filter(ended_at__isnull=True).exists()

    # Each desk called oldest-first: the arrival times of its successive calls increase.
    for visits in called.values():
        arrivals = [visit.queued_at for visit in visits]
        assert arrivals == sorted(arrivals)
        assert len(set(arrivals)) == len(arrivals)

    # Nobody held two visitors: at each desk, an interview ended before the next call.
    for session in sessions:
        calls = list(Call.objects.filter(desk=session.desk).order_by("at", "pk"))
        interviews = {i.visit_id: i for i in Interview.objects.filter(desk=session.desk)}
        assert [c.visit_id for c in calls] == [v.pk for v in called[session.desk_id]]
        for call, next_call in zip(calls, calls[1:], strict=False):
            assert interviews[call.visit_id].ended_at <= next_call.at
        # Calls and interviews agree on who was at which desk.
        assert set(interviews) == {c.visit_id for c in calls}


@pytest.mark.parametrize("round_", range(5))
def test_two_desks_pressing_together_for_one_visitor(centre, round_):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    sessions = [
        open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E")),
        open_session(centre.counsellor_b, make_desk(alpha, "Desk 2", "E", "F")),
    ]
    results: dict[int, Visit | None] = {}

    def press(session):
        def work():
            results[session.pk] = services.call_next(
                session_id=session.pk, counsellor=session.counsellor
            )

        return work

    together(*(press(session) for session in sessions), timeout=2 * BARRIER_TIMEOUT)

    winners = [s for s in sessions if results[s.pk] is not None]
    assert len(winners) == 1
    assert results[winners[0].pk] == visit
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CALLED
    assert visit.desk_id == winners[0].desk_id
    assert Call.objects.filter(visit=visit).count() == 1


@pytest.mark.parametrize("round_", range(3))
def test_finish_and_call_next_racing_a_call_next_for_the_last_visitor(centre, round_):
    """Desk 1 finishes and calls next while desk 2 presses call next; one visitor waits. One of
    them gets the visitor, once; a double click of desk 1 finishes once."""
    alpha = centre.alpha
    in_interview = queue_visit(alpha, "E", T0)
    last = queue_visit(alpha, "E", T0 + dt.timedelta(minutes=1))
    first = open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    second = open_session(centre.counsellor_b, make_desk(alpha, "Desk 2", "E"))
    services.call_next(session_id=first.pk, counsellor=centre.counsellor_a)
    services.start_interview(
        session_id=first.pk, counsellor=centre.counsellor_a, visit_id=in_interview.pk
    )
    results: list = []

    def finish_and_call_next():
        try:
            results.append(
                services.finish_and_call_next(
                    session_id=first.pk,
                    counsellor=centre.counsellor_a,
                    visit_id=in_interview.pk,
                    outcomes=[Outcome.Code.INFORMATION],
                ).called
            )
        except services.CounsellingError as refusal:
            results.append(str(refusal))

    def call_next():
        results.append(services.call_next(session_id=second.pk, counsellor=centre.counsellor_b))

    together(finish_and_call_next, finish_and_call_next, call_next, timeout=2 * BARRIER_TIMEOUT)

    # One refusal (the threads speak the site's default language, not the test's).
    assert len([r for r in results if isinstance(r, str)]) == 1
    assert [r for r in results if isinstance(r, Visit)] == [last]
    in_interview.refresh_from_db()
    assert in_interview.status == Visit.Status.DONE
    assert Interview.objects.get(visit=in_interview).outcomes.count() == 1
    last.refresh_from_db()
    assert last.status == Visit.Status.CALLED
    assert Call.objects.filter(visit=last).count() == 1


def test_finish_and_call_next_waits_for_the_desk_and_sees_a_pause_made_meanwhile(centre):
    """The counsellor pauses the desk in another tab while "finish and call next" is on its way:
    the button's transaction waits for the desk's lock, then reads the desk as it is now (paused)
    and only finishes."""
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    waiting = queue_visit(alpha, "E", T0 + dt.timedelta(minutes=1))
    session = open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    who = {"session_id": session.pk, "counsellor": centre.counsellor_a}
    services.call_next(**who)
    services.start_interview(**who, visit_id=visit.pk)

    def press():
        return services.finish_and_call_next(
            **who, visit_id=visit.pk, outcomes=[Outcome.Code.INFORMATION]
        )

    with transaction.atomic():
        # The other tab's pause holds the desk session's lock until it commits.
        DeskSession.objects.select_for_update().get(pk=session.pk)
        button = in_background(press, timeout=BARRIER_TIMEOUT, waits_for_locks=True)
        button.wait_until_blocked()
        DeskSession.objects.filter(pk=session.pk).update(paused_since=T0)

    result = button.join()
    assert isinstance(result, services.FinishedAndCalled), result
    assert (result.called, result.paused) == (None, True)
    visit.refresh_from_db()
    waiting.refresh_from_db()
    assert (visit.status, waiting.status) == (Visit.Status.DONE, Visit.Status.WAITING)
    assert not Call.objects.filter(visit=waiting).exists()


@pytest.mark.parametrize("action", ["start_interview", "recall", "mark_no_show", "hand_back"])
def test_reception_marking_a_called_visitor_left_meanwhile_wins_cleanly(centre, action):
    """The day closes (the job marks the called visitor “left at closing”) while the counsellor
    presses a button.
    Whatever the order, the visit ends up left, and the desk holds nobody and no open interview
    (else the counsellor could never start another interview)."""

    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    session = open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    services.call_next(session_id=session.pk, counsellor=centre.counsellor_a)

    def press():
        try:
            getattr(services, action)(
                session_id=session.pk, counsellor=centre.counsellor_a, visit_id=visit.pk
            )
            return "done"
        except services.CounsellingError:
            return "refused"

    with transaction.atomic():
        # The next day's close job closes the called visit; its UPDATE holds the row lock.
        assert reception.close_day(site=alpha, now=T0 + dt.timedelta(days=1)) == 1
        counsellor = in_background(press, timeout=BARRIER_TIMEOUT, waits_for_locks=True)
        counsellor.wait_until_blocked()

    # The counsellor is told their page is out of date (the visitor is not theirs any more).
    assert counsellor.join() == "refused"
    visit.refresh_from_db()
    assert (visit.status, visit.desk_id) == (Visit.Status.LEFT, None)
    assert not Interview.objects.filter(ended_at__isnull=True).exists()
    assert services.current_visit(session) is None
    assert list(Call.objects.values_list("kind", flat=True)) == [Call.Kind.CALL]
