"""Registration through the service: places up to the capacity, then the waiting list in arrival
order; a freed place goes to the first person waiting, once; every refusal says why and writes
nothing; confirmation by e-mail. The links are in test_events_links.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from citedesmetiers import outbox
from events import services
from events.models import Event, Registration, RegistrationKey
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    names,
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


def test_an_email_queued_before_a_cancellation_is_not_sent_after_it(centre):

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
