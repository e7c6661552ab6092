"""The secret links of the e-mails and of the page after registering, through the HTTP layer
(events.keys), and the signed links of the older version."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import keys, services
from events.models import Event, Registration, RegistrationKey
from tests.events_fixtures import (
    already_sent,
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    link_after,
    make_event,
    path_of,
    register,
    sent,
    statuses,
)

pytestmark = pytest.mark.usefixtures("in_english")

CONFIRMED, WAITING = Registration.Status.CONFIRMED, Registration.Status.WAITING
HOUR = dt.timedelta(hours=1)
PENDING, CANCELLED = Registration.Status.PENDING, Registration.Status.CANCELLED


# --- the secret links (events.keys) ------------------------------------------------------------


def manage_url(registration: Registration) -> str:
    """A new link to the registration's page, as an e-mail would carry."""
    return reverse("events:registration", args=[keys.issue(registration.pk, keys.MANAGE)])


def confirm_url(registration: Registration) -> str:
    return reverse("events:confirm", args=[keys.issue(registration.pk, keys.CONFIRM)])


def legacy_token(registration: Registration) -> str:
    """A link of an older version: the signed id."""
    return signing.dumps(registration.pk, salt=keys.LEGACY_SALT, compress=True)


def tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda registration: "garbage",
        lambda registration: tampered(keys.issue(registration.pk, keys.MANAGE)),
        lambda registration: keys.issue(registration.pk, keys.MANAGE) + "x",
        lambda registration: keys.issue(registration.pk, keys.MANAGE)[:-1],
        lambda registration: str(registration.pk),
        lambda registration: tampered(legacy_token(registration)),
        lambda registration: signing.dumps(registration.pk),  # another salt
        lambda registration: signing.dumps(registration.pk + 1000, salt=keys.LEGACY_SALT),
        lambda registration: signing.dumps("Nadia", salt=keys.LEGACY_SALT),
        lambda registration: signing.dumps({"pk": 1}, salt=keys.LEGACY_SALT),
        lambda registration: signing.dumps(2**70, salt=keys.LEGACY_SALT),
        lambda registration: signing.dumps(True, salt=keys.LEGACY_SALT),
        lambda registration: "%00" + "é" * 300,
    ],
    ids=[
        "garbage",
        "tampered",
        "extended",
        "shortened",
        "the-id",
        "legacy-tampered",
        "legacy-other-salt",
        "legacy-unknown-registration",
        "legacy-not-a-number",
        "legacy-a-dict",
        "legacy-huge-number",
        "legacy-a-boolean",
        "odd-characters",
    ],
)
def test_a_bad_link_shows_a_friendly_page_and_changes_nothing(centre, client, make_token):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    token = make_token(nadia)

    for method, name in [
        ("get", "registration"),
        ("post", "cancel"),
        ("get", "confirm"),
        ("post", "confirm"),
    ]:
        response = getattr(client, method)(reverse(f"events:{name}", args=[token]))
        assert response.status_code == 404, (name, response.status_code)
        assert "This link is not valid" in response.content.decode(), name

    nadia.refresh_from_db()
    assert nadia.status == PENDING


def test_a_link_is_random_carries_no_id_and_opens_only_its_registration(centre, client):
    event = make_event(centre.alpha, capacity=3)
    nadia, karim = register(event, "Nadia"), register(event, "Karim")
    first, second = keys.issue(nadia.pk, keys.MANAGE), keys.issue(nadia.pk, keys.MANAGE)

    assert first != second and len(first) == 43
    assert str(nadia.pk) not in reverse("events:registration", args=[first]).split("/")[:3]
    assert keys.find(first, keys.MANAGE) == nadia == keys.find(second, keys.MANAGE)
    assert keys.find(keys.issue(karim.pk, keys.MANAGE), keys.MANAGE) == karim
    # The database holds only hashes of the secrets.
    assert not RegistrationKey.objects.filter(digest__in=[first, second]).exists()
    page = client.get(reverse("events:registration", args=[first])).content.decode()
    assert nadia.code in page and karim.code not in page


def test_a_manage_link_does_not_confirm_and_a_confirm_link_does_not_manage(centre, client):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    manage, confirm = keys.issue(nadia.pk, keys.MANAGE), keys.issue(nadia.pk, keys.CONFIRM)

    assert client.post(reverse("events:confirm", args=[manage])).status_code == 404
    assert client.get(reverse("events:registration", args=[confirm])).status_code == 404
    assert client.post(reverse("events:cancel", args=[confirm])).status_code == 404
    nadia.refresh_from_db()
    assert nadia.status == PENDING


def test_every_page_a_link_opens_is_kept_by_no_cache_and_told_to_no_site(centre, client):
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    confirm = confirm_url(nadia)
    responses = [
        client.get(manage_url(nadia)),
        client.get(confirm),
        client.post(confirm),
        client.get(confirm),
        client.get(reverse("events:registration", args=["garbage"])),
        client.post(manage_url(nadia) + "cancel/"),
    ]

    for response in responses:
        assert "no-store" in response["Cache-Control"], response
        assert response["Referrer-Policy"] == "same-origin"


def test_a_links_forms_are_protected_like_every_form(centre):
    event = make_event(centre.alpha, capacity=2)
    nadia = register(event, "Nadia", "nadia@example.org")
    forged = Client(enforce_csrf_checks=True).post(manage_url(nadia) + "cancel/")
    assert forged.status_code == 403
    nadia.refresh_from_db()
    assert nadia.status == Registration.Status.CONFIRMED


