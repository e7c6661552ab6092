"""Reading the queues: what the tablet, the waiting-room screen and the visitor's phone show.

Estimated wait — the forecast (also in the README):

    service  = mean duration of the theme's interviews at this site over the last 14 days
               (at least 3 of them; else the site's mean over all themes; else 20 minutes)
    desks    = open, unpaused desks, each with the themes of its sitting, and when it will be free:
               now if it holds nobody; after the rest of the theme's service if it holds a
               visitor (a whole one if called, what is left of it, but at least a quarter, if in
               interview)
    forecast = the desks calling as call next does: the desk free first calls the visitor
               waiting longest among its themes, and is free again one service later; a
               visitor's wait is when their desk calls them (a newcomer's: as if they joined the
               queue now), rounded to 5 minutes

This is what call next will do if nobody else arrives and interviews last their mean: desks
shared between themes count once, and a desk half-way through an interview counts as such.
With no desk serving the theme there is no honest number: the screens say so instead, and when
the presence plan has a walk-in desk for the theme in the next fortnight, when that is ("next:
Tuesday 14:00"). Beyond the first FORECAST_QUEUE waiting visitors of a site the forecast is not
run; the rough estimate stands in (`rough_estimate`, the formula used before it: it counts a
desk shared between themes whole for each, so it is optimistic when themes share desks).

`BENCH estimate_accuracy` replays a week through both and prints their errors.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import deque
from dataclasses import dataclass, field

from django.core.cache import caches
from django.db.models import Avg, Count, F, Min, Q
from django.utils import timezone

from citedesmetiers.models import Site, Theme

# The one upward link, allowed: the wait estimate needs the desks' capacity and interview lengths.
from counselling.models import (
    MAX_INTERVIEW,
    DeskSession,
    Interview,
    Occurrence,
    next_served_by_theme,
    plan_between,
)

from .models import Call, Visit

DEFAULT_SERVICE_MINUTES = 20
SERVICE_WINDOW = dt.timedelta(days=14)
MIN_SAMPLES = 3
FORECAST_QUEUE = 400  # visitors read for the forecast: hours of queue at the busiest site
# A newcomer's wait the screens showed this recently is the one a visitor checking in was told.
QUOTE_FRESH = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class NextServed:
    """When the plan next has a walk-in desk for a theme nobody serves now, in the site's
    wall-clock time (naive: templates show it as it is)."""

    starts: dt.datetime
    ends: dt.datetime
    days_ahead: int  # 0 today, 1 tomorrow…
    ongoing: bool  # planned now, but the desk is not open (yet)

    @classmethod
    def of(cls, occurrence: Occurrence, site: Site, now: dt.datetime) -> NextServed:
        def local(moment: dt.datetime) -> dt.datetime:
            return moment.astimezone(site.zone).replace(tzinfo=None)

        starts = local(occurrence.starts)
        return cls(
            starts=starts,
            ends=local(occurrence.ends),
            days_ahead=(starts.date() - site.local_date(now)).days,
            ongoing=occurrence.starts <= now,
        )


def rough_estimate(ahead: int, desks: int, free_desks: int, service_minutes: float) -> int:
    """Minutes for a visitor with `ahead` people before them, by the rough formula: 0 when a
    desk is free for them, else (ahead − free + ½) / desks × service, rounded up to 5 minutes
    (the ½: on average, half of the current interview is left)."""
    if ahead < free_desks:
        return 0
    raw = (ahead - free_desks + 0.5) / desks * service_minutes
    return int(math.ceil(raw / 5.0) * 5)


def rounded(minutes: float) -> int:
    """A forecast as the screens say it: 0 only when a desk is free now, else to 5 minutes."""
    if minutes <= 0:
        return 0
    return max(5, int(5 * round(minutes / 5.0)))


@dataclass(frozen=True)
class DeskForecast:
    themes: frozenset[int]
    free_in: float  # minutes until it can call


def forecast(
    queue: list[tuple[object, int]], desks: list[DeskForecast], service: dict[int, float]
) -> dict[object, float]:
    """Minutes until each visitor of `queue` ((key, theme) in queue order) is called, with the
    desks calling as call next does; visitors no desk serves are left out."""
    pending: dict[int, deque] = {}
    for order, (visit_key, theme) in enumerate(queue):
        pending.setdefault(theme, deque()).append((order, visit_key))
    free = [(d.free_in, n) for n, d in enumerate(desks) if d.themes]
    heapq.heapify(free)
    waits: dict[object, float] = {}
    while free:
        at, n = heapq.heappop(free)
        heads = [(pending[t][0], t) for t in desks[n].themes if pending.get(t)]
        if not heads:
            continue  # nobody left for this desk's themes: it calls nobody more
        (_order, visit_key), theme = min(heads)
        pending[theme].popleft()
        waits[visit_key] = at
        heapq.heappush(free, (at + service[theme], n))
    return waits


NEWCOMER = object()  # the key of the visitor who would join the queue now


@dataclass
class ThemeQueue:
    theme: Theme
    waiting: int
    longest_wait: dt.timedelta | None
    desks: int
    free_desks: int
    service_minutes: float
    next_served: NextServed | None = None  # only for a theme no open desk serves
    # Forecast minutes for a newcomer and for the theme's waiting visits (by pk); None: the
    # queue was too long to forecast, the rough estimate stands in.
    newcomer_wait: float | None = None
    visit_waits: dict[int, float] = field(default_factory=dict, repr=False)

    def estimate_for(self, ahead: int, visit_id: int | None = None) -> int | None:
        """Minutes the visitor `visit_id` (else a newcomer), with `ahead` people of the theme
        before them, should expect; None if no desk serves the theme."""
        if self.desks == 0:
            return None
        minutes = self.visit_waits.get(visit_id) if visit_id else self.newcomer_wait
        if minutes is None:
            return rough_estimate(ahead, self.desks, self.free_desks, self.service_minutes)
        return rounded(minutes)

    @property
    def estimate(self) -> int | None:
        return self.estimate_for(self.waiting)

    @property
    def longest_wait_minutes(self) -> int | None:
        return None if self.longest_wait is None else int(self.longest_wait.total_seconds() // 60)


def _service_minutes(site: Site, now: dt.datetime) -> tuple[dict[int, float], float]:
    recent = Interview.objects.filter(
        desk__site=site,
        ended_at__isnull=False,
        ended_at__gte=now - SERVICE_WINDOW,
        ended_by_day_close=False,  # their length is made up (see close_forgotten_desks)
        ended_at__lt=F("started_at") + MAX_INTERVIEW,
    ).annotate(duration=F("ended_at") - F("started_at"))
    per_theme = {
        row["theme"]: row["mean"].total_seconds() / 60
        for row in recent.values("theme").annotate(mean=Avg("duration"), n=Count("id"))
        if row["n"] >= MIN_SAMPLES and row["mean"] is not None
    }
    overall = recent.aggregate(mean=Avg("duration"), n=Count("id"))
    site_mean = (
        overall["mean"].total_seconds() / 60
        if overall["n"] >= MIN_SAMPLES and overall["mean"] is not None
        else DEFAULT_SERVICE_MINUTES
    )
    return per_theme, site_mean


def theme_queues(site: Site, now: dt.datetime | None = None) -> list[ThemeQueue]:
    """Every active theme of the site with its queue, in the site's order. Read live (no
    `now`), the newcomers' waits are remembered as the ones the screens show (`shown_wait`)."""
    live = now is None
    now = now or timezone.now()
    themes = list(Theme.objects.filter(site=site, active=True))
    waiting_now = Visit.objects.filter(site=site, status=Visit.Status.WAITING)
    # The queue in order, for the forecast; past FORECAST_QUEUE, counts only.
    queue = list(
        waiting_now.order_by("queued_at", "pk").values_list("pk", "theme_id", "queued_at")[
            : FORECAST_QUEUE + 1
        ]
    )
    if len(queue) > FORECAST_QUEUE:
        queue = None
        waiting = {
            row["theme"]: (row["n"], row["oldest"])
            for row in waiting_now.values("theme").annotate(n=Count("id"), oldest=Min("queued_at"))
        }
    else:
        waiting = {}
        for _pk, theme, queued in queue:  # oldest first: the first seen is the oldest
            n, oldest = waiting.get(theme, (0, queued))
            waiting[theme] = (n + 1, oldest)
    # Open, unpaused sessions (a desk with no session at all is not open).
    open_sessions = list(
        DeskSession.objects.filter(
            desk__site=site, closed_at__isnull=True, paused_since__isnull=True
        ).prefetch_related("themes")
    )
    held = {
        desk: (theme, status, called, started)
        for desk, theme, status, called, started in Visit.objects.filter(
            desk_id__in=[s.desk_id for s in open_sessions],
            status__in=[Visit.Status.CALLED, Visit.Status.IN_INTERVIEW],
        ).values_list("desk_id", "theme_id", "status", "called_at", "started_at")
    }
    per_theme_service, site_service = _service_minutes(site, now)
    service = {theme.pk: per_theme_service.get(theme.pk, site_service) for theme in themes}
    queues = []
    for theme in themes:
        serving = [s for s in open_sessions if any(t.pk == theme.pk for t in s.themes.all())]
        row = waiting.get(theme.pk)
        queues.append(
            ThemeQueue(
                theme=theme,
                waiting=row[0] if row else 0,
                longest_wait=(now - row[1]) if row else None,
                desks=len(serving),
                free_desks=sum(1 for s in serving if s.desk_id not in held),
                service_minutes=service[theme.pk],
            )
        )
    if queue is not None and any(q.desks for q in queues):
        _forecast_waits(
            queues, [(pk, theme) for pk, theme, _at in queue], open_sessions, held, service, now
        )
    unserved = [q for q in queues if q.desks == 0]
    if unserved:  # four queries, only when a theme has no desk open
        planned = next_served_by_theme(site, now)
        for queue in unserved:
            occurrence = planned.get(queue.theme.pk)
            if occurrence is not None:
                queue.next_served = NextServed.of(occurrence, site, now)
    if live:
        _remember_shown_waits(site, queues, now)
    return queues


