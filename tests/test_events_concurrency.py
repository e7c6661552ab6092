"""Fifty people press "Register" at the same instant for ten places, then five give their place
back at the same instant: real threads against real PostgreSQL.

Capacity holds because every change of who holds a place locks the event row first. SQLite
serialises every writer (IMMEDIATE transactions), so the race cannot happen there; CI runs the
whole suite on PostgreSQL as well, which is where these run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection

from citedesmetiers.roles import Role
from events import services
from events.models import Registration
from tests.conftest import make_site, make_staff
from tests.events_fixtures import (
    fixture_eager_celery,  # noqa: F401 (a fixture)
    make_event,
    sent,
    statuses,
)
from tests.threads import in_parallel

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks and parallel transactions need PostgreSQL (CI runs this on it).",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery"),
]

CONFIRMED, WAITING = Registration.Status.CONFIRMED, Registration.Status.WAITING


def by_arrival(queryset) -> list[int]:
    """Primary keys in the order the service stamped the arrivals."""
    return list(queryset.order_by("created_at", "pk").values_list("pk", flat=True))


def by_decision(queryset) -> list[int]:
    """Primary keys in the order the rows were written, i.e. the order the event row's lock
    decided them (the sequence is drawn inside the locked transaction)."""
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def test_fifty_people_at_once_for_ten_places():
    event = make_event(make_site("alpha"), capacity=10)

    results = in_parallel(
        50,
        lambda i: services.register(
            event_id=event.pk, pseudonym=f"Visitor {i}", email=f"v{i}@example.org", language="en"
        ),
    )

    assert all(created for _registration, created in results)
    assert statuses(event) == {CONFIRMED: 10, WAITING: 40}
    confirmed = event.registrations.filter(status=CONFIRMED)
    waiting = event.registrations.filter(status=WAITING)
    # Arrival order: everyone on the waiting list arrived after everyone who got a place, and
    # the waiting list (read by created_at, as the promotion reads it) is the order in which
    # people were put on it.
    assert by_arrival(waiting) == by_decision(waiting)
    last_in = max(confirmed.values_list("created_at", flat=True))
    first_waiting = min(waiting.values_list("created_at", flat=True))
    assert last_in <= first_waiting, "someone who arrived later got a place before them"
    assert by_arrival(event.registrations.all()) == by_decision(event.registrations.all())
    # One e-mail each, of the right kind.
    assert len(sent("confirmed")) == 10
    assert len(sent("waiting")) == 40
    assert len({m.to[0] for m in mail.outbox}) == 50


def test_five_cancellations_at_once_promote_the_first_five_waiting_once_each():
    event = make_event(make_site("alpha"), capacity=10)
    for i in range(50):
        services.register(
            event_id=event.pk, pseudonym=f"Visitor {i}", email=f"v{i}@example.org", language="en"
        )
    first_five_waiting = by_arrival(event.registrations.filter(status=WAITING))[:5]
    leaving = list(event.registrations.filter(status=CONFIRMED).values_list("pk", flat=True)[:5])
    mail.outbox.clear()

    in_parallel(5, lambda i: services.cancel_registration(registration_id=leaving[i]))

    assert statuses(event) == {CONFIRMED: 10, WAITING: 35, Registration.Status.CANCELLED: 5}
    promoted = event.registrations.filter(promoted_at__isnull=False)
    assert sorted(promoted.values_list("pk", flat=True)) == sorted(first_five_waiting)
    assert set(promoted.values_list("status", flat=True)) == {CONFIRMED}
    # Nobody promoted twice: one e-mail per promoted person and no other.
    addresses = sorted(m.to[0] for m in sent("promoted"))
    assert addresses == sorted(promoted.values_list("email", flat=True))
    assert len(addresses) == len(set(addresses)) == 5
    assert len(mail.outbox) == 5
    # The rest of the waiting list keeps its order.
    assert by_arrival(event.registrations.filter(status=WAITING)) == by_decision(
        event.registrations.filter(status=WAITING)
    )


def test_the_same_address_twenty_times_at_once_takes_one_place():
    event = make_event(make_site("alpha"), capacity=10)

    results = in_parallel(
        20,
        lambda i: services.register(
            event_id=event.pk, pseudonym="Nadia", email="Nadia@Example.org", language="en"
        ),
    )

    assert [created for _registration, created in results].count(True) == 1
    assert {registration.pk for registration, _created in results} == {event.registrations.get().pk}
    assert statuses(event) == {CONFIRMED: 1}
    assert len(mail.outbox) == 1


def test_the_same_new_place_saved_twice_at_once_is_told_once():
    """A double submit, or two organisers typing the same correction: the second save compares
    with what the first wrote, so each registrant gets one e-mail."""
    from django.test import Client

    site = make_site("alpha")
    organiser = make_staff("erin@alpha.test", Role.EVENT_ORGANISER, site)
    event = make_event(site, place="Room 1", starts_in=dt.timedelta(days=10))
    for name in ("Ana", "Ben", "Cleo"):
        services.register(event_id=event.pk, pseudonym=name, email=f"{name.lower()}@example.org")
    mail.outbox.clear()
    local_start = event.starts_at.astimezone(site.zone)
    data = {
        "title": event.title,
        "kind": event.kind,
        "starts_at": local_start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local_start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Room 7",
        "online_url": "",
        "capacity": "10",
        "audience": event.audience,
        "reminder_days": "2",
    }

    def save(_i: int) -> int:
        client = Client()
        client.force_login(organiser, backend="citedesmetiers.auth_backends.ModelBackend")
        return client.post(f"/events/manage/{event.pk}/edit/", data).status_code

    assert in_parallel(2, save) == [302, 302]

    event.refresh_from_db()
    assert (event.place, event.sequence) == ("Room 7", 1)
    told = sorted(m.to[0] for m in mail.outbox if "Room 7" in m.body)
    assert told == ["ana@example.org", "ben@example.org", "cleo@example.org"]
