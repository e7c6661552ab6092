"""Registering through the public form at /events/<id>/: the answers (the same for an address
new or known), the language kept for the e-mails, the waiting list, refusals, the honeypot and
the rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db.models import F
from django.urls import reverse

from events import keys
from events.models import Event, Registration
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    fixture_no_check,  # noqa: F401 (a fixture)
    link_after,
    make_event,
    path_of,
    register,
    sent,
    statuses,
)

pytestmark = pytest.mark.usefixtures("in_english")


# --- registering through the form --------------------------------------------------------------


def post_registration(client, event, **data):
    data.setdefault("pseudonym", "Nadia")
    data.setdefault("email", "")
    data.setdefault("website", "")
    return client.post(reverse("events:register", args=[event.pk]), data)


def test_registering_with_an_address_says_to_check_the_mailbox(centre, client, after_commit):
    event = make_event(centre.alpha, capacity=10)

    with after_commit():
        response = post_registration(client, event, email="nadia@example.org")

    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("events:check_mail", args=[event.pk])
    assert (registration.pseudonym, registration.email) == ("Nadia", "nadia@example.org")
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.language == "en"
    page = client.get(response.url).content.decode()
    assert "Check your mailbox" in page
    assert registration.code not in page
    assert "/events/r/" not in page and "/events/c/" not in page
    # The e-mail has the link to the registration.
    (confirmation,) = sent("confirmed", to="nadia@example.org")
    link = link_after(confirmation.body, "See or cancel my registration:")
    page = client.get(path_of(link)).content.decode()
    assert "Your place is booked." in page
    assert registration.code in page


def test_registering_without_an_address_leads_to_the_registration_page(centre, client):
    event = make_event(centre.alpha, capacity=10)

    response = post_registration(client, event)

    registration = Registration.objects.get()
    token = response.url.split("/")[-2]
    assert response.url == reverse("events:registration", args=[token])
    assert keys.find(token, keys.MANAGE) == registration
    page = client.get(response.url).content.decode()
    assert "Your place is booked." in page
    assert registration.code in page


def test_a_registered_address_typed_again_gets_the_same_answer_as_a_new_one(
    centre, client, after_commit, no_check
):
    event = make_event(centre.alpha, capacity=1)
    with after_commit():
        first = post_registration(client, event, email="nadia@example.org")
        new = post_registration(client, event, pseudonym="Karim", email="karim@example.org")
    mail.outbox.clear()
    Registration.objects.update(created_at=F("created_at") - dt.timedelta(hours=1))

    # Someone who knows Nadia's address (the event is full now).
    with after_commit():
        again = post_registration(client, event, pseudonym="Mallory", email="NADIA@example.org")

    assert again.status_code == first.status_code == new.status_code == 302
    assert again.url == first.url == new.url
    assert Registration.objects.count() == 2
    page = client.get(again.url).content.decode()
    nadia = Registration.objects.get(email="nadia@example.org")
    assert nadia.code not in page and "Nadia" not in page
    assert "already" not in page
    # Nadia, and only she, gets her registration again, with a link of its own.
    (message,) = mail.outbox
    assert message.to == ["nadia@example.org"]
    assert message.subject.startswith("Your place is booked")
    assert "Mallory" not in message.body


def test_a_made_up_address_cannot_be_confirmed_from_the_screen(centre, client, after_commit):
    event = make_event(centre.alpha, capacity=10, confirm_by_email=True)

    with after_commit():
        response = client.post(
            reverse("events:register", args=[event.pk]),
            {"pseudonym": "Bot", "email": "made-up@example.org", "website": ""},
            follow=True,
        )

    page = response.content.decode()
    assert "Open the link in it to confirm your registration" in page
    assert "/events/r/" not in page and "/events/c/" not in page
    assert Registration.objects.get().status == Registration.Status.PENDING
    # Only the e-mail's link confirms.
    (pending,) = sent("pending", to="made-up@example.org")
    assert link_after(pending.body, "Confirm my registration:").split("/")[-2] not in page


def test_registering_in_french_keeps_the_language_for_the_emails(centre, client):
    event = make_event(centre.alpha)

    client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": "Karim", "email": "", "website": ""},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert Registration.objects.get(pseudonym="Karim").language == "fr"


def test_registering_for_a_full_event_joins_the_waiting_list(centre, client, no_check):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")

    response = post_registration(client, event, pseudonym="Karim")

    page = client.get(response.url).content.decode()
    assert "You are number 1 on the waiting list." in page
    assert statuses(event) == {"confirmed": 1, "waiting": 1}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"pseudonym": ""}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"pseudonym": "x" * 61}, "Ensure this value has at most 60 characters"),
    ],
)
def test_a_bad_form_shows_the_errors_and_writes_nothing(centre, client, data, error):
    event = make_event(centre.alpha)

    response = post_registration(client, event, **data)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Registration.objects.count() == 0


def test_a_bad_form_sums_its_problems_up_at_the_top_with_links_to_the_fields(centre, client):
    event = make_event(centre.alpha)

    page = post_registration(client, event, pseudonym="", email="not-an-address").content.decode()

    summary = page[page.index('class="message error error-summary" role="alert"') :]
    summary = summary[: summary.index("</div>")]
    for field in ("pseudonym", "email"):
        assert f'href="#id_{field}"' in summary  # the link goes to the field…
        assert f'id="id_{field}"' in page  # …which is there
    assert "This field is required." in summary and "Enter a valid email address." in summary
    assert page.index("error-summary") < page.index('id="id_pseudonym"')  # above the form


def test_a_blank_pseudonym_is_refused_with_a_message(centre, client):
    event = make_event(centre.alpha)

    response = post_registration(client, event, pseudonym="   ")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Registration.objects.count() == 0


def test_registering_for_a_started_event_says_it_is_closed(centre, client):
    event = make_event(centre.alpha, starts_in=-dt.timedelta(minutes=5))

    response = client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": "Nadia", "email": "", "website": ""},
        follow=True,
    )

    assert "This event has already started; registration is closed." in (response.content.decode())
    assert Registration.objects.count() == 0


@pytest.mark.parametrize("status", [Event.Status.DRAFT, Event.Status.CANCELLED])
def test_registering_for_an_unpublished_event_is_not_found(centre, client, status):
    event = make_event(centre.alpha, status=status)

    assert post_registration(client, event).status_code == 404
    assert Registration.objects.count() == 0


def test_registering_is_a_post(centre, client):
    event = make_event(centre.alpha)

    assert client.get(reverse("events:register", args=[event.pk])).status_code == 405


def test_a_filled_honeypot_writes_nothing(centre, client, after_commit):
    event = make_event(centre.alpha)

    with after_commit():
        response = client.post(
            reverse("events:register", args=[event.pk]),
            {"pseudonym": "Bot", "email": "bot@example.org", "website": "http://spam.test"},
            follow=True,
        )

    assert response.status_code == 200
    assert "Your registration could not be recorded." in response.content.decode()
    assert Registration.objects.count() == 0
    assert mail.outbox == []


def test_too_many_attempts_from_one_address_are_refused(centre, client, settings):
    settings.EVENT_REGISTRATIONS_PER_HOUR = 3
    event = make_event(centre.alpha, capacity=10)
    for n in range(3):
        post_registration(client, event, pseudonym=f"Visitor {n}", email=f"v{n}@example.org")
    assert Registration.objects.count() == 3

    response = client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": "One more", "email": "more@example.org", "website": ""},
        follow=True,
    )

    assert "Too many registrations from this connection." in response.content.decode()
    assert Registration.objects.count() == 3
    assert not Registration.objects.filter(email="more@example.org").exists()

    # Another address is not held back.
    client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": "Neighbour", "email": "", "website": ""},
        REMOTE_ADDR="10.1.2.3",
    )
    assert Registration.objects.filter(pseudonym="Neighbour").exists()