def test_cancelling_through_the_link_ends_every_link_of_the_registration(centre, client):
    event = make_event(centre.alpha, capacity=1)
    nadia = register(event, "Nadia", "nadia@example.org")
    url, other = manage_url(nadia), manage_url(nadia)  # two e-mails' links

    first = client.post(url + "cancel/", follow=True)

    page = first.content.decode()
    assert first.redirect_chain[-1][0] == reverse("events:cancelled", args=[event.pk])
    assert "Your registration is cancelled." in page
    assert reverse("events:ics", args=[event.pk]) not in page  # nothing left to add
    assert statuses(event) == {CANCELLED: 1}
    for link in (url, other):
        assert client.get(link).status_code == 404
    second = client.post(url + "cancel/")
    assert second.status_code == 404
    assert "This link is not valid" in second.content.decode()
    assert not RegistrationKey.objects.exists()


def test_cancelling_after_the_event_says_it_is_over(centre, client):
    now = timezone.now()
    event = make_event(centre.alpha, starts_at=now - dt.timedelta(hours=3), hours=1)
    nadia = register(event, "Nadia", now=now - dt.timedelta(days=1))

    with pytest.raises(services.EventError, match="This event is over."):
        services.cancel_registration(registration_id=nadia.pk)
    response = client.post(manage_url(nadia) + "cancel/", follow=True)

    assert "This event is over." in response.content.decode()
    nadia.refresh_from_db()
    assert nadia.status == CONFIRMED


def test_a_get_on_the_cancel_link_changes_nothing(centre, client):
    event = make_event(centre.alpha)
    nadia = register(event, "Nadia", "nadia@example.org")

    response = client.get(manage_url(nadia) + "cancel/")

    assert response.status_code == 405
    nadia.refresh_from_db()
    assert nadia.status == CONFIRMED


def test_the_confirm_link_asks_before_it_confirms(centre, client):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    url = confirm_url(nadia)

    page = client.get(url)  # a mail scanner follows links
    nadia.refresh_from_db()
    assert page.status_code == 200 and nadia.status == PENDING
    assert nadia.email_confirmed_at is None

    response = client.post(url, follow=True)
    nadia.refresh_from_db()
    assert nadia.status == CONFIRMED
    assert nadia.email_confirmed_at is not None
    assert "Your place is booked." in response.content.decode()
    # Pressed again later: the same answer, nothing more.
    again = client.post(url, follow=True)
    assert "Your place is booked." in again.content.decode()
    assert statuses(event) == {CONFIRMED: 1}


def test_the_registration_page_shows_the_position_on_the_waiting_list(centre, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    register(event, "Karim")
    tom = register(event, "Tom")

    response = client.get(reverse("events:registration", args=[tom.manage_token]))

    page = response.content.decode()
    assert "You are number 2 on the waiting list." in page
    assert "Leave the waiting list" in page
    assert tom.code in page


def test_the_links_stop_working_once_the_contact_data_is_purged(centre, client):
    now = timezone.now()
    event = make_event(centre.alpha, starts_at=now - dt.timedelta(days=9), hours=2)
    nadia = register(event, "Nadia", "nadia@example.org", now=now - dt.timedelta(days=10))
    url = manage_url(nadia)
    assert client.get(url).status_code == 200

    services.purge_contacts(now=now)

    assert client.get(url).status_code == 404
    assert not RegistrationKey.objects.exists()


# --- links of e-mails sent by the older version (signed ids) -----------------------------------


def test_an_old_link_without_an_address_still_works_until_the_event_is_over(centre, client):
    # Printed on the spot as a QR code: nobody but its holder ever had it.
    event = make_event(centre.alpha, capacity=2)
    sami = register(event, "Sami", source=Registration.Source.ON_THE_SPOT)
    url = reverse("events:registration", args=[legacy_token(sami)])

    page = client.get(url)

    assert page.status_code == 200
    assert sami.code in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    client.post(url + "cancel/")
    sami.refresh_from_db()
    assert sami.status == CANCELLED

    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=3), ends_at=timezone.now()
    )
    assert client.get(url).status_code == 404


def test_an_old_link_of_an_address_only_offers_to_mail_a_new_one(centre, client, after_commit):
    # The older version showed this link to anyone who typed the address: it can be a
    # stranger's, so it shows nothing and changes nothing, but mails the owner a fresh link.
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    token = legacy_token(nadia)
    already_sent()

    for response in (
        client.get(reverse("events:registration", args=[token])),
        client.post(reverse("events:cancel", args=[token])),
        client.get(reverse("events:legacy_confirm", args=[token])),
        client.post(reverse("events:legacy_confirm_post", args=[token])),
    ):
        page = response.content.decode()
        assert response.status_code == 200
        assert "A new link for your registration" in page
        assert nadia.code not in page and "Nadia" not in page
    nadia.refresh_from_db()
    assert nadia.status == PENDING

    with after_commit():
        response = client.post(reverse("events:send_new_link", args=[token]))
        client.post(reverse("events:send_new_link", args=[token]))  # once an hour at most

    assert response.url == reverse("events:check_mail", args=[event.pk])
    (message,) = sent("pending", to="nadia@example.org")
    assert "asked for it with this address" in message.body
    link = link_after(message.body, "Confirm my registration:")
    client.post(path_of(link))
    nadia.refresh_from_db()
    assert nadia.status == CONFIRMED


def test_a_cancelled_registrations_old_link_opens_nothing(centre, client):
    event = make_event(centre.alpha, capacity=3)
    kim = register(event, "Kim")  # no e-mail: its old printed link kept full access
    services.cancel_registration(registration_id=kim.pk)

    response = client.get(reverse("events:registration", args=[legacy_token(kim)]))

    assert response.status_code == 404
