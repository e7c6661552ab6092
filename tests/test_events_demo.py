"""The demo's events fall on days its site is open, inside its opening hours, and never on a
public holiday (no symposium on 25 December at a site closed on Sundays)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from citedesmetiers.models import OpeningPeriod
from events.demo import PLAN, easter, public_holidays, seed_events
from events.models import Event
from figures.demo import OPENING_HOURS
from tests.conftest import make_site

pytestmark = pytest.mark.django_db


def demo_site(slug: str = "demo"):
    site = make_site(slug, always_open=False)
    for weekday, opens, closes in OPENING_HOURS:
        OpeningPeriod.objects.create(site=site, weekday=weekday, opens=opens, closes=closes)
    return site


def seeded_on(monkeypatch, site, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(8, 0), tzinfo=site.zone)
    monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(dt.UTC))
    seed_events(site)


def test_easter_and_the_holidays_that_follow_it():
    assert [easter(year) for year in (2024, 2025, 2026, 2027)] == [
        dt.date(2024, 3, 31),
        dt.date(2025, 4, 20),
        dt.date(2026, 4, 5),
        dt.date(2027, 3, 28),
    ]
    holidays = public_holidays(2026)
    assert {dt.date(2026, 1, 1), dt.date(2026, 5, 1), dt.date(2026, 12, 25)} <= holidays
    assert {dt.date(2026, 4, 6), dt.date(2026, 5, 14), dt.date(2026, 5, 25)} <= holidays
    assert dt.date(2026, 12, 24) not in holidays


@pytest.mark.parametrize(
    "today",
    # Seeded around Christmas and New Year, on a Saturday, on a Sunday, and before 1 May.
    [dt.date(2026, 12, 1) + dt.timedelta(days=n) for n in range(0, 7)]
    + [dt.date(2026, 12, 12), dt.date(2026, 12, 13), dt.date(2027, 4, 20)],
)
def test_demo_events_fall_only_on_open_days_inside_the_opening_hours(monkeypatch, today):
    site = demo_site()
    periods = {}
    for weekday, opens, closes in OPENING_HOURS:
        periods.setdefault(weekday, []).append((opens, closes))

    seeded_on(monkeypatch, site, today)

    events = list(Event.objects.filter(site=site))
    assert len(events) == len(PLAN)
    for event in events:
        starts, ends = event.starts_at.astimezone(site.zone), event.ends_at.astimezone(site.zone)
        assert starts.date() == ends.date()
        assert starts.date() not in public_holidays(starts.year), event
        assert any(
            opens <= starts.time() and ends.time() <= closes
            for opens, closes in periods.get(starts.weekday(), [])
        ), f"{event} on {starts:%A %d %B %H:%M}–{ends:%H:%M}"


def test_seeding_twice_on_the_same_day_adds_nothing(monkeypatch):
    site = demo_site()
    seeded_on(monkeypatch, site, dt.date(2026, 12, 20))
    count = Event.objects.count()

    seeded_on(monkeypatch, site, dt.date(2026, 12, 20))

    assert Event.objects.count() == count == len(PLAN)


def test_the_past_events_have_attendance_and_no_addresses_left(monkeypatch):
    site = demo_site()
    seeded_on(monkeypatch, site, dt.date(2026, 12, 20))
    now = timezone.now()

    for event in Event.objects.filter(site=site, capacity__isnull=False):
        registrations = list(event.registrations.all())
        if event.ends_at < now:
            assert all(not r.email for r in registrations)
            assert any(r.attended is not None for r in registrations)
        else:
            assert all(r.attended is None for r in registrations)
