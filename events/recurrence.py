"""How a series' sessions recur: “every Tuesday”, “every 2 weeks on Monday”, “the 2nd Tuesday
of each month”, “the last Friday of each month”, and how that is told in the reader's language.

Free of the events' models, so that a Series (which stores its recurrence) can tell it, and
events.series can plan sessions from it, without either importing the other."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from citedesmetiers.models import OpeningPeriod
from citedesmetiers.refusals import Refusal

LAST = -1  # the ordinal of “the last <weekday> of the month”
ORDINALS = (1, 2, 3, 4, LAST)


class SeriesError(Refusal):
    """A refusal to show to the organiser as it is."""


class Frequency:
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _weekday_name(weekday: int) -> str:
    return str(OpeningPeriod.Weekday(weekday).label)


def _feminine(weekday: int) -> bool:
    """Whether the reader's language makes this weekday feminine: the ordinal and its article
    agree with it ("il primo lunedì", "la prima domenica"; "a 1.ª segunda-feira", "o 1.º
    sábado"). Each translator answers "m" or "f" per weekday."""
    genders = {
        0: pgettext("grammatical gender of Monday: m or f", "m"),
        1: pgettext("grammatical gender of Tuesday: m or f", "m"),
        2: pgettext("grammatical gender of Wednesday: m or f", "m"),
        3: pgettext("grammatical gender of Thursday: m or f", "m"),
        4: pgettext("grammatical gender of Friday: m or f", "m"),
        5: pgettext("grammatical gender of Saturday: m or f", "m"),
        6: pgettext("grammatical gender of Sunday: m or f", "m"),
    }
    return genders[weekday].strip().lower() == "f"


def _ordinal_name(ordinal: int, feminine: bool) -> str:
    if feminine:
        names = {
            1: pgettext("nth weekday of the month, feminine", "1st"),
            2: pgettext("nth weekday of the month, feminine", "2nd"),
            3: pgettext("nth weekday of the month, feminine", "3rd"),
            4: pgettext("nth weekday of the month, feminine", "4th"),
            LAST: pgettext("nth weekday of the month, feminine", "last"),
        }
    else:
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
        feminine = _feminine(self.weekday)
        told = (
            pgettext("a feminine weekday", "the %(nth)s %(weekday)s of each month")
            if feminine
            else _("the %(nth)s %(weekday)s of each month")
        )
        return told % {"nth": _ordinal_name(self.ordinal, feminine), "weekday": weekday}
