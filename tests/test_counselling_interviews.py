"""Interviews at a desk: start, finish with topics and outcomes, referrals to another desk or a
partner outside, finish and call next. Every refusal leaves the database as it was."""

from __future__ import annotations

import pytest
from django.db import transaction

from citedesmetiers.roles import Role
from counselling import services
from counselling.models import Interview, Outcome
from reception import services as reception
from reception.models import Call, Visit
from tests.conftest import make_staff
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
    return alpha_desks(centre)


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
