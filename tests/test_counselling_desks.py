"""A counsellor's sitting at a desk: open, pause, resume, close; actions from a stale page or on
another desk's visitor; handing a visitor back. Every refusal leaves the database as it was."""

from __future__ import annotations

import pytest

from counselling import services
from counselling.models import DeskSession, Interview
from reception.models import Call, Visit
from tests.counselling_actions import (
    alpha_desks,
    call_next,
    close,
    finish,
    hand_back,
    snapshot,
    start,
)
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    make_desk,
    minutes,
    open_session,
    queue_visit,
    refresh,
)

pytestmark = pytest.mark.usefixtures("in_english")

Error = services.CounsellingError


@pytest.fixture
def desks(centre):
    return alpha_desks(centre)


# --- opening, pausing, closing -------------------------------------------------------------------


def test_it_opens_a_desk_and_records_the_counsellors_partner(centre, desks):
    session = open_session(centre.counsellor_a, desks.jobs, T0)
    assert session.desk == desks.jobs
    assert session.partner == centre.partner_a
    assert session.opened_at == T0
    assert session.is_open and not session.is_paused


def test_it_refuses_a_second_counsellor_on_an_open_desk(centre, desks):
    open_session(centre.counsellor_a, desks.jobs)
    with pytest.raises(Error, match="already open for a colleague"):
        open_session(centre.counsellor_b, desks.jobs)
    assert DeskSession.objects.filter(desk=desks.jobs).count() == 1
    assert not DeskSession.objects.filter(counsellor=centre.counsellor_b).exists()


def test_it_refuses_a_second_desk_to_a_counsellor_who_has_one_open(centre, desks):
    open_session(centre.counsellor_a, desks.jobs)
    with pytest.raises(Error, match="already have a desk open"):
        open_session(centre.counsellor_a, desks.mixed)
    assert DeskSession.objects.filter(counsellor=centre.counsellor_a).count() == 1
    assert not DeskSession.objects.filter(desk=desks.mixed).exists()


def test_it_refuses_a_desk_that_is_not_in_use(centre):
    unused = make_desk(centre.alpha, "Desk 9", "E", active=False)
    with pytest.raises(Error, match="not in use"):
        open_session(centre.counsellor_a, unused)
    assert not DeskSession.objects.exists()


def test_a_closed_desk_can_be_opened_again_by_a_colleague(centre, desks):
    first = open_session(centre.counsellor_a, desks.jobs, T0)
    close(first, now=T0 + minutes(60))
    second = open_session(centre.counsellor_b, desks.jobs, T0 + minutes(61))
    assert refresh(first).closed_at == T0 + minutes(60)
    assert second.is_open and second.partner == centre.partner_b


def test_a_paused_desk_does_not_call_until_it_resumes(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a, now=T0)
    assert refresh(session).paused_since == T0
    before = snapshot()
    with pytest.raises(Error, match="paused"):
        call_next(session)
    with pytest.raises(Error, match="paused"):
        services.call_ticket(
            session_id=session.pk,
            counsellor=centre.counsellor_a,
            visit_id=visit.pk,
            reason=Call.OutOfOrder.OTHER,
        )
    assert snapshot() == before

    services.resume_desk(session_id=session.pk, counsellor=centre.counsellor_a)
    assert refresh(session).paused_since is None
    assert call_next(session) == visit


def test_pausing_twice_keeps_the_first_pause(centre, desks):
    session = open_session(centre.counsellor_a, desks.jobs)
    services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a, now=T0)
    services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a, now=T0 + minutes(5))
    assert refresh(session).paused_since == T0


@pytest.mark.parametrize("started", [False, True], ids=["called", "in_interview"])
def test_it_refuses_to_close_while_the_desk_holds_a_visitor(centre, desks, started):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    visit = call_next(session)
    if started:
        start(session, visit)
    before = snapshot()
    with pytest.raises(Error, match="Finish the interview, or hand the visitor back"):
        close(session)
    assert snapshot() == before
    assert refresh(session).is_open


def test_it_closes_once_the_interview_is_finished(centre, desks):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    visit = call_next(session)
    start(session, visit)
    finish(session, visit)
    close(session, now=T0 + minutes(30))
    assert refresh(session).closed_at == T0 + minutes(30)


