"""Two aggregations of one site-day at once — the day close (every 15 minutes) and the nightly
run — with real threads on real PostgreSQL: the second waits for the first, then replaces the
day's figures; neither fails and nothing is counted twice.

SQLite serialises writers, so there is no race there; these run on PostgreSQL only."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from figures import stats
from figures.models import AggregatedDay, DailyStat
from reception import services as reception
from tests.conftest import make_site
from tests.test_counselling_concurrency import BARRIER_TIMEOUT
from tests.threads import in_background

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Races need real row locks: run with DATABASE_URL=postgres://… (CI does).",
    ),
    pytest.mark.django_db(transaction=True),
]

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2025, 3, 11)


def figures(site) -> list[tuple]:
    return sorted(
        DailyStat.objects.filter(site=site).values_list("day", "source", "metric", "key", "value")
    )


@pytest.mark.parametrize("before", ["never aggregated", "aggregated already"])
def test_two_aggregations_of_one_day_at_once_count_it_once(settings, before):
    settings.RAW_RETENTION_DAYS = 100_000  # the day keeps its raw rows: really aggregate it
    site = make_site("alpha")
    for hour in (9, 10, 11):
        reception.check_in(
            site=site,
            theme_id=site.themes.get(letter="E").pk,
            now=dt.datetime.combine(DAY, dt.time(hour), tzinfo=PARIS),
        )
    if before == "aggregated already":
        stats.aggregate_day(site, DAY)

    def close_the_day():
        return stats.aggregate_day(site, DAY)

    with transaction.atomic():
        # The nightly run has replaced the day's figures and not committed yet.
        nightly = stats.aggregate_day(site, DAY)
        day_close = in_background(close_the_day, timeout=BARRIER_TIMEOUT, waits_for_locks=True)
        day_close.wait_until_blocked()

    assert day_close.join() == nightly > 0
    counted = figures(site)
    assert len(counted) == nightly
    assert sum(value for _day, _source, metric, _key, value in counted if metric == "visits") == 3
    stats.aggregate_day(site, DAY)  # once more, alone: the same figures
    assert figures(site) == counted
    assert AggregatedDay.objects.filter(site=site, day=DAY).count() == 1