def _desk_forecasts(open_sessions, held, service, now) -> list[DeskForecast]:
    desks = []
    for session in open_sessions:
        free_in = 0.0
        if session.desk_id in held:
            theme, status, _called, started = held[session.desk_id]
            length = service.get(theme, DEFAULT_SERVICE_MINUTES)
            if status == Visit.Status.IN_INTERVIEW and started is not None:
                elapsed = (now - started).total_seconds() / 60
                free_in = max(length - elapsed, length / 4)
            else:  # called: the walk to the desk, then a whole interview
                free_in = length
        themes = frozenset(t.pk for t in session.themes.all())
        desks.append(DeskForecast(themes=themes & service.keys(), free_in=free_in))
    return desks


def _forecast_waits(queues, queue, open_sessions, held, service, now) -> None:
    """Fill each served queue's forecast, from the site's queue in order ((pk, theme))."""
    desks = _desk_forecasts(open_sessions, held, service, now)
    everyone = forecast(queue, desks, service)
    for q in queues:
        if q.desks:
            q.visit_waits = {pk: everyone[pk] for pk, theme in queue if theme == q.theme.pk}
            q.newcomer_wait = forecast([*queue, (NEWCOMER, q.theme.pk)], desks, service)[NEWCOMER]


def _shown_key(site: Site) -> str:
    return f"shown-waits:{site.pk}"


