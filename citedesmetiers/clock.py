"""The one way to turn a site's local day into instants: where it starts and ends in UTC (a local
day is 23 or 25 hours long when the clocks change)."""

from __future__ import annotations

import datetime as dt


def local_day_bounds(zone, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a local day starts and ends (23 or 25 hours long on DST days)."""
    if isinstance(day, dt.datetime):
        # An instant's date is its UTC date, a day off the site's for hours around midnight.
        raise TypeError("a local day is a date: take it from site.local_date(instant)")
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
