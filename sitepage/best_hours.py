"""“The best hours to come”: the last weeks' visits by weekday and hour of arrival, from the
anonymous daily figures with their small cells suppressed (`figures.stats.HeatMap`), laid out as
the site's opening hours are: a row per hour, a column per weekday it opens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.dates import WEEKDAYS_ABBR

from citedesmetiers.models import OpeningPeriod, Site
from figures.stats import SMALL_CELL, HeatMap, suppressed_heat_map

WEEKS = 8
# The figures change once a day (at the day close): no need to read eight weeks at every view.
CACHE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Cell:
    visits: int | None  # None: none, or too few to be given (see `level`)
    level: str  # "closed", "none", "few", "quiet", "busy", "busiest"


@dataclass(frozen=True)
class Row:
    hour: int
    cells: list[Cell]  # one per column

    @property
    def starts(self) -> dt.time:
        return dt.time(self.hour)


@dataclass(frozen=True)
class Column:
    weekday: int
    name: str  # "Monday", read aloud
    short: str  # "Mon", shown: seven columns fit a phone


@dataclass(frozen=True)
class BestHours:
    start: dt.date
    end: dt.date  # inclusive: the last day counted
    columns: list[Column]  # the weekdays the site opens (or had visits)
    rows: list[Row]
    small_cell: int = SMALL_CELL

    @property
    def empty(self) -> bool:
        return all(cell.level in ("closed", "none") for row in self.rows for cell in row.cells)


def heat_map_of(site: Site) -> HeatMap:
    """The last WEEKS whole weeks before today (each weekday counted WEEKS times)."""
    today = site.local_date()
    key = f"sitepage:heat:{site.pk}:{today.isoformat()}"
    heat = cache.get(key)
    if heat is None:
        heat = suppressed_heat_map([site], today - dt.timedelta(weeks=WEEKS), today)
        cache.set(key, heat, CACHE_SECONDS)
    return heat


def _is_open(periods: list[OpeningPeriod], weekday: int, hour: int) -> bool:
    starts, ends = dt.time(hour), dt.time(hour, 59, 59)
    return any(p.weekday == weekday and p.opens <= ends and p.closes > starts for p in periods)


def _level(visits: int, peak: int) -> str:
    share = visits / peak if peak else 0
    return "busiest" if share > 2 / 3 else "busy" if share > 1 / 3 else "quiet"


def best_hours(site: Site, heat: HeatMap) -> BestHours:
    periods = list(site.opening_periods.all())
    open_hours = {
        (day, hour) for day in range(7) for hour in range(24) if _is_open(periods, day, hour)
    }
    weekdays = sorted({day for day, _hour in open_hours} | heat.weekdays)
    hours = sorted({hour for _day, hour in open_hours} | heat.hours)
    if hours:
        hours = list(range(hours[0], hours[-1] + 1))
    rows = []
    for hour in hours:
        cells = []
        for weekday in weekdays:
            visits = heat.counts.get((weekday, hour))
            if visits is not None:
                cells.append(Cell(visits, _level(visits, heat.peak)))
            elif (weekday, hour) in heat.few:
                cells.append(Cell(None, "few"))
            elif (weekday, hour) in open_hours:
                cells.append(Cell(None, "none"))
            else:
                cells.append(Cell(None, "closed"))
        rows.append(Row(hour, cells))
    return BestHours(
        start=heat.start,
        end=heat.end - dt.timedelta(days=1),
        columns=[
            Column(day, str(OpeningPeriod.Weekday(day).label), str(WEEKDAYS_ABBR[day]))
            for day in weekdays
        ],
        rows=rows,
    )
