"""Recurring workshops: “every Tuesday”, “every 2 weeks on Monday”, “the 2nd Tuesday of each
month”, “the last Friday of each month”. A series only generates ordinary draft events, one per
date; after that each session lives its own life (its own registrations, its own cancellation).

Times are wall-clock times in the site's time zone: a workshop at 10:00 stays at 10:00 local time
on both sides of a daylight-saving change (its UTC instant moves by an hour)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from citedesmetiers.refusals import Refusal

from .models import FIRST_YEAR, LAST_YEAR, WINDOW_MESSAGE

MAX_SESSIONS = 60
LAST = -1  # the ordinal of “the last <weekday> of the month”
ORDINALS = (1, 2, 3, 4, LAST)

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


class SeriesError(Refusal):
    """A refusal to show to the organiser as it is."""


class Frequency:
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _weekday_name(weekday: int) -> str:
    from citedesmetiers.models import OpeningPeriod

    return str(OpeningPeriod.Weekday(weekday).label)


def _ordinal_name(ordinal: int) -> str:
    names = {
        1: pgettext("nth weekday of the month", "1st"),
        2: pgettext("nth weekday of the month", "2nd"),
        3: pgettext("nth weekday of the month", "3rd"),
        4: pgettext("nth weekday of the month", "4th"),
        LAST: pgettext("nth weekday of the month", "last"),
    }
    return names[ordinal]


def nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> dt.date | None:
    """The `ordinal`-th `weekday` (0 = Monday) of a month; LAST for the last one. None when the
    month has no such day (a 5th Monday; never the case for 1st–4th)."""
    days_in_month = calendar.monthrange(year, month)[1]
    if ordinal == LAST:
        last = dt.date(year, month, days_in_month)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (ordinal - 1))
    return day if day.month == month else None


@dataclass(frozen=True)
class Recurrence:
    frequency: str
    weekday: int  # 0 = Monday … 6 = Sunday
    interval: int = 1  # weekly: every `interval` weeks
    ordinal: int = 1  # monthly: 1st–4th, or LAST

    def check(self) -> None:
        if self.frequency not in (Frequency.WEEKLY, Frequency.MONTHLY):
            raise SeriesError(_("Choose weekly or monthly."))
        if self.weekday not in range(7):
            raise SeriesError(_("Choose a day of the week."))
        if self.frequency == Frequency.WEEKLY and not 1 <= self.interval <= 52:
            raise SeriesError(_("Repeat every 1 to 52 weeks."))
        if self.frequency == Frequency.MONTHLY and self.ordinal not in ORDINALS:
            raise SeriesError(_("Choose the 1st, 2nd, 3rd, 4th or last day of the month."))

    def dates(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Every date of the recurrence from `first` to `last`, both included."""
        self.check()
        if self.frequency == Frequency.WEEKLY:
            day = first + dt.timedelta(days=(self.weekday - first.weekday()) % 7)
            step = dt.timedelta(weeks=self.interval)
            found = []
            while day <= last:
                found.append(day)
                day += step
            return found
        found = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            day = nth_weekday(year, month, self.weekday, self.ordinal)
            if day is not None and first <= day <= last:
                found.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def describe(self) -> str:
        weekday = _weekday_name(self.weekday)
        if self.frequency == Frequency.WEEKLY:
            if self.interval == 1:
                return _("every %(weekday)s") % {"weekday": weekday}
            return _("every %(n)d weeks on %(weekday)s") % {"n": self.interval, "weekday": weekday}
        return _("the %(nth)s %(weekday)s of each month") % {
            "nth": _ordinal_name(self.ordinal),
            "weekday": weekday,
        }


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
