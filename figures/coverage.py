"""The plan's coverage: for one weekday, per theme and hour, the walk-in desks the presence plan
has against the visits the daily figures show for that weekday and hour (mean over the last 8
weeks). A gap is an hour with visitors and no desk, or more visitors than its desks can see."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from citedesmetiers.facts import parse_key
from citedesmetiers.models import Site, Theme
from counselling.models import plan_between

from .models import DailyStat

WEEKS = 8
# A walk-in desk sees about three visitors an hour (20-minute interviews): more is a gap.
VISITS_PER_DESK_HOUR = 3
DEFAULT_HOURS = range(9, 18)


@dataclass(frozen=True)
class Cell:
    desks: int
    visits: float  # mean visits of that weekday and hour over the weeks read

    @property
    def gap(self) -> bool:
        if self.visits <= 0:
            return False
        return self.desks == 0 or self.visits > self.desks * VISITS_PER_DESK_HOUR


@dataclass(frozen=True)
class Coverage:
    day: dt.date  # the date whose plan is shown (the next one of that weekday)
    since: dt.date  # the figures read: [since, until)
    until: dt.date
    hours: list[int]
    rows: list[tuple[Theme, list[Cell]]]

    @property
    def gaps(self) -> int:
        return sum(cell.gap for _theme, cells in self.rows for cell in cells)


def _hours(site: Site, weekday: int) -> list[int]:
    periods = [p for p in site.opening_periods.all() if p.weekday == weekday]
    if not periods:
        return list(DEFAULT_HOURS)
    first = min(p.opens for p in periods).hour
    last = max(p.closes for p in periods)
    return list(range(first, last.hour + (1 if last.minute else 0)))


def coverage(site: Site, weekday: int, today: dt.date) -> Coverage:
    """The coverage of `weekday` (Monday = 0): the plan of its next date from `today` on."""
    day = today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    until = today - dt.timedelta(days=today.weekday())  # this week's Monday: whole weeks only
    since = until - dt.timedelta(weeks=WEEKS)
    visits: Counter = Counter()
    for when, k, n in DailyStat.objects.filter(
        site=site, metric="visits", day__gte=since, day__lt=until
    ).values_list("day", "key", "value"):
        if when.weekday() == weekday:
            dims = parse_key(k)
            visits[(dims["theme"], int(dims["hour"]))] += n
    desks: Counter = Counter()
    for occurrence in plan_between(site, day, day)[day]:
        if not occurrence.walk_in:
            continue
        starts, ends = (t.astimezone(site.zone) for t in (occurrence.starts, occurrence.ends))
        for hour in range(24):
            hour_starts = dt.datetime.combine(day, dt.time(hour), tzinfo=site.zone)
            if starts < hour_starts + dt.timedelta(hours=1) and ends > hour_starts:
                for theme_id in occurrence.theme_ids:
                    desks[(theme_id, hour)] += 1
    hours = _hours(site, weekday)
    rows = [
        (
            theme,
            [
                Cell(desks=desks[(theme.pk, h)], visits=visits[(str(theme.pk), h)] / WEEKS)
                for h in hours
            ],
        )
        for theme in Theme.objects.filter(site=site, active=True)
    ]
    return Coverage(day=day, since=since, until=until, hours=hours, rows=rows)
