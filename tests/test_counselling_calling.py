"""Calling visitors to a desk: call next, recall, no-show and put back, a ticket called out of
order. Every refusal leaves the database as it was."""

from __future__ import annotations

import pytest

from citedesmetiers.live import current_mark
from counselling import services
from counselling.models import Outcome
from reception.models import Call, Visit
from tests.counselling_actions import (
    alpha_desks,
    call_next,
    finish,
    snapshot,
    start,
)
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    minutes,
    open_session,
    queue_visit,
    refresh,
    theme,
)

pytestmark = pytest.mark.usefixtures("in_english")

Error = services.CounsellingError


@pytest.fixture
def desks(centre):
    return alpha_desks(centre)


# --- call next -----------------------------------------------------------------------------------


def test_call_next_gives_the_oldest_visitor_of_the_desks_themes_only(centre, desks):
    alpha = centre.alpha
    business_first = queue_visit(alpha, "A", T0)  # the oldest of all, but not this desk's theme
    job = queue_visit(alpha, "E", T0 + minutes(2))
    training = queue_visit(alpha, "F", T0 + minutes(1))
    later_job = queue_visit(alpha, "E", T0 + minutes(3))
    session = open_session(centre.counsellor_a, desks.mixed)  # serves E and F

    called = []
    while (visit := call_next(session)) is not None:
        called.append(visit)
        start(session, visit)
        finish(session, visit)
    assert called == [training, job, later_job]
    assert refresh(business_first).status == Visit.Status.WAITING


def test_call_next_with_nobody_waiting_gives_none_and_changes_nothing(centre, desks):
    queue_visit(centre.alpha, "A", T0)  # waiting, but for another theme
    session = open_session(centre.counsellor_a, desks.jobs)
    before = snapshot()
    assert call_next(session) is None
    assert snapshot() == before


def test_call_next_does_not_take_visitors_of_another_site(centre, desks):
    queue_visit(centre.beta, "E", T0)  # beta's own "Find a job" theme
    session = open_session(centre.counsellor_a, desks.jobs)
    assert call_next(session) is None


