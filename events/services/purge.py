"""The purge of contact data a few days after each event."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import keys
from ..models import Event
from .places import locked_event


def purge_contacts(*, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Erase pseudonyms and e-mail addresses `days` after the end of each event (default
    EVENT_CONTACT_RETENTION_DAYS). Rows stay, anonymous, so the counts do not change."""
    now = now or timezone.now()
    days = settings.EVENT_CONTACT_RETENTION_DAYS if days is None else days
    events = Event.objects.filter(
        ends_at__lte=now - dt.timedelta(days=days), contacts_purged_at__isnull=True
    )
    purged = 0
    for event_id in list(events.values_list("pk", flat=True)):
        with transaction.atomic():
            event = locked_event(event_id)
            if event.contacts_purged_at is not None:
                continue
            purged += event.registrations.filter(~Q(pseudonym="") | ~Q(email="")).update(
                pseudonym="", email=""
            )
            keys.revoke_for_event(event.pk)  # and so do the links to them
            event.contacts_purged_at = now
            event.save(update_fields=["contacts_purged_at"])
    return purged
