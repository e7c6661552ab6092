"""Registration e-mails go through the kernel's outbox: a broker that cannot be reached (a real
Redis URL on a closed port) or a mail server that is down (a real SMTP connection refused) never
fails a registration nor loses its e-mail, and a reminder flagged as sent is sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from citedesmetiers import outbox
from citedesmetiers.models import OutboxMessage
from events import services
from events.models import Registration
from events.tasks import send_registration_mail
from tests.broker import (
    closed_port,
    fixture_broker_down,  # noqa: F401 (a fixture)
)
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
    sent,
)

pytestmark = pytest.mark.usefixtures("in_english")


def pending() -> list[str]:
    return [
        message.payload["kind"]
        for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    ]


@pytest.mark.django_db(transaction=True)
def test_registering_while_the_broker_is_down_is_recorded_and_the_mail_follows(
    centre, client, broker_down
):
    event = make_event(centre.alpha, capacity=5)

    response = client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": "Nadia", "email": "nadia@example.org", "website": ""},
    )

    assert response.status_code == 302
    assert Registration.objects.get().status == Registration.Status.CONFIRMED
    assert pending() == ["confirmed"]
    assert mail.outbox == []

    # The broker is back: beat's drain sends it.
    assert outbox.drain() == 1
    assert len(sent("confirmed", to="nadia@example.org")) == 1


@pytest.mark.django_db(transaction=True)
def test_a_reminder_flagged_while_the_broker_is_down_is_still_sent(centre, broker_down):
    event = make_event(centre.alpha, starts_in=dt.timedelta(days=1), capacity=5)
    for name in ("Nadia", "Karim"):  # well before the reminder days
        register(
            event, name, f"{name.lower()}@example.org", now=timezone.now() - dt.timedelta(days=9)
        )
    outbox.drain()
    mail.outbox.clear()

    assert services.send_reminders() == 2

    assert not Registration.objects.filter(reminder_sent_at__isnull=True).exists()
    assert pending() == ["reminder", "reminder"]
    assert outbox.drain() == 2
    assert sorted(m.to[0] for m in sent("reminder")) == ["karim@example.org", "nadia@example.org"]


def test_a_mail_server_that_is_down_delays_the_mail_and_it_is_tried_again(
    centre, settings, after_commit
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_TIMEOUT = 5
    event = make_event(centre.alpha, capacity=5)

    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")

    assert nadia.status == Registration.Status.CONFIRMED
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 1)
    assert "ConnectionRefusedError" in message.last_error

    # The mail server is back; the next try comes after the wait.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.drain(now=message.available_at - dt.timedelta(seconds=1)) == 0
    assert outbox.drain(now=message.available_at) == 1
    assert outbox.drain(now=message.available_at + dt.timedelta(hours=1)) == 0
    assert len(sent("confirmed", to="nadia@example.org")) == 1


def test_every_change_writes_its_e_mails_in_its_own_transaction(centre, after_commit):
    event = make_event(centre.alpha, capacity=1)
    nadia = register(event, "Nadia", "nadia@example.org")
    register(event, "Karim", "karim@example.org")
    assert pending() == ["confirmed", "waiting"]

    services.cancel_registration(registration_id=nadia.pk)
    services.cancel_event(event_id=event.pk)

    assert pending() == ["confirmed", "waiting", "promoted", "event_cancelled"]


def test_a_mail_task_queued_by_the_older_version_goes_through_the_outbox(centre):
    event = make_event(centre.alpha, capacity=5)
    nadia = register(event, "Nadia", "nadia@example.org")
    OutboxMessage.objects.all().delete()

    send_registration_mail.apply(args=(nadia.pk, "confirmed"))

    assert pending() == ["confirmed"]