@pytest.mark.parametrize("started", [False, True], ids=["called", "in_interview"])
def test_it_closes_once_the_visitor_is_handed_back(centre, desks, started):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    visit = call_next(session)
    if started:
        start(session, visit)
    hand_back(session, visit)
    close(session)
    assert not refresh(session).is_open
    assert refresh(visit).status == Visit.Status.WAITING


def test_closing_a_paused_desk_clears_the_pause(centre, desks):
    session = open_session(centre.counsellor_a, desks.jobs)
    services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a)
    close(session)
    refresh(session)
    assert session.closed_at is not None and session.paused_since is None


def test_a_closed_desk_refuses_every_action(centre, desks):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    close(session)
    before = snapshot()
    with pytest.raises(Error, match="closed"):
        call_next(session)
    with pytest.raises(Error, match="closed"):
        close(session)
    with pytest.raises(Error, match="closed"):
        services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a)
    assert snapshot() == before


def test_a_counsellor_cannot_act_on_a_colleagues_desk(centre, desks):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    before = snapshot()
    with pytest.raises(Error):
        services.call_next(session_id=session.pk, counsellor=centre.counsellor_b)
    with pytest.raises(Error):
        services.close_desk(session_id=session.pk, counsellor=centre.counsellor_b)
    assert snapshot() == before


# --- stale pages and other desks' visitors -------------------------------------------------------


ACTIONS = {
    "start": ("called", services.start_interview),
    "recall": ("called", services.recall),
    "no_show": ("called", services.mark_no_show),
    "hand_back_called": ("called", services.hand_back),
    "hand_back_in_interview": ("in_interview", services.hand_back),
    "finish": ("in_interview", services.finish_interview),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_from_a_stale_page_changes_nothing(centre, desks, action):
    """The page showed another ticket (a second tab, an old page): refused, nothing changed."""
    state, service = ACTIONS[action]
    shown_earlier = queue_visit(centre.alpha, "E", T0)
    current = queue_visit(centre.alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    services.call_ticket(
        session_id=session.pk,
        counsellor=centre.counsellor_a,
        visit_id=current.pk,
        reason=Call.OutOfOrder.OTHER,
    )
    if state == "in_interview":
        start(session, current)

    before = snapshot()
    with pytest.raises(Error, match="Your page was out of date; nothing was changed"):
        service(session_id=session.pk, counsellor=centre.counsellor_a, visit_id=shown_earlier.pk)
    assert snapshot() == before

    # With the page's ticket right, the same action goes through.
    service(session_id=session.pk, counsellor=centre.counsellor_a, visit_id=current.pk)
    assert snapshot() != before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_desk_cannot_act_on_the_visitor_of_another_desk(centre, desks, action):
    state, service = ACTIONS[action]
    visit = queue_visit(centre.alpha, "E", T0)
    jobs = open_session(centre.counsellor_a, desks.jobs)
    mixed = open_session(centre.counsellor_b, desks.mixed)
    call_next(jobs)
    if state == "in_interview":
        start(jobs, visit)
    before = snapshot()
    with pytest.raises(Error, match="out of date"):
        service(session_id=mixed.pk, counsellor=centre.counsellor_b, visit_id=visit.pk)
    assert snapshot() == before


@pytest.mark.parametrize("started", [False, True], ids=["called", "in_interview"])
def test_hand_back_puts_the_visitor_back_at_their_place(centre, desks, started):
    visit = queue_visit(centre.alpha, "E", T0)
    later = queue_visit(centre.alpha, "E", T0 + minutes(1))
    jobs = open_session(centre.counsellor_a, desks.jobs)
    mixed = open_session(centre.counsellor_b, desks.mixed)
    call_next(jobs, now=T0 + minutes(5))
    if started:
        start(jobs, visit, now=T0 + minutes(6))
    hand_back(jobs, visit, now=T0 + minutes(9))

    refresh(visit)
    assert visit.status == Visit.Status.WAITING
    assert visit.queued_at == T0
    assert visit.desk is None and visit.called_at is None
    if started:
        interview = Interview.objects.get(visit=visit)
        assert interview.ended_at == T0 + minutes(9)
        assert not interview.outcomes.exists()
    # Still first in line, for any desk.
    assert call_next(mixed) == visit
    assert refresh(later).status == Visit.Status.WAITING
