"""The reminder sweep: one e-mail before the event to each confirmed registrant."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from .. import emails
from ..models import Event, Registration
from .places import reminder_due


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Send each confirmed registrant with an e-mail one reminder. Safe to run twice, or in two
    workers at once: each registration is re-read under a lock and its flag set in the same
    transaction that queues the e-mail (sent after commit)."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=15)
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, starts_at__gt=now, starts_at__lte=horizon
    ).select_related("site")
    due = [event.pk for event in events if reminder_due(event, now)]
    candidates = (
        Registration.objects.filter(
            event_id__in=due, status=Registration.Status.CONFIRMED, reminder_sent_at__isnull=True
        )
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    sent = 0
    for registration_id in list(candidates):
        with transaction.atomic():
            locked = Registration.objects.select_for_update(
                **({"skip_locked": True} if connection.vendor == "postgresql" else {})
            ).filter(
                pk=registration_id,
                status=Registration.Status.CONFIRMED,
                reminder_sent_at__isnull=True,
            )
            registration = locked.first()
            if registration is None:
                continue  # another worker has it, or it was cancelled meanwhile
            registration.reminder_sent_at = now
            registration.save(update_fields=["reminder_sent_at"])
            emails.queue(registration.pk, emails.MailKind.REMINDER)
            sent += 1
    return sent
