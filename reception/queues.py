"""Reading the queues: what the tablet, the waiting-room screen and the visitor's phone show.

Estimated wait — the formula (also in the README):

    service  = mean duration of the theme's interviews at this site over the last 14 days
               (at least 3 of them; else the site's mean over all themes; else 20 minutes)
    desks    = open, unpaused desks that serve the theme
    free     = those of them with nobody called or in interview
    ahead    = visitors of the theme who joined the queue before this one (all of them, for the
               overview's “a newcomer would wait”)
    wait     = 0 when ahead < free (a desk is free for them), else
               (ahead − free + ½) / desks × service, rounded up to 5 minutes
               (the ½: on average, half of the current interview is left)

With no desk serving the theme there is no honest number: the screens say so instead, and when
the presence plan has a walk-in desk for the theme in the next fortnight, when that is ("next:
Tuesday 14:00"). A desk that
serves several themes is counted whole for each of them, so the estimate is optimistic when themes
share desks; it never invents a wait when nobody can serve.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

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


@dataclass
class ThemeQueue:
    theme: Theme
    waiting: int
    longest_wait: dt.timedelta | None
    desks: int
    free_desks: int
    service_minutes: float
    next_served: NextServed | None = None  # only for a theme no open desk serves

    def estimate_for(self, ahead: int) -> int | None:
        """Minutes a visitor with `ahead` people before them should expect; None if no desk."""
        if self.desks == 0:
            return None
        if ahead < self.free_desks:
            return 0
        raw = (ahead - self.free_desks + 0.5) / self.desks * self.service_minutes
        return int(math.ceil(raw / 5.0) * 5)

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
    """Every active theme of the site with its queue, in the site's order."""
    now = now or timezone.now()
    themes = list(Theme.objects.filter(site=site, active=True))
    waiting = {
        row["theme"]: row
        for row in Visit.objects.filter(site=site, status=Visit.Status.WAITING)
        .values("theme")
        .annotate(n=Count("id"), oldest=Min("queued_at"))
    }
    # Open, unpaused sessions (a desk with no session at all is not open).
    open_sessions = list(
        DeskSession.objects.filter(
            desk__site=site, closed_at__isnull=True, paused_since__isnull=True
        ).prefetch_related("themes")
    )
    busy = set(
        Visit.objects.filter(
            desk_id__in=[s.desk_id for s in open_sessions],
            status__in=[Visit.Status.CALLED, Visit.Status.IN_INTERVIEW],
        ).values_list("desk_id", flat=True)
    )
    per_theme_service, site_service = _service_minutes(site, now)
    queues = []
    for theme in themes:
        serving = [s for s in open_sessions if any(t.pk == theme.pk for t in s.themes.all())]
        row = waiting.get(theme.pk)
        queues.append(
            ThemeQueue(
                theme=theme,
                waiting=row["n"] if row else 0,
                longest_wait=(now - row["oldest"]) if row else None,
                desks=len(serving),
                free_desks=sum(1 for s in serving if s.desk_id not in busy),
                service_minutes=per_theme_service.get(theme.pk, site_service),
            )
        )
    unserved = [q for q in queues if q.desks == 0]
    if unserved:  # four queries, only when a theme has no desk open
        planned = next_served_by_theme(site, now)
        for queue in unserved:
            occurrence = planned.get(queue.theme.pk)
            if occurrence is not None:
                queue.next_served = NextServed.of(occurrence, site, now)
    return queues


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


def open_sessions(site: Site):
    return DeskSession.objects.filter(desk__site=site, closed_at__isnull=True)
