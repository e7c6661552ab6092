"""A site with real opening hours, and a clock to put things in its days: for the tests of what
happens when a day closes (reception's queues, forgotten desks).

Site Gamma opens every day 09:30–12:30 and 13:30–17:30, Paris time; “today” is Wednesday 6 May
2026."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from citedesmetiers.models import OpeningPeriod
from tests.conftest import make_site

PARIS = ZoneInfo("Europe/Paris")
TODAY = dt.date(2026, 5, 6)
YESTERDAY = TODAY - dt.timedelta(days=1)


def at(hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture(name="gamma")
def fixture_gamma(db):
    site = make_site("gamma", always_open=False)
    for weekday in range(7):
        OpeningPeriod.objects.create(
            site=site, weekday=weekday, opens=dt.time(9, 30), closes=dt.time(12, 30)
        )
        OpeningPeriod.objects.create(
            site=site, weekday=weekday, opens=dt.time(13, 30), closes=dt.time(17, 30)
        )
    return site
