"""Desks left open overnight: closed at the end of the day they were last used."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max

from citedesmetiers.clock import local_day_bounds
from citedesmetiers.live import publish_change
from citedesmetiers.models import Site
from reception.models import Call, Visit

from ..models import DeskSession, Interview
from .interviews import _open_interview
from .sessions import _held, _now, end_pause


def close_forgotten_desks(*, site: Site, now: dt.datetime | None = None) -> set[dt.date]:
    """Close the desks of `site` left open from an earlier day and not used today, so that
    nobody finds a desk “already open for a colleague” in the morning. Safe to run twice.
    Returns the local days whose visits or interviews changed (to aggregate again).

    A desk closes at the last closing time of the day it was last used (the end of that day if
    the site did not open), or at its last use if later (late arrivals). An interview left
    running ends then too, without outcome and marked so (its length is not counted), and its
    visit is done; a visitor still called is left at closing, as reception's day close does.
    A desk already used today (the worker was down overnight) is its counsellor's to close."""
    today_starts, _tomorrow = local_day_bounds(site.zone, site.local_date(_now(now)))
    forgotten = DeskSession.objects.filter(
        desk__site=site, closed_at__isnull=True, opened_at__lt=today_starts
    ).values_list("pk", flat=True)
    changed_days = set()
    for session_id in list(forgotten):
        with transaction.atomic():
            session = (
                DeskSession.objects.select_for_update(of=("self",))
                .filter(pk=session_id, closed_at__isnull=True)
                .first()
            )
            if session is None:  # closed meanwhile by its counsellor
                continue
            last = _last_use(session)
            if last >= today_starts:
                continue  # in use today (the job did not run overnight)
            closing = site.last_closing(last)  # of that local day
            ends = max(closing or local_day_bounds(site.zone, site.local_date(last))[1], last)
            visit = _held(session).select_for_update(of=("self",)).first()
            if visit is not None:
                if visit.status == Visit.Status.IN_INTERVIEW:
                    interview = _open_interview(session, visit)
                    interview.ended_at, interview.ended_by_day_close = ends, True
                    interview.save(update_fields=["ended_at", "ended_by_day_close"])
                    visit.save(update_fields=visit.finish(ends))
                    changed_days.add(site.local_date(interview.started_at))
                else:
                    visit.save(update_fields=visit.leave(Visit.LeftHow.AT_CLOSING, ends))
                changed_days.add(visit.local_date)
            session.closed_at, session.paused_since = ends, None
            session.save(update_fields=["closed_at", "paused_since"])
            end_pause(session, ends)
            publish_change(site.slug)
    return changed_days


def _last_use(session: DeskSession) -> dt.datetime:
    """When the desk was last used: opened, paused, resumed, a call, an interview begun or
    ended."""
    calls = Call.objects.filter(desk_id=session.desk_id, at__gte=session.opened_at)
    interviews = Interview.objects.filter(session=session).aggregate(
        started=Max("started_at"), ended=Max("ended_at")
    )
    moments = (
        session.opened_at,
        session.paused_since,
        session.resumed_at,
        calls.aggregate(at=Max("at"))["at"],
        interviews["started"],
        interviews["ended"],
    )
    return max(moment for moment in moments if moment is not None)
