"""Several tablets at once, with real threads against real PostgreSQL: ticket numbers never repeat
nor skip, and a check-in resubmitted in parallel still makes one visit.

SQLite serialises every writer (IMMEDIATE transactions), so the race cannot happen there; CI runs
the whole suite on PostgreSQL as well, which is where these run."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection

from reception import services
from reception.models import TicketCounter, Visit
from tests.conftest import make_site

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks and parallel transactions need PostgreSQL (CI runs this on it).",
    ),
    pytest.mark.django_db(transaction=True),
]


def in_parallel(count: int, work: Callable[[int], object]) -> list:
    """Run `work(i)` in `count` threads released together; each closes its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a check-in never finished"
    assert errors == []
    return results


def test_twenty_tablets_at_once_get_twenty_consecutive_numbers():
    site = make_site("alpha")
    theme = site.themes.get(letter="E")

    results = in_parallel(
        20,
        lambda i: services.check_in(site=site, theme_id=theme.pk, checkin_key=uuid.uuid4()),
    )

    assert all(created for _visit, created in results)
    numbers = sorted(visit.number for visit, _created in results)
    assert numbers == list(range(1, 21))
    assert sorted(Visit.objects.values_list("number", flat=True)) == list(range(1, 21))
    assert len({visit.code for visit, _created in results}) == 20
    assert TicketCounter.objects.get(site=site, letter="E").last_number == 20


def test_the_same_check_in_sent_ten_times_at_once_makes_one_visit():
    site = make_site("alpha")
    theme = site.themes.get(letter="E")
    key = uuid.uuid4()

    results = in_parallel(
        10, lambda i: services.check_in(site=site, theme_id=theme.pk, checkin_key=key)
    )

    assert Visit.objects.count() == 1
    visit = Visit.objects.get()
    assert [created for _visit, created in results].count(True) == 1
    assert {v.pk for v, _created in results} == {visit.pk}
    # The losers rolled their number back: nothing was skipped.
    assert visit.code == "E-001"
    assert services.check_in(site=site, theme_id=theme.pk)[0].code == "E-002"
