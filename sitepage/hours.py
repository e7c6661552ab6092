"""A site's opening hours as its public page tells them: the week, today, whether it is open
now and, when it is not, when it opens next. Wall-clock times in the site's zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from citedesmetiers.models import OpeningPeriod, Site


@dataclass(frozen=True)
class Day:
    weekday: int  # Monday = 0
    name: str
    periods: list[OpeningPeriod]
    today: bool


@dataclass(frozen=True)
class Hours:
    date: dt.date  # today, at the site
    week: list[Day]  # Monday first
    open_now: bool
    closes_at: dt.time | None  # when open now: the end of the current period
    next_opening: dt.datetime | None  # when closed now: naive, the site's wall-clock time

    @property
    def today(self) -> Day:
        return next(day for day in self.week if day.today)

    @property
    def next_opening_days_ahead(self) -> int | None:
        """0 today, 1 tomorrow…"""
        if self.next_opening is None:
            return None
        return (self.next_opening.date() - self.date).days


def hours_of(site: Site, now: dt.datetime | None = None) -> Hours:
    now = now or timezone.now()
    local = now.astimezone(site.zone).replace(tzinfo=None)
    periods = list(site.opening_periods.all())  # ordered by weekday, then opening time
    week = [
        Day(
            weekday=weekday,
            name=str(OpeningPeriod.Weekday(weekday).label),
            periods=[p for p in periods if p.weekday == weekday],
            today=weekday == local.weekday(),
        )
        for weekday in range(7)
    ]
    current = next(
        (p for p in periods if p.weekday == local.weekday() and p.opens <= local.time() < p.closes),
        None,
    )
    return Hours(
        date=local.date(),
        week=week,
        open_now=current is not None,
        closes_at=current.closes if current else None,
        next_opening=None if current else _next_opening(periods, local),
    )


def _next_opening(periods: list[OpeningPeriod], local: dt.datetime) -> dt.datetime | None:
    """The next start of a period after `local`, within a week (None: the site never opens)."""
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        for period in periods:
            if period.weekday != day.weekday():
                continue
            starts = dt.datetime.combine(day, period.opens)
            if starts > local:
                return starts
    return None