def _remember_shown_waits(site: Site, queues: list[ThemeQueue], now: dt.datetime) -> None:
    waits = {q.theme.pk: q.estimate for q in queues}
    caches["live"].set(_shown_key(site), (now.timestamp(), waits), int(QUOTE_FRESH.total_seconds()))


@dataclass(frozen=True)
class ShownWait:
    minutes: int | None  # None: the screens said no desk serves the theme


def shown_wait(site: Site, theme_id: int, now: dt.datetime) -> ShownWait | None:
    """The wait the site's screens (the tablet's overview, the waiting room's display, the
    visitors' phones) last showed a newcomer of the theme, if they showed one within
    QUOTE_FRESH: what a visitor checking in now is told. One cache read, no query."""
    shown = caches["live"].get(_shown_key(site))
    if not shown:
        return None
    at, waits = shown
    if theme_id not in waits or not 0 <= now.timestamp() - at <= QUOTE_FRESH.total_seconds():
        return None
    return ShownWait(minutes=waits[theme_id])


@dataclass(frozen=True)
class CheckInCutOff:
    """When reception stops checking visitors in for a theme today (see
    Theme.last_check_in_minutes), and when its last planned walk-in desk ends; both aware."""

    at: dt.datetime
    last_desk_ends: dt.datetime
    passed: bool


