"""Registration through the service: places up to the capacity, then the waiting list in arrival
order; a freed place goes to the first person waiting, once; every refusal says why and writes
nothing. The secret links of the e-mails and of the page after registering, through the HTTP
layer, and the signed links of the older version."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail, signing
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
    names,
    path_of,
    register,
    sent,
    statuses,
    waiting_list,
)

pytestmark = pytest.mark.usefixtures("in_english")

CONFIRMED, WAITING = Registration.Status.CONFIRMED, Registration.Status.WAITING
HOUR = dt.timedelta(hours=1)
PENDING, CANCELLED = Registration.Status.PENDING, Registration.Status.CANCELLED


def test_it_gives_places_up_to_the_capacity_then_a_waiting_list_in_arrival_order(
    centre, after_commit
):
    event = make_event(centre.alpha, capacity=3)

    with after_commit():
        for name, email in [
            ("Nadia", "nadia@example.org"),
            ("Karim", "karim@example.org"),
            ("Léa", "lea@example.org"),
            ("Tom", "tom@example.org"),
            ("Inès", "ines@example.org"),
        ]:
            register(event, name, email)

    assert statuses(event) == {CONFIRMED: 3, WAITING: 2}
    assert names(event.registrations.filter(status=CONFIRMED)) == ["Nadia", "Karim", "Léa"]
    assert names(waiting_list(event)) == ["Tom", "Inès"]
    assert len(sent("confirmed")) == 3
    assert len(sent("waiting")) == 2
    assert len(mail.outbox) == 5


def test_it_keeps_arrival_order_on_the_waiting_list_even_with_equal_timestamps(centre):
    event = make_event(centre.alpha, capacity=1)
    moment = timezone.now()

    for name in ["Nadia", "Karim", "Léa", "Tom"]:
        register(event, name, now=moment)

    assert names(waiting_list(event)) == ["Karim", "Léa", "Tom"]


def test_it_gives_a_freed_place_to_the_first_person_waiting_once(centre, after_commit):
    event = make_event(centre.alpha, capacity=2)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
        register(event, "Karim", "karim@example.org")
        tom = register(event, "Tom", "tom@example.org")
        ines = register(event, "Ines", "ines@example.org")
    mail.outbox.clear()

    with after_commit():
        services.cancel_registration(registration_id=nadia.pk)

    tom.refresh_from_db()
    ines.refresh_from_db()
    assert tom.status == CONFIRMED
    assert tom.promoted_at is not None and tom.confirmed_at == tom.promoted_at
    assert ines.status == WAITING
    assert statuses(event) == {CONFIRMED: 2, WAITING: 1, CANCELLED: 1}
    assert [m.to for m in mail.outbox] == [["tom@example.org"]]
    assert len(sent("promoted", to="tom@example.org")) == 1

    # Cancelling the same place again is refused and promotes nobody else.
    with after_commit(), pytest.raises(services.EventError, match="already cancelled"):
        services.cancel_registration(registration_id=nadia.pk)
    ines.refresh_from_db()
    assert ines.status == WAITING
    assert statuses(event) == {CONFIRMED: 2, WAITING: 1, CANCELLED: 1}
    assert len(mail.outbox) == 1


def test_a_place_given_back_during_the_event_goes_to_nobody(centre, after_commit):
    # The event has started: whoever waits is not coming now, and a "place is yours" e-mail
    # would only send them running.
    now = timezone.now()
    event = make_event(centre.alpha, starts_at=now + dt.timedelta(hours=1), capacity=1)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org", now=now)
        karim = register(event, "Karim", "karim@example.org", now=now)
    mail.outbox.clear()

    with after_commit():
        services.cancel_registration(registration_id=nadia.pk, now=now + dt.timedelta(hours=1))

    karim.refresh_from_db()
    assert karim.status == WAITING and karim.promoted_at is None
    assert mail.outbox == []


def test_it_promotes_nobody_when_someone_leaves_the_waiting_list(centre, after_commit):
    event = make_event(centre.alpha, capacity=1)
    with after_commit():
        register(event, "Nadia", "nadia@example.org")
        karim = register(event, "Karim", "karim@example.org")
        tom = register(event, "Tom", "tom@example.org")
    mail.outbox.clear()

    with after_commit():
        services.cancel_registration(registration_id=karim.pk)

    tom.refresh_from_db()
    assert tom.status == WAITING
    assert tom.promoted_at is None
    assert statuses(event) == {CONFIRMED: 1, WAITING: 1, CANCELLED: 1}
    assert mail.outbox == []
    assert names(waiting_list(event)) == ["Tom"]


def test_it_frees_the_place_when_nobody_is_waiting(centre):
    event = make_event(centre.alpha, capacity=2)
    nadia = register(event, "Nadia")

    services.cancel_registration(registration_id=nadia.pk)

    nadia.refresh_from_db()
    assert nadia.status == CANCELLED and nadia.cancelled_at is not None
    assert register(event, "Karim").status == CONFIRMED
    assert register(event, "Tom").status == CONFIRMED
    assert register(event, "Léa").status == WAITING


def test_the_same_email_again_takes_no_second_place_and_its_owner_is_mailed_again(
    centre, after_commit
):
    event = make_event(centre.alpha, capacity=2)
    with after_commit():
        first = register(event, "Nadia", "nadia@example.org", now=timezone.now() - HOUR)
        again, created = services.register(
            event_id=event.pk, pseudonym="Mallory", email="  Nadia@Example.ORG "
        )

    assert created is False
    assert again.pk == first.pk
    assert event.registrations.count() == 1
    assert first.email == "nadia@example.org"
    assert Registration.objects.get().pseudonym == "Nadia"
    original, resent = sent("confirmed", to="nadia@example.org")
    assert "asked for it with this address" in resent.body
    assert "asked for it" not in original.body
    assert "Mallory" not in resent.body
    # The second place is still free.
    assert register(event, "Karim").status == CONFIRMED


def test_a_double_submit_is_mailed_once(centre, after_commit):
    event = make_event(centre.alpha, capacity=2)
    with after_commit():
        register(event, "Nadia", "nadia@example.org")
        services.register(event_id=event.pk, pseudonym="Nadia", email="nadia@example.org")

    assert len(sent("confirmed", to="nadia@example.org")) == 1


def test_the_same_email_again_and_again_is_mailed_again_once_an_hour(centre, after_commit):
    event = make_event(centre.alpha, capacity=2)
    moment = timezone.now().replace(minute=5)
    with after_commit():
        register(event, "Nadia", "nadia@example.org", now=moment)
        for minutes in (1, 9, 30, 54):
            services.register(
                event_id=event.pk,
                pseudonym="Nadia",
                email="nadia@example.org",
                now=moment + dt.timedelta(minutes=minutes),
            )
        services.register(
            event_id=event.pk,
            pseudonym="Nadia",
            email="nadia@example.org",
            now=moment + dt.timedelta(minutes=60),
        )

    assert len(sent("confirmed", to="nadia@example.org")) == 3


def test_it_gives_the_waiting_registration_back_to_the_same_email(centre):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    waiting = register(event, "Karim", "karim@example.org")

    again, created = services.register(
        event_id=event.pk, pseudonym="Karim", email="KARIM@example.org"
    )

    assert (again.pk, created, again.status) == (waiting.pk, False, WAITING)
    assert statuses(event) == {CONFIRMED: 1, WAITING: 1}


def test_it_lets_someone_register_again_after_cancelling(centre):
    event = make_event(centre.alpha, capacity=2)
    first = register(event, "Nadia", "nadia@example.org")
    services.cancel_registration(registration_id=first.pk)

    second = register(event, "Nadia", "nadia@example.org")

    assert second.pk != first.pk
    assert second.status == CONFIRMED
    assert statuses(event) == {CONFIRMED: 1, CANCELLED: 1}


def test_it_registers_people_without_email_as_distinct_people(centre):
    event = make_event(centre.alpha, capacity=3)

    register(event, "Nadia")
    register(event, "Nadia")

    assert statuses(event) == {CONFIRMED: 2}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"starts_in": -dt.timedelta(days=2)}, "already started"),
        ({"starts_in": -dt.timedelta(minutes=10), "hours": 2}, "already started"),
        ({"starts_in": dt.timedelta(0)}, "already started"),
        ({"status": Event.Status.CANCELLED}, "This event has been cancelled."),
        ({"status": Event.Status.DRAFT}, "This event is not open for registration."),
        ({"capacity": None}, "No registration is needed: just come along."),
    ],
    ids=["past", "started", "starting-now", "cancelled", "draft", "open-door"],
)
def test_it_refuses_events_not_open_for_registration(centre, after_commit, setup, message):
    starts_in = setup.pop("starts_in", dt.timedelta(days=3))
    now = timezone.now().replace(microsecond=0)
    event = make_event(centre.alpha, starts_at=now + starts_in, **setup)

    with after_commit(), pytest.raises(services.EventError, match=message):
        services.register(event_id=event.pk, pseudonym="Nadia", email="nadia@example.org", now=now)

    assert Registration.objects.count() == 0
    assert mail.outbox == []


def test_it_refuses_a_full_event_that_is_not_open_any_more_even_for_the_waiting_list(centre):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    services.cancel_event(event_id=event.pk)

    with pytest.raises(services.EventError, match="cancelled"):
        register(event, "Karim")
    assert statuses(event) == {CONFIRMED: 1}


def test_it_refuses_an_event_that_does_not_exist(centre):
    with pytest.raises(services.EventError, match="does not exist"):
        services.register(event_id=987654, pseudonym="Nadia")
    assert Registration.objects.count() == 0


@pytest.mark.parametrize(
    "email", ["nadia", "nadia@", "@example.org", "nadia@example", "na dia@example.org", "a@b@c.org"]
)
def test_it_refuses_an_invalid_email(centre, after_commit, email):
    event = make_event(centre.alpha)

    with after_commit(), pytest.raises(services.EventError, match="e-mail address is not valid"):
        services.register(event_id=event.pk, pseudonym="Nadia", email=email)

    assert Registration.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize("pseudonym", ["", "   ", "\t\n"])
def test_it_refuses_an_empty_pseudonym(centre, pseudonym):
    event = make_event(centre.alpha)

    with pytest.raises(services.EventError, match="first name or a pseudonym"):
        services.register(event_id=event.pk, pseudonym=pseudonym, email="nadia@example.org")

    assert Registration.objects.count() == 0


def test_it_tidies_the_pseudonym_and_keeps_it_short(centre):
    event = make_event(centre.alpha)

    registration = register(event, "  Jean \n  Pierre  " + "x" * 100)

    assert registration.pseudonym.startswith("Jean Pierre x")
    assert len(registration.pseudonym) == 60


# --- confirmation by e-mail (events that fill up) ------------------------------------------------


def test_a_pending_registration_holds_no_place_until_confirmed(centre, after_commit):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
        karim = register(event, "Karim", "karim@example.org")

    assert (nadia.status, karim.status) == (PENDING, PENDING)
    assert nadia.confirmed_at is None
    assert len(sent("pending")) == 2
    assert statuses(event) == {PENDING: 2}

    # Karim clicks first: he gets the only place; Nadia, later, the waiting list.
    with after_commit():
        karim = services.confirm_email(registration_id=karim.pk)
        nadia = services.confirm_email(registration_id=nadia.pk)

    assert (karim.status, nadia.status) == (CONFIRMED, WAITING)
    assert len(sent("confirmed", to="karim@example.org")) == 1
    assert len(sent("waiting", to="nadia@example.org")) == 1


def test_confirming_twice_is_harmless(centre, after_commit):
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
        services.confirm_email(registration_id=nadia.pk)
    first_confirmation = Registration.objects.get(pk=nadia.pk).confirmed_at
    mail.outbox.clear()

    with after_commit():
        again = services.confirm_email(registration_id=nadia.pk)

    assert again.status == CONFIRMED
    assert again.confirmed_at == first_confirmation
    assert statuses(event) == {CONFIRMED: 1}
    assert mail.outbox == []


def test_confirming_a_cancelled_registration_does_not_bring_it_back(centre):
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    services.cancel_registration(registration_id=nadia.pk)

    assert services.confirm_email(registration_id=nadia.pk).status == CANCELLED
    assert statuses(event) == {CANCELLED: 1}


def test_confirming_after_the_event_was_cancelled_is_refused(centre):
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    services.cancel_event(event_id=event.pk)

    with pytest.raises(services.EventError, match="cancelled"):
        services.confirm_email(registration_id=nadia.pk)
    assert Registration.objects.get(pk=nadia.pk).status == PENDING


def test_a_pending_registration_can_be_cancelled_without_promoting_anyone(centre):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    nadia = register(event, "Nadia", "nadia@example.org")
    karim = register(event, "Karim", "karim@example.org")
    services.confirm_email(registration_id=karim.pk)
    tom = register(event, "Tom", "tom@example.org")
    services.confirm_email(registration_id=tom.pk)  # full: waiting

    services.cancel_registration(registration_id=nadia.pk)

    assert statuses(event) == {CONFIRMED: 1, WAITING: 1, CANCELLED: 1}


def test_on_the_spot_registrations_skip_the_email_confirmation(centre):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)

    registration = register(event, "Nadia", source=Registration.Source.ON_THE_SPOT)

    assert registration.status == CONFIRMED


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


def test_an_email_queued_before_a_cancellation_is_not_sent_after_it(centre):
    from citedesmetiers import outbox

    event = make_event(centre.alpha, capacity=3)
    nadia = register(event, "Nadia", "nadia@example.org")  # its confirmation waits in the outbox
    services.cancel_registration(registration_id=nadia.pk)
    keys_before = RegistrationKey.objects.count()

    outbox.drain()

    assert mail.outbox == []
    assert RegistrationKey.objects.count() == keys_before  # no new link to a cancelled place


def test_a_registration_that_meets_a_conflict_gone_since_is_tried_again(centre, monkeypatch):
    """The insert fails on a unique index, and the row it met is not there when read (a code
    drawn twice, here; or the address's registration cancelled in between): a second try takes
    the place, never a server error."""
    event = make_event(centre.alpha, capacity=3)
    taken = register(event, "Nadia").code
    codes = iter([taken, "ZZZZZZZZ"])
    monkeypatch.setattr(Registration._meta.get_field("code"), "_get_default", lambda: next(codes))

    registration, created = services.register(event_id=event.pk, pseudonym="Karim")

    assert created and registration.code == "ZZZZZZZZ"
    assert registration.status == Registration.Status.CONFIRMED


def test_a_conflict_that_persists_is_refused_not_raised(centre, monkeypatch):
    event = make_event(centre.alpha, capacity=3)
    taken = register(event, "Nadia").code
    monkeypatch.setattr(Registration._meta.get_field("code"), "_get_default", lambda: taken)

    with pytest.raises(services.EventError, match="could not be recorded"):
        services.register(event_id=event.pk, pseudonym="Karim")
    assert Registration.objects.count() == 1
