"""Where a sitting's time went: serving a visitor, paused, idle with nobody waiting for its themes,
and idle while visitors waited for them (a signal worth a look: a desk that does not call).
Read from the raw rows, for the daily figures and the counsellor's day.

Serving runs from a call to the end of the interview it led to (or to the visitor's no-show).
A visitor waits for a theme from arrival to their first call, and again from the end of an
interview that sent them back to a queue (a referral, a hand-back) to their next call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reception.models import Call, Visit

from .models import DeskPause, DeskSession, Interview

Span = tuple[dt.datetime, dt.datetime]


def _merged(spans: Iterable[Span]) -> list[Span]:
    """The spans as disjoint ones in order, empty ones dropped."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _clipped(spans: Iterable[Span], within: Span) -> list[Span]:
    return _merged((max(s, within[0]), min(e, within[1])) for s, e in spans)


def _minus(spans: list[Span], cuts: list[Span]) -> list[Span]:
    """`spans` without `cuts` (both merged)."""
    out: list[Span] = []
    for start, end in spans:
        for cut_start, cut_end in cuts:
            if cut_end <= start or cut_start >= end:
                continue
            if cut_start > start:
                out.append((start, cut_start))
            start = max(start, cut_end)
        if end > start:
            out.append((start, end))
    return out


def _seconds(spans: Iterable[Span]) -> int:
    return int(sum((end - start).total_seconds() for start, end in spans))


def _overlap(spans: list[Span], others: list[Span]) -> int:
    return _seconds(spans) - _seconds(_minus(spans, others))


@dataclass(frozen=True)
class DeskTime:
    """A sitting's seconds: `open` is the sum of the four parts."""

    serving: int
    paused: int
    idle_empty: int
    idle_waiting: int

    @property
    def open(self) -> int:
        return self.serving + self.paused + self.idle_empty + self.idle_waiting

    @property
    def minutes(self) -> list[int]:
        """Open, serving, paused, idle with nobody waiting, idle while visitors waited: minutes."""
        return [round(s / 60) for s in (self.open, *self.parts().values())]

    def parts(self) -> dict[str, int]:
        return {
            "serving": self.serving,
            "paused": self.paused,
            "idle_empty": self.idle_empty,
            "idle_waiting": self.idle_waiting,
        }


def _waits(visits: list[Visit], calls: dict[int, list[dt.datetime]], interviews, until):
    """theme id → the spans visitors waited for it."""
    by_visit = defaultdict(list)
    for i in interviews:
        by_visit[i.visit_id].append(i)
    waits: dict[int, list[Span]] = defaultdict(list)
    for visit in visits:
        its_calls = calls.get(visit.pk, [])
        its_interviews = sorted(by_visit.get(visit.pk, []), key=lambda i: i.started_at)
        start, theme = visit.arrived_at, visit.first_theme_id
        for n, called in enumerate(its_calls):
            if start is not None and called >= start:
                waits[theme].append((start, called))
            start = None
            later = its_calls[n + 1] if n + 1 < len(its_calls) else None
            ended = [
                i.ended_at
                for i in its_interviews
                if i.ended_at and i.started_at >= called and (later is None or i.started_at < later)
            ]
            back = ended[-1] if ended else visit.no_show_at
            if back is not None and (later is not None or visit.status == Visit.Status.WAITING):
                # Sent back to a queue: for the theme of the next interview, else the current one.
                nxt = [i for i in its_interviews if later and i.started_at >= later]
                start, theme = back, nxt[0].theme_id if nxt else visit.theme_id
        if start is not None:
            waits[theme].append((start, visit.ended_at or until))
    return {theme: _merged(spans) for theme, spans in waits.items()}


def desk_times(sessions: list[DeskSession], within: Span) -> dict[int, DeskTime]:
    """session pk → its DeskTime within `within` (a day, up to now at most). `sessions` have
    their desk and site (one site), themes and desk themes prefetched."""
    if not sessions:
        return {}
    start, end = within
    site_id = sessions[0].desk.site_id
    pauses = defaultdict(list)
    for p in DeskPause.objects.filter(session__in=sessions):
        pauses[p.session_id].append((p.started_at, p.ended_at or end))
    interviews = list(
        Interview.objects.filter(visit__site_id=site_id, started_at__lt=end)
        .filter(visit__arrived_at__lt=end, visit__local_date__gte=_day_before(start))
        .only("visit_id", "session_id", "theme_id", "called_at", "started_at", "ended_at")
    )
    visits = {
        v.pk: v
        for v in Visit.objects.filter(
            site_id=site_id,
            arrived_at__lt=end,
            local_date__gte=_day_before(start),
            by_appointment=False,  # never in a walk-in queue
        ).only("pk", "arrived_at", "first_theme_id", "theme_id", "status", "no_show_at", "ended_at")
    }
    calls: dict[int, list[dt.datetime]] = defaultdict(list)
    desk_calls: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for visit_id, desk_id, at in (
        Call.objects.filter(site_id=site_id, kind=Call.Kind.CALL, at__gte=start, at__lt=end)
        .order_by("at")
        .values_list("visit_id", "desk_id", "at")
    ):
        calls[visit_id].append(at)
        desk_calls[desk_id].append((at, visit_id))
    waits = _waits(list(visits.values()), calls, interviews, end)
    by_session = defaultdict(list)
    for i in interviews:
        by_session[i.session_id].append(i)

    times = {}
    for session in sessions:
        span = (max(session.opened_at, start), min(session.closed_at or end, end))
        if span[1] <= span[0]:
            times[session.pk] = DeskTime(0, 0, 0, 0)
            continue
        own = by_session.get(session.pk, [])
        busy = [(i.called_at or i.started_at, i.ended_at or span[1]) for i in own]
        seen = {i.visit_id for i in own}
        at_desk = desk_calls.get(session.desk_id, [])
        for n, (at, visit_id) in enumerate(at_desk):
            if span[0] <= at < span[1] and visit_id not in seen:  # called, did not come (yet)
                gone = visits[visit_id].no_show_at if visit_id in visits else None
                nxt = at_desk[n + 1][0] if n + 1 < len(at_desk) else span[1]
                busy.append((at, min(gone, nxt) if gone and gone > at else nxt))
        paused = _clipped(pauses.get(session.pk, []), span)
        serving = _minus(_clipped(busy, span), paused)
        idle = _minus(_minus([span], paused), serving)
        themes = [t.pk for t in session.themes.all()] or [t.pk for t in session.desk.themes.all()]
        awaited = _merged(s for t in themes for s in waits.get(t, []))
        idle_waiting = _overlap(idle, awaited)
        times[session.pk] = DeskTime(
            serving=_seconds(serving),
            paused=_seconds(paused),
            idle_empty=_seconds(idle) - idle_waiting,
            idle_waiting=idle_waiting,
        )
    return times


def _day_before(moment: dt.datetime) -> dt.date:
    # Visitors who arrived the evening before may still wait this morning (never closed).
    return (moment - dt.timedelta(days=1)).date()
