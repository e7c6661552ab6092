"""The rules of the desks hold in the database itself, whatever a screen or a script does: each
test bypasses the services and writes the rows directly."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from counselling.models import DeskSession, Interview, Outcome
from reception.models import Visit
from tests.counselling_fixtures import T0, make_desk, minutes, queue_visit, theme


@pytest.fixture
def desk_1(centre):
    return make_desk(centre.alpha, "Desk 1", "E", "F")


@pytest.fixture
def desk_2(centre):
    return make_desk(centre.alpha, "Desk 2", "E", "F")


def session_row(desk, counsellor, **extra) -> DeskSession:
    return DeskSession.objects.create(
        desk=desk, counsellor=counsellor, opened_at=extra.pop("opened_at", T0), **extra
    )


def interview_row(session, visit, **extra) -> Interview:
    return Interview.objects.create(
        visit=visit,
        session=session,
        desk=session.desk,
        counsellor=session.counsellor,
        theme=visit.theme,
        started_at=extra.pop("started_at", T0),
        **extra,
    )


def held(visit, desk, status=Visit.Status.CALLED) -> None:
    Visit.objects.filter(pk=visit.pk).update(status=status, desk=desk, called_at=T0)


def test_a_desk_cannot_have_two_open_sessions(centre, desk_1):
    session_row(desk_1, centre.counsellor_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        session_row(desk_1, centre.counsellor_b)
    assert DeskSession.objects.filter(desk=desk_1).count() == 1


def test_a_desk_can_have_many_closed_sessions_and_one_open(centre, desk_1):
    session_row(desk_1, centre.counsellor_a, closed_at=T0 + minutes(60))
    session_row(desk_1, centre.counsellor_b, closed_at=T0 + minutes(90))
    session_row(desk_1, centre.counsellor_a, opened_at=T0 + minutes(120))
    assert DeskSession.objects.filter(desk=desk_1).count() == 3


def test_a_counsellor_cannot_have_two_open_desks(centre, desk_1, desk_2):
    session_row(desk_1, centre.counsellor_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        session_row(desk_2, centre.counsellor_a)
    assert DeskSession.objects.filter(counsellor=centre.counsellor_a).count() == 1


def test_a_counsellor_cannot_have_two_open_interviews(centre, desk_1):
    session = session_row(desk_1, centre.counsellor_a)
    first = queue_visit(centre.alpha, "E", T0)
    second = queue_visit(centre.alpha, "E", T0 + minutes(1))
    interview_row(session, first)
    with pytest.raises(IntegrityError), transaction.atomic():
        interview_row(session, second)
    assert Interview.objects.count() == 1


def test_a_counsellor_can_have_many_finished_interviews(centre, desk_1):
    session = session_row(desk_1, centre.counsellor_a)
    for n in range(3):
        visit = queue_visit(centre.alpha, "E", T0 + minutes(n))
        interview_row(session, visit, ended_at=T0 + minutes(30))
    interview_row(session, queue_visit(centre.alpha, "F", T0))
    assert Interview.objects.filter(ended_at__isnull=True).count() == 1


def test_a_visit_cannot_be_in_two_open_interviews(centre, desk_1, desk_2):
    visit = queue_visit(centre.alpha, "E", T0)
    interview_row(session_row(desk_1, centre.counsellor_a), visit)
    with pytest.raises(IntegrityError), transaction.atomic():
        interview_row(session_row(desk_2, centre.counsellor_b), visit)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Visit.Status.CALLED, Visit.Status.CALLED),
        (Visit.Status.CALLED, Visit.Status.IN_INTERVIEW),
        (Visit.Status.IN_INTERVIEW, Visit.Status.IN_INTERVIEW),
    ],
)
def test_a_desk_cannot_hold_two_visitors(centre, desk_1, first, second):
    one = queue_visit(centre.alpha, "E", T0)
    other = queue_visit(centre.alpha, "F", T0 + minutes(1))
    held(one, desk_1, first)
    with pytest.raises(IntegrityError), transaction.atomic():
        held(other, desk_1, second)
    other.refresh_from_db()
    assert (other.status, other.desk) == (Visit.Status.WAITING, None)


def test_a_desk_keeps_its_past_visitors(centre, desk_1):
    """The rule is about visitors held now: a desk's finished visits don't count."""
    for n, status in enumerate([Visit.Status.DONE, Visit.Status.DONE, Visit.Status.NO_SHOW]):
        held(queue_visit(centre.alpha, "E", T0 + minutes(n)), desk_1, status)
    held(queue_visit(centre.alpha, "E", T0 + minutes(5)), desk_1, Visit.Status.IN_INTERVIEW)
    assert Visit.objects.filter(desk=desk_1).count() == 4


def test_an_interview_cannot_end_before_it_starts(centre, desk_1):
    visit = queue_visit(centre.alpha, "E", T0)
    session = session_row(desk_1, centre.counsellor_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        interview_row(session, visit, started_at=T0, ended_at=T0 - minutes(1))


def test_a_referral_to_a_desk_records_the_theme(centre, desk_1):
    visit = queue_visit(centre.alpha, "E", T0)
    interview = interview_row(session_row(desk_1, centre.counsellor_a), visit)
    with pytest.raises(IntegrityError), transaction.atomic():
        Outcome.objects.create(interview=interview, code=Outcome.Code.REFERRED_DESK)
    Outcome.objects.create(
        interview=interview,
        code=Outcome.Code.REFERRED_DESK,
        referred_theme=theme(centre.alpha, "F"),
        referral_reason=Outcome.Reason.SPECIALIST,
    )


def test_an_outcome_is_recorded_once_per_interview(centre, desk_1):
    visit = queue_visit(centre.alpha, "E", T0)
    interview = interview_row(
        session_row(desk_1, centre.counsellor_a), visit, ended_at=timezone.now()
    )
    Outcome.objects.create(interview=interview, code=Outcome.Code.INFORMATION)
    with pytest.raises(IntegrityError), transaction.atomic():
        Outcome.objects.create(interview=interview, code=Outcome.Code.INFORMATION)
