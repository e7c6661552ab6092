"""The desk's write operations: open, pause, close; call next, recall, no-show, put back, call out
of order; start, finish, hand back. Every refusal leaves the database as it was."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction

from citedesmetiers.live import current_mark
from citedesmetiers.roles import Role
from counselling import services
from counselling.models import DeskSession, Interview, Outcome
from reception.models import Call, Visit
from tests.conftest import make_staff
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    make_desk,
    make_topic,
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
    alpha = centre.alpha
    return SimpleNamespace(
        jobs=make_desk(alpha, "Desk 1", "E", order=1),
        mixed=make_desk(alpha, "Desk 2", "E", "F", order=2),
        training=make_desk(alpha, "Desk 3", "F", order=3),
        business=make_desk(alpha, "Desk 4", "A", order=4),
    )


def call_next(session, **extra):
    return services.call_next(session_id=session.pk, counsellor=session.counsellor, **extra)


def start(session, visit, **extra):
    return services.start_interview(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def finish(session, visit, **extra):
    extra.setdefault("outcomes", [Outcome.Code.INFORMATION])
    return services.finish_interview(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def hand_back(session, visit, **extra):
    return services.hand_back(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def close(session, **extra):
    return services.close_desk(session_id=session.pk, counsellor=session.counsellor, **extra)


def snapshot() -> tuple:
    """Everything a desk action can change, to prove a refusal changed nothing."""
    return (
        list(
            Visit.objects.order_by("pk").values_list(
                "pk",
                "status",
                "theme_id",
                "desk_id",
                "queued_at",
                "called_at",
                "no_show_at",
                "started_at",
                "ended_at",
            )
        ),
        list(Call.objects.order_by("pk").values_list("pk", "visit_id", "desk_id", "kind")),
        list(Interview.objects.order_by("pk").values_list("pk", "visit_id", "ended_at", "channel")),
        list(Outcome.objects.order_by("pk").values_list("pk", "code")),
        list(DeskSession.objects.order_by("pk").values_list("pk", "closed_at", "paused_since")),
    )


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


# --- interviews ----------------------------------------------------------------------------------


def test_start_and_finish_record_an_anonymous_interview_and_close_the_visit(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(2))
    interview = start(session, visit, now=T0 + minutes(3))
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW
    assert visit.started_at == T0 + minutes(3)
    assert (interview.desk, interview.counsellor, interview.partner, interview.theme) == (
        desks.jobs,
        centre.counsellor_a,
        centre.partner_a,
        theme(centre.alpha, "E"),
    )
    assert interview.ended_at is None

    finish(
        session,
        visit,
        now=T0 + minutes(23),
        channel="phone",
        outcomes=[Outcome.Code.INFORMATION, Outcome.Code.RESOURCES, Outcome.Code.INFORMATION],
    )
    refresh(interview, visit)
    assert interview.ended_at == T0 + minutes(23)
    assert interview.duration_minutes == 20
    assert interview.channel == "phone"
    assert sorted(interview.outcomes.values_list("code", flat=True)) == [
        Outcome.Code.INFORMATION,
        Outcome.Code.RESOURCES,
    ]
    assert visit.status == Visit.Status.DONE
    assert visit.ended_at == T0 + minutes(23)
    assert visit.desk is None
    # The desk is free again.
    assert services.current_visit(session) is None


def test_the_interview_keeps_when_the_visitor_was_called_for_the_walk_to_the_desk(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(2))
    services.recall(session_id=session.pk, counsellor=centre.counsellor_a, now=T0 + minutes(4))
    interview = start(session, visit, now=T0 + minutes(5))
    # From the first call, not the recall: the visitor was on their way since then.
    assert (interview.called_at, interview.started_at) == (T0 + minutes(2), T0 + minutes(5))


def test_finishing_twice_is_refused_and_changes_nothing(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(1))
    start(session, visit, now=T0 + minutes(2))
    finish(session, visit, now=T0 + minutes(20))
    before = snapshot()
    with pytest.raises(Error, match="already finished"):
        finish(session, visit, now=T0 + minutes(21), outcomes=[Outcome.Code.COME_BACK])
    assert snapshot() == before


def test_finishing_twice_is_refused_even_after_the_next_call(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    queue_visit(centre.alpha, "E", T0 + minutes(1))
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    start(session, visit)
    finish(session, visit)
    call_next(session)
    before = snapshot()
    with pytest.raises(Error):
        finish(session, visit, outcomes=[Outcome.Code.COME_BACK])
    assert snapshot() == before


def referral_to(site, letter: str) -> dict:
    """The answers that refer the visitor to the desk of another theme, for another view."""
    return {
        "outcomes": [Outcome.Code.REFERRED_DESK],
        "refer_theme_id": theme(site, letter).pk,
        "referral_reason": Outcome.Reason.OTHER_VIEW,
    }


def finish_and_call_next(session, visit, **extra):
    extra.setdefault("outcomes", [Outcome.Code.INFORMATION])
    return services.finish_and_call_next(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def test_finish_and_call_next_ends_the_interview_and_calls_the_oldest_in_one_step(centre, desks):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    training = queue_visit(alpha, "F", T0 + minutes(1))  # not a theme of this desk
    second = queue_visit(alpha, "E", T0 + minutes(2))
    third = queue_visit(alpha, "E", T0 + minutes(3))
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session, now=T0 + minutes(5))
    start(session, visit, now=T0 + minutes(6))

    done = finish_and_call_next(
        session, visit, now=T0 + minutes(20), outcomes=[Outcome.Code.RESOURCES]
    )

    assert (done.called, done.paused) == (second, False)
    refresh(visit, second, third, training)
    assert (visit.status, visit.ended_at, visit.desk) == (Visit.Status.DONE, T0 + minutes(20), None)
    assert list(done.interview.outcomes.values_list("code", flat=True)) == [Outcome.Code.RESOURCES]
    assert refresh(done.interview).ended_at == T0 + minutes(20)
    assert (second.status, second.desk, second.called_at) == (
        Visit.Status.CALLED,
        desks.jobs,
        T0 + minutes(20),
    )
    assert Call.objects.filter(visit=second, desk=desks.jobs, kind=Call.Kind.CALL).count() == 1
    assert third.status == training.status == Visit.Status.WAITING
    # The called visitor is not in interview yet: the counsellor starts it when they sit down.
    assert not Interview.objects.filter(visit=second).exists()
    assert services.current_visit(session) == second


def test_finish_and_call_next_with_nobody_waiting_only_finishes(centre, desks):
    session, visit = _in_interview(centre, desks)
    done = finish_and_call_next(session, visit)
    assert (done.called, done.paused) == (None, False)
    assert refresh(visit).status == Visit.Status.DONE
    assert services.current_visit(session) is None


def test_finish_and_call_next_on_a_paused_desk_only_finishes(centre, desks):
    session, visit = _in_interview(centre, desks)
    waiting = queue_visit(centre.alpha, "E", T0 + minutes(1))
    services.pause_desk(session_id=session.pk, counsellor=centre.counsellor_a, now=T0)
    done = finish_and_call_next(session, visit)
    assert (done.called, done.paused) == (None, True)
    assert refresh(visit).status == Visit.Status.DONE
    assert refresh(waiting).status == Visit.Status.WAITING
    assert not Call.objects.filter(visit=waiting).exists()


def test_finish_and_call_next_gives_the_referred_visitor_to_the_other_desk(centre, desks):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    next_jobs = queue_visit(alpha, "E", T0 + minutes(4))
    jobs = open_session(centre.counsellor_a, desks.jobs)
    training = open_session(centre.counsellor_b, desks.training)
    call_next(jobs)
    start(jobs, visit)

    done = finish_and_call_next(
        jobs,
        visit,
        **referral_to(alpha, "F"),
    )

    assert done.called == next_jobs
    assert refresh(visit).status == Visit.Status.WAITING
    assert call_next(training) == visit


@pytest.mark.parametrize("someone_else_waits", [True, False])
def test_finish_and_call_next_does_not_call_back_a_visitor_referred_to_another_theme_of_the_desk(
    centre, desks, someone_else_waits
):
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    later = queue_visit(alpha, "F", T0 + minutes(4)) if someone_else_waits else None
    mixed = open_session(centre.counsellor_a, desks.mixed)  # serves E and F
    training = open_session(centre.counsellor_b, desks.training)  # serves F
    call_next(mixed)
    start(mixed, visit)

    done = finish_and_call_next(
        mixed,
        visit,
        **referral_to(alpha, "F"),
    )

    # Still the oldest for F, and waiting there for another point of view.
    assert done.called == later
    refresh(visit)
    assert (visit.status, visit.theme, visit.desk) == (
        Visit.Status.WAITING,
        theme(alpha, "F"),
        None,
    )
    assert Call.objects.filter(visit=visit).count() == 1
    assert call_next(training) == visit


def test_finish_and_call_next_does_not_call_straight_back_even_with_no_other_desk(centre, desks):
    """Nobody else serves F now: the referred visitor keeps their place and this desk calls them
    at their turn, just not in the same press."""
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    later = queue_visit(alpha, "F", T0 + minutes(4))
    mixed = open_session(centre.counsellor_a, desks.mixed)
    call_next(mixed)
    start(mixed, visit)
    done = finish_and_call_next(
        mixed,
        visit,
        **referral_to(alpha, "F"),
    )
    assert done.called == later
    start(mixed, later)
    assert finish_and_call_next(mixed, later).called == visit


def _referred_from_the_mixed_desk(centre, desks):
    """A visitor for E, seen at the mixed desk (E and F) and referred on to F."""
    alpha = centre.alpha
    visit = queue_visit(alpha, "E", T0)
    mixed = open_session(centre.counsellor_a, desks.mixed)
    call_next(mixed)
    start(mixed, visit)
    finish(
        mixed,
        visit,
        **referral_to(alpha, "F"),
    )
    assert refresh(visit).referred_by == mixed
    assert refresh(mixed).referred_on
    return mixed, visit


def test_a_desk_leaves_a_visitor_it_referred_on_to_another_desk_of_that_theme(centre, desks):
    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    training = open_session(centre.counsellor_b, desks.training)
    services.pause_desk(session_id=training.pk, counsellor=centre.counsellor_b)
    # Training is paused: nobody else serves F, so the visitor would be called here.
    with transaction.atomic():
        assert services.call_next(session_id=mixed.pk, counsellor=centre.counsellor_a) == visit
        transaction.set_rollback(True)
    services.resume_desk(session_id=training.pk, counsellor=centre.counsellor_b)

    before = snapshot()
    assert call_next(mixed) is None  # though the visitor waits for F, a theme of this desk
    assert snapshot() == before
    later = queue_visit(centre.alpha, "F", T0 + minutes(30))
    assert call_next(mixed) == later
    assert call_next(training) == visit


def test_a_ticket_reception_moves_is_anybodys_again(centre, desks):
    from reception import services as reception

    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    open_session(centre.counsellor_b, desks.training)
    dana = make_staff("dana@alpha.test", Role.COUNSELLOR, centre.alpha)
    open_session(dana, desks.jobs)  # E is served elsewhere too
    e = theme(centre.alpha, "E")
    reception.change_theme(site=centre.alpha, visit_id=visit.pk, theme_id=e.pk)
    assert refresh(visit).referred_by is None
    assert call_next(mixed) == visit


def test_with_no_other_desk_for_the_theme_the_referring_desk_calls_them_at_their_turn(
    centre, desks
):
    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    queue_visit(centre.alpha, "F", T0 + minutes(30))
    assert call_next(mixed) == visit  # they waited longest; nobody else serves F


def test_another_desk_calls_the_referred_visitor_and_the_mark_goes(centre, desks):
    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    training = open_session(centre.counsellor_b, desks.training)
    assert call_next(training) == visit
    assert refresh(visit).referred_by is None
    # Handed back by that desk, the visitor is anybody's again, the first desk's too.
    hand_back(training, visit)
    assert call_next(mixed) == visit


def test_the_referring_desk_can_still_call_the_ticket_on_purpose(centre, desks):
    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    called = services.call_ticket(
        session_id=mixed.pk,
        counsellor=centre.counsellor_a,
        visit_id=visit.pk,
        reason=Call.OutOfOrder.OTHER,
    )
    assert called == visit
    assert (refresh(visit).status, visit.referred_by) == (Visit.Status.CALLED, None)


def test_a_colleague_sitting_at_the_same_desk_later_calls_the_referred_visitor(centre, desks):
    mixed, visit = _referred_from_the_mixed_desk(centre, desks)
    close(mixed)
    afterwards = open_session(centre.counsellor_b, desks.mixed)
    assert call_next(afterwards) == visit


def test_finish_and_call_next_twice_is_refused_and_changes_nothing(centre, desks):
    session, visit = _in_interview(centre, desks)
    queue_visit(centre.alpha, "E", T0 + minutes(1))
    queue_visit(centre.alpha, "E", T0 + minutes(2))
    finish_and_call_next(session, visit)
    before = snapshot()
    with pytest.raises(Error, match="already finished"):
        finish_and_call_next(session, visit)
    assert snapshot() == before


def test_a_refused_finish_and_call_next_calls_nobody(centre, desks):
    session, visit = _in_interview(centre, desks)
    queue_visit(centre.alpha, "E", T0 + minutes(1))
    before = snapshot()
    with pytest.raises(Error, match="not a valid choice"):
        finish_and_call_next(session, visit, outcomes=["made_up"])
    assert snapshot() == before


def _in_interview(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    session = open_session(centre.counsellor_a, desks.jobs)
    call_next(session)
    start(session, visit)
    return session, visit


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "Choose the theme"),
        ({"referral_reason": "other_view"}, "Choose the theme"),
        ({"refer_theme": "F"}, "Choose why"),
        ({"refer_theme": "F", "referral_reason": "no_reason"}, "Choose why"),
        ({"refer_theme": "beta-F", "referral_reason": "other_view"}, "Choose the theme"),
        ({"refer_theme": "inactive", "referral_reason": "other_view"}, "Choose the theme"),
    ],
)
def test_a_referral_to_another_desk_needs_an_offered_theme_and_a_reason(
    centre, desks, extra, message
):
    session, visit = _in_interview(centre, desks)
    extra = dict(extra)
    chosen = extra.pop("refer_theme", None)
    if chosen == "beta-F":
        extra["refer_theme_id"] = theme(centre.beta, "F").pk
    elif chosen == "inactive":
        closed = theme(centre.alpha, "A")
        closed.active = False
        closed.save(update_fields=["active"])
        extra["refer_theme_id"] = closed.pk
    elif chosen:
        extra["refer_theme_id"] = theme(centre.alpha, chosen).pk
    before = snapshot()
    with pytest.raises(Error, match=message):
        finish(session, visit, outcomes=[Outcome.Code.REFERRED_DESK], **extra)
    assert snapshot() == before
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW


def test_a_referral_to_a_partner_outside_needs_the_kind_of_institution(centre, desks):
    session, visit = _in_interview(centre, desks)
    before = snapshot()
    for kind in ("", "Employment agency"):
        with pytest.raises(Error, match="kind of institution"):
            finish(session, visit, outcomes=[Outcome.Code.REFERRED_PARTNER], partner_kind=kind)
    assert snapshot() == before

    interview = finish(
        session,
        visit,
        outcomes=[Outcome.Code.REFERRED_PARTNER],
        partner_kind="training",
        # Ignored: there is no referral to a desk.
        referral_reason=Outcome.Reason.SPECIALIST,
    )
    outcome = interview.outcomes.get()
    assert (outcome.code, outcome.partner_kind, outcome.referral_reason) == (
        Outcome.Code.REFERRED_PARTNER,
        "training",
        "",
    )
    # Referred outside: the visit here is over.
    assert refresh(visit).status == Visit.Status.DONE


def test_topics_must_belong_to_the_visits_theme(centre, desks):
    own = make_topic(centre.alpha, "E", "CV and cover letter")
    other = make_topic(centre.alpha, "F", "Funding a training")
    retired = make_topic(centre.alpha, "E", "Old topic")
    retired.active = False
    retired.save(update_fields=["active"])
    session, visit = _in_interview(centre, desks)
    before = snapshot()
    for topic_ids in ([other.pk], [own.pk, other.pk], [retired.pk], [own.pk, 999999]):
        with pytest.raises(Error, match="topics does not belong"):
            finish(session, visit, topic_ids=topic_ids)
    assert snapshot() == before

    interview = finish(session, visit, topic_ids=[own.pk])
    assert list(interview.topics.all()) == [own]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"outcomes": ["hired"]}, "not a valid choice"),
        ({"channel": "carrier pigeon"}, "how the interview took place"),
    ],
)
def test_it_refuses_codes_that_do_not_exist(centre, desks, extra, message):
    session, visit = _in_interview(centre, desks)
    before = snapshot()
    with pytest.raises(Error, match=message):
        finish(session, visit, **extra)
    assert snapshot() == before


def test_finishing_without_an_outcome_still_closes_the_visit(centre, desks):
    session, visit = _in_interview(centre, desks)
    interview = finish(session, visit, outcomes=[])
    assert not interview.outcomes.exists()
    assert refresh(visit).status == Visit.Status.DONE


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