def test_call_next_marks_the_visit_called_at_this_desk(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    assert call_next(session, now=T0 + minutes(4)) == visit
    refresh(visit)
    assert visit.status == Visit.Status.CALLED
    assert visit.desk == desks.jobs
    assert visit.called_at == T0 + minutes(4)
    assert visit.queued_at == T0
    call = Call.objects.get(visit=visit)
    assert (call.desk, call.kind, call.out_of_order, call.at) == (
        desks.jobs,
        Call.Kind.CALL,
        "",
        T0 + minutes(4),
    )


def test_call_next_refuses_while_the_desk_holds_a_visitor(centre, desks):
    queue_visit(centre.alpha, "E", T0)
    queue_visit(centre.alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    before = snapshot()
    with pytest.raises(Error, match="already have a visitor"):
        call_next(session)  # a double click
    assert snapshot() == before


def test_call_next_announces_the_call_on_the_live_screens_after_commit(
    centre, desks, django_capture_on_commit_callbacks
):
    queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    mark = current_mark("alpha")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_next(session)
    assert current_mark("alpha") == mark  # nothing published before the commit
    for callback in callbacks:
        callback()
    assert current_mark("alpha") != mark


def test_a_referred_visitor_keeps_their_arrival_time_in_the_new_queue(centre, desks):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    later_training = queue_visit(alpha, "F", T0 + minutes(5))
    jobs = open_session(centre.counsellor_a, desks.jobs)
    training = open_session(centre.counsellor_b, desks.training)

    assert call_next(jobs, now=T0 + minutes(10)) == visit
    start(jobs, visit, now=T0 + minutes(11))
    interview = finish(
        jobs,
        visit,
        now=T0 + minutes(30),
        outcomes=[Outcome.Code.INFORMATION, Outcome.Code.REFERRED_DESK],
        refer_theme_id=theme(alpha, "F").pk,
        referral_reason=Outcome.Reason.OTHER_VIEW,
    )

    refresh(visit)
    assert visit.status == Visit.Status.WAITING
    assert visit.theme == theme(alpha, "F")
    assert visit.first_theme == theme(alpha, "E")
    assert visit.queued_at == T0
    assert visit.code == "E-001"  # the ticket keeps its letter
    assert visit.desk is None and visit.ended_at is None
    referral = interview.outcomes.get(code=Outcome.Code.REFERRED_DESK)
    assert referral.referred_theme == theme(alpha, "F")
    assert referral.referral_reason == Outcome.Reason.OTHER_VIEW
    assert refresh(interview).ended_at == T0 + minutes(30)

    # They already waited: they come before the visitor who arrived after them for that theme.
    assert call_next(training) == visit
    assert refresh(visit).desk == desks.training
    assert refresh(later_training).status == Visit.Status.WAITING


def test_recall_announces_the_ticket_again(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(1))
    services.recall(
        session_id=session.pk,
        counsellor=centre.counsellor_a,
        visit_id=visit.pk,
        now=T0 + minutes(3),
    )
    calls = list(Call.objects.filter(visit=visit).order_by("at"))
    assert [(c.kind, c.desk, c.at) for c in calls] == [
        (Call.Kind.CALL, desks.jobs, T0 + minutes(1)),
        (Call.Kind.RECALL, desks.jobs, T0 + minutes(3)),
    ]
    assert refresh(visit).status == Visit.Status.CALLED


def test_recall_is_refused_once_the_interview_started(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    start(session, visit)
    before = snapshot()
    with pytest.raises(Error, match="out of date"):
        services.recall(session_id=session.pk, counsellor=centre.counsellor_a, visit_id=visit.pk)
    assert snapshot() == before


def test_a_no_show_put_back_within_ten_minutes_keeps_their_place(centre, desks):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    later = queue_visit(alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(5))
    services.mark_no_show(
        session_id=session.pk,
        counsellor=centre.counsellor_a,
        visit_id=visit.pk,
        now=T0 + minutes(8),
    )
    refresh(visit)
    assert visit.status == Visit.Status.NO_SHOW
    assert visit.no_show_at == T0 + minutes(8)
    assert visit.desk is None

    services.put_back(site_id=alpha.pk, visit_id=visit.pk, now=T0 + minutes(8 + 9))
    refresh(visit)
    assert visit.status == Visit.Status.WAITING
    assert visit.queued_at == T0
    assert visit.no_show_at is None and visit.called_at is None
    # Back at their original place: before the visitor who arrived after them.
    assert call_next(session) == visit
    assert refresh(later).status == Visit.Status.WAITING


def test_a_no_show_cannot_be_put_back_after_ten_minutes(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    services.mark_no_show(
        session_id=session.pk, counsellor=centre.counsellor_a, visit_id=visit.pk, now=T0
    )
    before = snapshot()
    with pytest.raises(Error, match="more than 10 minutes ago"):
        services.put_back(site_id=centre.alpha.pk, visit_id=visit.pk, now=T0 + minutes(10.5))
    assert snapshot() == before
    assert refresh(visit).status == Visit.Status.NO_SHOW


def test_the_desk_can_call_the_next_visitor_after_a_no_show(centre, desks):
    missing = queue_visit(centre.alpha, "E", T0)
    next_one = queue_visit(centre.alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    services.mark_no_show(
        session_id=session.pk, counsellor=centre.counsellor_a, visit_id=missing.pk
    )
    assert call_next(session) == next_one


@pytest.mark.parametrize("status", ["waiting", "called", "done"])
def test_only_a_no_show_can_be_put_back(centre, desks, status):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    if status != "waiting":
        call_next(session)
    if status == "done":
        start(session, visit)
        finish(session, visit)
    before = snapshot()
    with pytest.raises(Error, match="cannot be put back"):
        services.put_back(site_id=centre.alpha.pk, visit_id=visit.pk)
    assert snapshot() == before


def test_a_no_show_of_another_site_cannot_be_put_back(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    services.mark_no_show(session_id=session.pk, counsellor=centre.counsellor_a, visit_id=visit.pk)
    with pytest.raises(Error, match="cannot be put back"):
        services.put_back(site_id=centre.beta.pk, visit_id=visit.pk)
    assert refresh(visit).status == Visit.Status.NO_SHOW


# --- calling a specific ticket ------------------------------------------------------------------


def test_call_ticket_calls_out_of_order_and_records_why(centre, desks):
    first = queue_visit(centre.alpha, "E", T0)
    second = queue_visit(centre.alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    called = services.call_ticket(
        session_id=session.pk,
        counsellor=centre.counsellor_a,
        visit_id=second.pk,
        reason=Call.OutOfOrder.ACCESSIBILITY,
        now=T0 + minutes(2),
    )
    assert called == second
    refresh(second)
    assert second.status == Visit.Status.CALLED and second.desk == desks.jobs
    call = Call.objects.get(visit=second)
    assert call.out_of_order == Call.OutOfOrder.ACCESSIBILITY
    assert call.kind == Call.Kind.CALL
    assert refresh(first).status == Visit.Status.WAITING


def test_call_ticket_refuses_an_unknown_reason(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    before = snapshot()
    for reason in ("", "vip", "returning visitor"):
        with pytest.raises(Error, match="out of order"):
            services.call_ticket(
                session_id=session.pk,
                counsellor=centre.counsellor_a,
                visit_id=visit.pk,
                reason=reason,
            )
    assert snapshot() == before


def test_call_ticket_refuses_a_ticket_another_desk_has(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    jobs = open_session(centre.counsellor_a, desks.jobs)
    mixed = open_session(centre.counsellor_b, desks.mixed)
    call_next(jobs)
    before = snapshot()
    with pytest.raises(Error, match="no longer waiting"):
        services.call_ticket(
            session_id=mixed.pk,
            counsellor=centre.counsellor_b,
            visit_id=visit.pk,
            reason=Call.OutOfOrder.SHORT_QUESTION,
        )
    assert snapshot() == before
    assert refresh(visit).desk == desks.jobs


@pytest.mark.parametrize("status", ["done", "no_show"])
def test_call_ticket_refuses_a_ticket_that_is_not_waiting(centre, desks, status):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    if status == "done":
        start(session, visit)
        finish(session, visit)
    else:
        services.mark_no_show(
            session_id=session.pk, counsellor=centre.counsellor_a, visit_id=visit.pk
        )
    before = snapshot()
    with pytest.raises(Error, match="no longer waiting"):
        services.call_ticket(
            session_id=session.pk,
            counsellor=centre.counsellor_a,
            visit_id=visit.pk,
            reason=Call.OutOfOrder.PUT_BACK,
        )
    assert snapshot() == before


def test_call_ticket_refuses_a_ticket_of_another_site(centre, desks):
    visit = queue_visit(centre.beta, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    with pytest.raises(Error, match="no longer waiting"):
        services.call_ticket(
            session_id=session.pk,
            counsellor=centre.counsellor_a,
            visit_id=visit.pk,
            reason=Call.OutOfOrder.OTHER,
        )
    assert refresh(visit).status == Visit.Status.WAITING
