"""The visit's state machine: each transition says which fields it changed and refuses a status it
cannot leave that way (the services refuse first, with a message; this is the last guard)."""

import datetime as dt

import pytest

from reception.models import Visit

AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _visit(status: str) -> Visit:
    return Visit(letter="A", number=1, status=status)


def test_it_calls_a_waiting_visit_and_names_the_fields_it_changed():
    visit = _visit(Visit.Status.WAITING)
    assert visit.call(None, AT) == ["status", "desk", "called_at", "referred_by"]
    assert visit.status == Visit.Status.CALLED and visit.called_at == AT


def test_it_keeps_the_first_interview_start():
    visit = _visit(Visit.Status.CALLED)
    visit.started_at = AT - dt.timedelta(hours=1)
    visit.start(AT)
    assert visit.status == Visit.Status.IN_INTERVIEW
    assert visit.started_at == AT - dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "transition"),
    [
        (Visit.Status.DONE, lambda v: v.call(None, AT)),
        (Visit.Status.WAITING, lambda v: v.start(AT)),
        (Visit.Status.CALLED, lambda v: v.finish(AT)),
        (Visit.Status.WAITING, lambda v: v.hand_back()),
        (Visit.Status.IN_INTERVIEW, lambda v: v.miss(AT)),
        (Visit.Status.LEFT, lambda v: v.put_back()),
        (Visit.Status.IN_INTERVIEW, lambda v: v.leave(Visit.LeftHow.WALKED_OUT, AT)),
        (Visit.Status.NO_SHOW, lambda v: v.come_back()),
    ],
)
def test_it_refuses_a_transition_from_the_wrong_status(status, transition):
    visit = _visit(status)
    with pytest.raises(Visit.NotAllowed):
        transition(visit)
    assert visit.status == status