def check_in_cut_offs(
    site: Site, themes: list[Theme], now: dt.datetime | None = None
) -> dict[int, CheckInCutOff]:
    """For each of `themes` with a last check-in time, today's cut-off: that many minutes before
    the end of the last walk-in desk the plan has for it today. A theme without one, or that the
    plan does not serve today, has none (reception checks in as long as the site is open). No
    query unless a theme has a last check-in time."""
    now = now or timezone.now()
    with_cut_off = [t for t in themes if t.last_check_in_minutes is not None]
    if not with_cut_off:
        return {}
    today = site.local_date(now)
    walk_in = [o for o in plan_between(site, today, today)[today] if o.walk_in]
    cut_offs = {}
    for theme in with_cut_off:
        ends = [o.ends for o in walk_in if theme.pk in o.theme_ids]
        if ends:
            at = max(ends) - dt.timedelta(minutes=theme.last_check_in_minutes)
            cut_offs[theme.pk] = CheckInCutOff(at=at, last_desk_ends=max(ends), passed=now >= at)
    return cut_offs


def long_waits(site: Site, theme_queues: list[ThemeQueue]) -> list[ThemeQueue]:
    """The queues whose longest wait passed the site's alert threshold, longest first."""
    if site.long_wait_minutes is None:
        return []
    return sorted(
        (
            q
            for q in theme_queues
            if q.longest_wait_minutes is not None
            and q.longest_wait_minutes >= site.long_wait_minutes
        ),
        key=lambda q: -q.longest_wait_minutes,
    )


def waiting_visits(site: Site):
    return (
        Visit.objects.filter(site=site, status=Visit.Status.WAITING)
        .select_related("theme")
        .order_by("queued_at", "pk")
    )


def recently_left(site: Site, window: dt.timedelta, now: dt.datetime | None = None):
    """Tickets reception marked “Left” within `window`: it may still put them back."""
    now = now or timezone.now()
    return (
        Visit.objects.filter(
            site=site,
            local_date=site.local_date(now),  # along the site's day index
            status=Visit.Status.LEFT,
            left_how=Visit.LeftHow.WALKED_OUT,
            ended_at__gte=now - window,
        )
        .select_related("theme")
        .order_by("-ended_at", "-pk")
    )


# As many calls as the waiting-room screen has room for, one line each, at 1280×720 and above.
CALLS_SHOWN = 8
CALLS_WINDOW = dt.timedelta(hours=12)


def current_calls(
    site: Site, limit: int = CALLS_SHOWN, now: dt.datetime | None = None
) -> list[Call]:
    """The calls the waiting-room screen shows, newest first: those whose visitor has not reached
    the desk yet. A visit is listed while it is still called by that desk, from that call on (a
    no-show, an interview started, a visit ended or handed back drops out; a referred visitor's
    earlier desks too), once, with its latest call (a recall shows as one)."""
    now = now or timezone.now()
    # The window only keeps the scan on the site's recent calls (call_site_recent_idx).
    calls = (
        Call.objects.filter(
            site=site,
            at__gte=now - CALLS_WINDOW,
            visit__status=Visit.Status.CALLED,
            visit__desk=F("desk"),
        )
        .filter(at__gte=F("visit__called_at"))  # this call of the visit, or a recall since
        .select_related("visit", "desk")
        .order_by("-at", "-pk")
    )
    shown: dict[int, Call] = {}
    for call in calls:  # a few rows: one per desk holding a visitor, and its recalls
        shown.setdefault(call.visit_id, call)
    return list(shown.values())[:limit]


def position_in_queue(visit: Visit) -> int:
    """1 for the next visitor to be called in the visit's theme."""
    ahead = Visit.objects.filter(
        Q(queued_at__lt=visit.queued_at) | Q(queued_at=visit.queued_at, pk__lt=visit.pk),
        theme_id=visit.theme_id,
        status=Visit.Status.WAITING,
    ).count()
    return ahead + 1


@dataclass(frozen=True)
class VisitorWait:
    """What a waiting visitor is told: their place in the theme's queue and their wait."""

    position: int  # 1: next to be called
    estimate: int | None  # minutes; None when no desk serves the theme
    desks: int
    next_served: NextServed | None


def wait_of(visit: Visit, now: dt.datetime | None = None) -> VisitorWait:
    queue = next((q for q in theme_queues(visit.site, now) if q.theme.pk == visit.theme_id), None)
    position = position_in_queue(visit)
    return VisitorWait(
        position=position,
        estimate=queue.estimate_for(position - 1, visit.pk) if queue else None,
        desks=queue.desks if queue else 0,
        next_served=queue.next_served if queue else None,
    )


def open_sessions(site: Site):
    return DeskSession.objects.filter(desk__site=site, closed_at__isnull=True)
