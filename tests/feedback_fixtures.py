"""Visits whose visitor may give feedback: seen at a desk and finished, at a given time."""

from __future__ import annotations

import datetime as dt

from counselling import services as desk_services
from counselling.models import Desk
from reception.models import Visit
from tests.counselling_fixtures import make_desk, open_session, queue_visit

ANSWERS = {"got_what": "yes", "wait": "long", "recommend": "yes", "helped": ["shorter_wait"]}


def desk_of(site, name: str = "Desk 1") -> Desk:
    return Desk.objects.filter(site=site, name=name).first() or make_desk(site, name, "E", "F")


def served_visit(
    site, counsellor, *, at: dt.datetime | None = None, letter: str = "E", desk: Desk | None = None
) -> Visit:
    """A walk-in checked in, called, seen by `counsellor` (of their partner) at `desk` (Desk 1,
    serving E and F, if None) and finished."""
    queue_visit(site, letter, at)
    session = open_session(counsellor, desk or desk_of(site), at)
    # The longest waiting: the one just checked in, unless the test left others waiting before.
    visit = desk_services.call_next(session_id=session.pk, counsellor=counsellor, now=at)
    desk_services.start_interview(session_id=session.pk, counsellor=counsellor, now=at)
    desk_services.finish_interview(
        session_id=session.pk,
        counsellor=counsellor,
        now=at + dt.timedelta(minutes=20) if at else None,
    )
    desk_services.close_desk(
        session_id=session.pk,
        counsellor=counsellor,
        now=at + dt.timedelta(minutes=21) if at else None,
    )
    visit.refresh_from_db()
    assert visit.status == Visit.Status.DONE
    return visit
