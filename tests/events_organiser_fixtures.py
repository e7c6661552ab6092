"""Small builders shared by the tests of the organisers' screens: an event, registrations
through the service (their own e-mails taken as sent), the forms as posted."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from events import services
from events.models import Event, Registration, Series
from events.recurrence import Frequency, Recurrence
from events.services import create_series
from tests.conftest import Centre
from tests.events_fixtures import already_sent

PARIS = ZoneInfo("Europe/Paris")
MANAGE = "/events/manage"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def make_event(site, *, days: float = 7, capacity: int | None = 10, **extra) -> Event:
    starts_at = timezone.now() + dt.timedelta(days=days)
    extra.setdefault("status", Event.Status.PUBLISHED)
    return Event.objects.create(
        site=site,
        title=extra.pop("title", "CV workshop"),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        capacity=capacity,
        **extra,
    )


def register(event: Event, name: str, email: str = "", **extra) -> Registration:
    registration, _created = services.register(
        event_id=event.pk, pseudonym=name, email=email, **extra
    )
    already_sent()  # the setup's own e-mails are not what these tests look at
    return registration


def move_to_the_past(event: Event, days: int = 3) -> Event:
    starts_at = timezone.now() - dt.timedelta(days=days)
    Event.objects.filter(pk=event.pk).update(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
    )
    event.refresh_from_db()
    return event


def alpha_registration(c: Centre) -> tuple[Event, Registration]:
    event = make_event(c.alpha)
    return event, register(event, "Ana")


def alpha_series(c: Centre) -> Series:
    return create_series(
        site=c.alpha,
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekday=1),
        first=dt.date.today() + dt.timedelta(days=7),
        last=dt.date.today() + dt.timedelta(days=30),
        at=dt.time(10),
        duration=dt.timedelta(hours=1),
        details={"title": "Job club", "capacity": 8},
    )


def event_post(centre: Centre, **changes) -> dict:
    data = {
        "title": "Write a cover letter",
        "kind": Event.Kind.WORKSHOP,
        "themes": [centre.alpha.themes.get(letter="E").pk],
        "description": "Bring a job ad.",
        "partners": [centre.partner_a.pk],
        "starts_at": "2030-05-06T10:00",
        "ends_at": "2030-05-06T12:00",
        "place": "Room 2",
        "online_url": "",
        "capacity": "12",
        "audience": Event.Audience.JOB_SEEKERS,
        "reminder_days": "2",
    }
    data.update(changes)
    return data


def unchanged_post(centre: Centre, event: Event, **changes) -> dict:
    """The edit form of `event` at its own date and time (to the minute, as the form shows it)."""
    local_start = event.starts_at.astimezone(PARIS)
    data = event_post(
        centre,
        starts_at=local_start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(local_start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        place=event.place,
        capacity=str(event.capacity),
    )
    data.update(changes)
    return data
