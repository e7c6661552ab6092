"""Events in the Django admin: registrations read-only, and an event saved through the same
services as the organisers' screen (the same promotions, the same e-mails)."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from citedesmetiers.models import OutboxMessage, User
from events.models import Event, Registration
from tests.events_fixtures import (
    fixture_eager_celery,  # noqa: F401 (a fixture)
)
from tests.events_organiser_fixtures import (
    MANAGE,
    PARIS,
    alpha_series,
    make_event,
    register,
    unchanged_post,
)

# --- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.org", password="x")


def test_the_admin_shows_registrations_read_only(centre, superuser, client):
    event = make_event(centre.alpha)
    register(event, "Ana", "ana@example.org")
    alpha_series(centre)
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser, backend="citedesmetiers.auth_backends.ModelBackend")

    listing = client.get("/admin/events/event/")
    page = client.get(f"/admin/events/event/{event.pk}/change/")
    series_listing = client.get("/admin/events/series/")

    assert listing.status_code == page.status_code == series_listing.status_code == 200
    html = page.content.decode()
    assert "ana@example.org" in html
    assert 'name="registrations-0-email"' not in html
    assert 'name="registrations-0-pseudonym"' not in html


def _admin_change(client, event: Event, **changes) -> dict:
    """The admin's change form of `event` as it stands, with `changes`, ready to post."""
    form = client.get(f"/admin/events/event/{event.pk}/change/").context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("themes", "partners", "starts_at", "ends_at")
    }
    registrations = list(event.registrations.order_by("pk").values_list("pk", flat=True))
    local = event.starts_at.astimezone(PARIS)
    data.update(
        starts_at_0=local.strftime("%Y-%m-%d"),
        starts_at_1=local.strftime("%H:%M:%S"),
        ends_at_0=(local + dt.timedelta(hours=2)).strftime("%Y-%m-%d"),
        ends_at_1=(local + dt.timedelta(hours=2)).strftime("%H:%M:%S"),
        site=event.site_id,
        **{
            "registrations-TOTAL_FORMS": str(len(registrations)),
            "registrations-INITIAL_FORMS": str(len(registrations)),
            "registrations-MIN_NUM_FORMS": "0",
            "registrations-MAX_NUM_FORMS": "1000",
        },
    )
    for n, pk in enumerate(registrations):
        data[f"registrations-{n}-id"] = str(pk)
        data[f"registrations-{n}-event"] = str(event.pk)
    data.update(changes)
    return data


def _admin(client, superuser):
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser, backend="citedesmetiers.auth_backends.ModelBackend")
    return client


def test_more_places_in_the_admin_promote_the_waiting_list_too(centre, superuser, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Ana")
    waiting = register(event, "Ben")
    client = _admin(client, superuser)

    response = client.post(
        f"/admin/events/event/{event.pk}/change/", _admin_change(client, event, capacity="2")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert event.capacity == 2
    assert waiting.status == Registration.Status.CONFIRMED
    assert event.sequence == 0  # same date, same place


def test_a_new_room_set_in_the_admin_is_told_too(
    centre, superuser, client, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha, place="Room 1")
    register(event, "Ana", "ana@example.org")
    client = _admin(client, superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/events/event/{event.pk}/change/",
            _admin_change(client, event, place="Room 5, 2nd floor"),
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert (event.place, event.sequence) == ("Room 5, 2nd floor", 1)
    (message,) = mailoutbox
    assert message.to == ["ana@example.org"]
    assert "Room 5, 2nd floor" in message.body


def _queued(event: Event) -> list[tuple[str, str]]:
    """The e-mails queued (not yet sent) for `event`'s registrants: (kind, pseudonym)."""
    names = dict(event.registrations.values_list("pk", "pseudonym"))
    return sorted(
        (message.payload["kind"], names[message.payload["registration"]])
        for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        if message.payload.get("registration") in names
    )


def _effects(event: Event, moved_to: dt.datetime) -> tuple:
    event.refresh_from_db()
    people = sorted(
        (r.pseudonym, r.status, r.reminder_sent_at is None) for r in event.registrations.all()
    )
    return event.sequence, event.capacity, event.starts_at == moved_to, people, _queued(event)


def test_the_admin_saves_an_event_with_the_same_effects_as_the_organisers_screen(
    centre, superuser, client, login
):
    """Both go through services.update_event: a place more and a day later promote the one
    waiting, and tell everyone with an address, the same way."""
    effects = []
    for via_admin in (False, True):
        event = make_event(centre.alpha, days=1.5, capacity=1, place="Room 2", reminder_days=2)
        register(event, "Ana", "ana@example.org")
        register(event, "Ben", "ben@example.org")  # waiting
        later = (event.starts_at + dt.timedelta(days=1)).astimezone(PARIS)
        later = later.replace(second=0, microsecond=0)
        if via_admin:
            admin = _admin(client, superuser)
            data = _admin_change(
                admin,
                event,
                capacity="2",
                starts_at_0=later.strftime("%Y-%m-%d"),
                starts_at_1=later.strftime("%H:%M:%S"),
                ends_at_0=(later + dt.timedelta(hours=2)).strftime("%Y-%m-%d"),
                ends_at_1=(later + dt.timedelta(hours=2)).strftime("%H:%M:%S"),
            )
            response = admin.post(f"/admin/events/event/{event.pk}/change/", data)
        else:
            data = unchanged_post(
                centre,
                event,
                capacity="2",
                starts_at=later.strftime("%Y-%m-%dT%H:%M"),
                ends_at=(later + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            )
            response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data)
        assert response.status_code == 302
        effects.append(_effects(event, later))

    organiser, admin = effects
    assert admin == organiser
    sequence, capacity, moved, people, queued = organiser
    assert (sequence, capacity, moved) == (1, 2, True)
    assert [status for _name, status, _none in people] == ["confirmed", "confirmed"]
    assert queued == [("event_changed", "Ana"), ("event_changed", "Ben"), ("promoted", "Ben")]


def test_the_admin_adds_an_event_as_a_draft_through_the_services(centre, superuser, client):
    admin = _admin(client, superuser)
    form = admin.get("/admin/events/event/add/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        site=centre.alpha.pk,
        title="Mock interviews",
        kind=Event.Kind.WORKSHOP,
        audience=Event.Audience.EVERYONE,
        starts_at_0="2030-05-06",
        starts_at_1="10:00:00",
        ends_at_0="2030-05-06",
        ends_at_1="12:00:00",
        capacity="8",
        reminder_days="2",
        themes=[centre.alpha.themes.get(letter="E").pk],
        **{
            "registrations-TOTAL_FORMS": "0",
            "registrations-INITIAL_FORMS": "0",
            "registrations-MIN_NUM_FORMS": "0",
            "registrations-MAX_NUM_FORMS": "1000",
        },
    )

    response = admin.post("/admin/events/event/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(title="Mock interviews")
    assert (event.site, event.status, event.capacity) == (centre.alpha, "draft", 8)
    assert list(event.themes.values_list("letter", flat=True)) == ["E"]
