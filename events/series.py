"""Recurring workshops: the sessions of a recurrence (events.recurrence) between two dates, at a
time of day, checked. A series only generates ordinary draft events, one per date; after that
each session lives its own life (its own registrations, its own cancellation).

Times are wall-clock times in the site's time zone: a workshop at 10:00 stays at 10:00 local time
on both sides of a daylight-saving change (its UTC instant moves by an hour)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from .models import FIRST_YEAR, LAST_YEAR, WINDOW_MESSAGE
from .recurrence import Recurrence, SeriesError

MAX_SESSIONS = 60

# The event fields a session copies from the series form (times come from the recurrence).
COPIED_FIELDS = (
    "title",
    "kind",
    "description",
    "place",
    "online_url",
    "capacity",
    "audience",
    "reminder_days",
    "confirm_by_email",
)


def local_moment(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`at` o'clock on `day` in `zone`, as an aware datetime in UTC.

    A wall-clock time that does not exist (skipped by the spring change) comes out one hour
    later, as a clock on the wall would show; an ambiguous one (autumn) takes the first."""
    local = dt.datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(dt.UTC)


def session_times(
    *, dates: Iterable[dt.date], at: dt.time, duration: dt.timedelta, zone: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    # The duration is real elapsed time, added in UTC.
    return [(start, start + duration) for start in (local_moment(d, at, zone) for d in dates)]


def plan(
    *,
    recurrence: Recurrence,
    first: dt.date,
    last: dt.date,
    at: dt.time,
    duration: dt.timedelta,
    zone: ZoneInfo,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The sessions a series would have, checked: raises SeriesError when it cannot be made."""
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise SeriesError(str(WINDOW_MESSAGE))
    if last <= first:
        raise SeriesError(_("The last date must be after the first date."))
    if duration <= dt.timedelta(0):
        raise SeriesError(_("A session must last at least a minute."))
    if duration > dt.timedelta(hours=24):
        raise SeriesError(_("A session cannot last more than 24 hours."))
    dates = recurrence.dates(first, last)
    if not dates:
        raise SeriesError(_("No session falls between these dates."))
    if len(dates) > MAX_SESSIONS:
        raise SeriesError(
            _("This would make %(count)d sessions; a series has at most %(max)d.")
            % {"count": len(dates), "max": MAX_SESSIONS}
        )
    return session_times(dates=dates, at=at, duration=duration, zone=zone)
