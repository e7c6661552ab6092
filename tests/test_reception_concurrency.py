"""Several tablets at once, with real threads against real PostgreSQL: ticket numbers never repeat
nor skip, a check-in resubmitted in parallel still makes one visit, and late check-ins turned on
by several tablets at once are one day.

SQLite serialises every writer (IMMEDIATE transactions), so the race cannot happen there; CI runs
the whole suite on PostgreSQL as well, which is where these run."""

from __future__ import annotations

import uuid

import pytest

from reception import services
from reception.models import LateCheckInDay, TicketCounter, Visit
from tests.conftest import make_site
from tests.threads import in_parallel, needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


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


def test_ten_tablets_checking_late_arrivals_in_at_once_turn_one_day_on():
    site = make_site("gamma", always_open=False)
    theme = site.themes.get(letter="E")

    results = in_parallel(
        10,
        lambda i: services.check_in(
            site=site, theme_id=theme.pk, checkin_key=uuid.uuid4(), override_hours=True
        ),
    )

    assert sorted(visit.number for visit, _created in results) == list(range(1, 11))
    assert LateCheckInDay.objects.filter(site=site).count() == 1
