"""The page where a registration's code is typed (`/events/code/`) to open it again, to see or
cancel one's place; what the registration page says of the waiting list and of a cancellation;
and the list saying how full each event is."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from citedesmetiers import limits
from citedesmetiers.cache import CacheUnavailable
from events import guard, services
from events.models import Event, Registration, RegistrationKey
from tests.events_fixtures import (
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
    statuses,
)

pytestmark = pytest.mark.usefixtures("in_english")
NOT_FOUND = "We find no registration in progress with this code."
FIND = "/events/code/"


def typed(client, code: str, **extra):
    return client.post(FIND, {"code": code}, **extra)


# --- the code page ------------------------------------------------------------------------------


def test_the_code_page_has_a_labelled_field(db, client):
    response = client.get(FIND)

    page = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_code">Registration code:</label>' in page
    assert 'name="code"' in page and 'method="post"' in page


def test_a_code_typed_as_people_type_it_opens_the_registration(centre, client):
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia")  # on the spot or without an address: only the code is kept
    sloppy = f" {nadia.code[:4].lower()} - {nadia.code[4:]} "

    response = typed(client, sloppy, follow=True)

    ((url, status),) = response.redirect_chain
    assert status == 302 and url.startswith("/events/r/")
    page = response.content.decode()
    assert "Your place is booked." in page
    assert nadia.code in page
    assert "Cancel my registration" in page


def test_the_code_page_leads_to_cancelling_the_place(centre, client):
    event = make_event(centre.alpha, capacity=1)
    nadia = register(event, "Nadia")
    karim = register(event, "Karim")  # waiting
    page_url = typed(client, nadia.code).url

    response = client.post(page_url + "cancel/", follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("events:cancelled", args=[event.pk])
    assert "Your registration is cancelled." in page
    assert "Add to my calendar" not in page
    assert statuses(event) == {"cancelled": 1, "confirmed": 1}
    karim.refresh_from_db()
    assert karim.status == Registration.Status.CONFIRMED
    # Its code now opens nothing, like a code that never was.
    assert NOT_FOUND in typed(client, nadia.code).content.decode()


def test_every_code_that_opens_nothing_gets_the_same_answer(centre, client):
    event = make_event(centre.alpha, capacity=5)
    cancelled = register(event, "Nadia")
    services.cancel_registration(registration_id=cancelled.pk)
    over = make_event(centre.alpha, starts_in=-dt.timedelta(days=2))
    past = Registration.objects.create(event=over, status=Registration.Status.CONFIRMED)
    draft = make_event(centre.alpha, status=Event.Status.DRAFT)
    hidden = Registration.objects.create(event=draft, status=Registration.Status.CONFIRMED)
    keys_before = RegistrationKey.objects.count()

    answers = [
        typed(client, code)
        for code in ["ZZZZZZZZ", cancelled.code, past.code, hidden.code, "short", "é" * 8]
    ]

    bodies = set()
    for response in answers:
        assert response.status_code == 404
        page = response.content.decode()
        assert NOT_FOUND in page
        assert 'name="code"' in page  # to type it again
        # The same page but for what was typed (echoed in the field) and the CSRF tokens.
        bodies.add(re.sub(r'value="[^"]*"|"X-CSRFToken": "\w+"', "", page))
    assert len(bodies) == 1  # nothing tells a cancelled code from an unknown one
    assert RegistrationKey.objects.count() == keys_before


def test_an_empty_code_is_asked_for_again(db, client):
    response = typed(client, "")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_typing_codes_is_limited_per_address(centre, client, monkeypatch):
    monkeypatch.setattr(guard, "CODE_LOOKUPS_PER_HOUR", 3)
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia")
    for n in range(3):
        assert typed(client, f"WRONG{n:03}").status_code == 404
    links = RegistrationKey.objects.count()

    refused = typed(client, nadia.code)

    assert refused.status_code == 429
    assert "Too many codes were typed." in refused.content.decode()
    assert RegistrationKey.objects.count() == links  # no new link to the registration
    # Someone else, elsewhere, is not held back.
    assert typed(client, nadia.code, REMOTE_ADDR="10.9.8.7").status_code == 302


def test_typing_codes_is_limited_per_network(centre, client, monkeypatch):
    monkeypatch.setattr(guard, "CODE_LOOKUPS_PER_NETWORK_PER_HOUR", 4)
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia")
    for n in range(4):
        typed(client, f"WRONG{n:03}", REMOTE_ADDR=f"192.0.2.{n + 1}")

    assert typed(client, nadia.code, REMOTE_ADDR="192.0.2.99").status_code == 429
    assert typed(client, nadia.code, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_typing_codes_has_a_ceiling_for_everyone_together(centre, client, monkeypatch):
    # A script renting networks by the thousand stays under each network's limit.
    monkeypatch.setattr(guard, "CODE_LOOKUPS_PER_HOUR_EVERYWHERE", 5)
    nadia = register(make_event(centre.alpha, capacity=5), "Nadia")
    for n in range(5):
        typed(client, f"WRONG{n:03}", REMOTE_ADDR=f"203.0.{n}.1")

    assert typed(client, nadia.code, REMOTE_ADDR="198.51.100.1").status_code == 429


def test_without_a_cache_to_count_no_code_is_looked_up(centre, client, monkeypatch):
    def down(*args, **kwargs):
        raise CacheUnavailable

    monkeypatch.setattr(limits, "count_hits", down)
    nadia = register(make_event(centre.alpha, capacity=5), "Nadia")
    links = RegistrationKey.objects.count()

    response = typed(client, nadia.code)

    assert response.status_code == 429
    assert "Codes cannot be looked up just now." in response.content.decode()
    assert RegistrationKey.objects.count() == links


# --- what the registration page says ------------------------------------------------------------


def registration_page(client, registration: Registration) -> str:
    return client.get(typed(client, registration.code).url).content.decode()


def test_the_waiting_list_without_an_address_promises_nothing_it_cannot_keep(centre, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    karim = register(event, "Karim")

    page = registration_page(client, karim)

    assert "You are number 1 on the waiting list." in page
    assert "automatically" not in page and "we tell you by e-mail" not in page
    assert "Without an e-mail address we cannot tell you" in page
    assert reverse("events:find") in page  # where to type the code


def test_the_waiting_list_with_an_address_says_the_mail_will_tell(centre, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    karim = register(event, "Karim", "karim@example.org")

    page = registration_page(client, karim)

    assert "it is yours and we tell you by e-mail" in page
    assert "Without an e-mail address" not in page


def test_a_registration_for_a_cancelled_event_offers_no_calendar(centre, client):
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia")
    services.cancel_event(event_id=event.pk)

    page = registration_page(client, nadia)

    assert "This event has been cancelled." in page
    assert reverse("events:ics", args=[event.pk]) not in page


def test_the_page_of_a_place_offers_the_calendar_and_the_code_page(centre, client):
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia")

    page = registration_page(client, nadia)

    assert reverse("events:ics", args=[event.pk]) in page
    assert f'href="{reverse("events:find")}"' in page


# --- the list -----------------------------------------------------------------------------------


def test_the_list_says_how_full_each_event_is_not_how_many_places_are_left(centre, client):
    soon = timezone.now() + dt.timedelta(days=2)
    roomy = make_event(centre.alpha, title="Roomy", capacity=20, starts_at=soon)
    few = make_event(centre.alpha, title="Nearly full", capacity=10, starts_at=soon)
    full = make_event(centre.alpha, title="Full", capacity=2, starts_at=soon)
    make_event(centre.alpha, title="Open door", capacity=None, starts_at=soon)
    make_event(centre.alpha, title="Under way", capacity=10, starts_in=-dt.timedelta(hours=1))
    register(roomy, "Nadia")
    for n in range(8):
        register(few, f"Visitor {n}")
    for n in range(3):
        register(full, f"Visitor {n}")  # the third waits

    page = client.get(reverse("events:list")).content.decode()

    def label(title: str) -> str:
        hit = page[page.index(f"<strong>{title}</strong>") :]
        return hit[
            hit.index('class="availability') : hit.index("</span>", hit.index("availability"))
        ]

    assert "Places available" in label("Roomy")
    assert "Only a few places left" in label("Nearly full")
    assert "Full: waiting list" in label("Full")
    assert "No registration: just come along" in label("Open door")
    assert "Registration closed" in label("Under way")
    assert "19" not in label("Roomy") and "19 places" not in page


def test_the_filters_are_folded_even_in_use_and_say_how_many_are(programme_lite, client):
    folded = client.get(reverse("events:list")).content.decode()
    filtered = client.get(reverse("events:list"), {"kind": "workshop"}).content.decode()

    assert '<details class="filters-fold panel">' in folded
    assert '<details class="filters-fold panel">' in filtered
    assert "(1 active)" in filtered and "(1 active)" not in folded


@pytest.fixture
def programme_lite(centre):
    make_event(centre.alpha, title="CV workshop")
    return centre
