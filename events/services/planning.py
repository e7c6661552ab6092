"""An organiser's writes on an event: create it, edit it (its places, a new date or place told),
publish, cancel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Partner, Site, Theme

from .. import emails
from ..models import Event, Registration
from .places import EventError, locked_event, places_taken, promote, reminder_due

# What an organiser may change of an event, on her screen or in the admin. The status, the
# walk-ins, the calendar sequence and the purge date change only through their own services.
EDITABLE = (
    "site",
    "series",
    "title",
    "kind",
    "description",
    "starts_at",
    "ends_at",
    "place",
    "online_url",
    "capacity",
    "audience",
    "reminder_days",
    "confirm_by_email",
)


@dataclass(frozen=True)
class EventUpdate:
    """What saving an event did besides the write."""

    event: Event
    told: list[int]  # registrations e-mailed about a new date, time or place
    promoted: list[int]  # registrations moved from the waiting list to a place
    confirmed: int  # places held once saved (may exceed fewer places: nobody loses theirs)


def editable(values: dict) -> dict:
    """The values an organiser may change, out of a form's (say): what `update_event` takes."""
    return {name: values[name] for name in EDITABLE if name in values}


def _checked(details: dict) -> dict:
    unknown = set(details) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    return details


@transaction.atomic
def create_event(
    *,
    site: Site,
    details: dict,
    themes: Iterable[Theme] = (),
    partners: Iterable[Partner] = (),
) -> Event:
    """A new event of `site`, as a draft (nobody can register before it is published)."""
    details = {name: value for name, value in _checked(details).items() if name != "site"}
    event = Event.objects.create(site=site, status=Event.Status.DRAFT, **details)
    event.themes.set(themes)
    event.partners.set(partners)
    return event


@transaction.atomic
def update_event(
    *,
    event_id: int,
    details: dict,
    themes: Iterable[Theme] | None = None,
    partners: Iterable[Partner] | None = None,
    now: dt.datetime | None = None,
) -> EventUpdate:
    """Save an organiser's change (the organisers' form and the admin both come here), compared
    with the event as stored, under its lock: a second save of the same change is no change.
    More places promote people from the waiting list; a new date, time or place is told
    (`_tell_of_changes`). Themes and partners are replaced when given."""
    now = now or timezone.now()
    event = locked_event(event_id)
    before = _when_and_where(event)
    old_capacity = event.capacity
    for name, value in _checked(details).items():
        setattr(event, name, value)
    if details:
        event.save(update_fields=list(details))
    if themes is not None:
        event.themes.set(themes)
    if partners is not None:
        event.partners.set(partners)
    promoted = []
    more_places = event.capacity != old_capacity and event.capacity is not None
    if more_places and event.status == Event.Status.PUBLISHED:
        promoted = [registration.pk for registration in promote(event, now)]
    told = _tell_of_changes(event, before, now)
    event.refresh_from_db(fields=["sequence", "contacts_purged_at"])
    return EventUpdate(event=event, told=told, promoted=promoted, confirmed=places_taken(event))


@transaction.atomic
def publish_event(*, event_id: int) -> Event:
    event = locked_event(event_id)
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("A cancelled event cannot be published again."))
    event.status = Event.Status.PUBLISHED
    event.save(update_fields=["status"])
    return event


def _when_and_where(event: Event) -> tuple:
    """What registrants plan their day around: the minute the event starts and ends, the site,
    its room and its online link, compared before and after a change in `update_event`."""

    def minute(at: dt.datetime) -> dt.datetime:
        return at.replace(second=0, microsecond=0)

    return (
        minute(event.starts_at),
        minute(event.ends_at),
        event.site_id,
        event.place.strip(),
        event.online_url,
    )


def _tell_of_changes(event: Event, before: tuple, now: dt.datetime) -> list[int]:
    """An event moved after its purge is purged again later. When a published event still ahead
    has a new date, time or place, tell everyone registered who left an e-mail address, those
    with a place with the new calendar entry (its SEQUENCE one higher, so calendars replace the
    old one). Inside the reminder days the e-mail about the change is the reminder; a start
    moved further ahead lets the reminder go again before it. Returns the registrations told
    (`event` comes locked, as saved)."""
    after = _when_and_where(event)
    _purge_again_if_moved(event, now)
    if event.status != Event.Status.PUBLISHED or event.ends_at <= now or after == before:
        return []
    Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
    active = Registration.objects.filter(event_id=event.pk, status__in=Registration.ACTIVE)
    holders = active.filter(status=Registration.Status.CONFIRMED)
    if reminder_due(event, now):
        holders.filter(reminder_sent_at__isnull=True).exclude(email="").update(reminder_sent_at=now)
    elif after[0] != before[0]:
        holders.filter(reminder_sent_at__isnull=False).update(reminder_sent_at=None)
    told = list(active.exclude(email="").values_list("pk", flat=True))
    emails.queue_each(told, emails.MailKind.EVENT_CHANGED)
    return told


def _purge_again_if_moved(event: Event, now: dt.datetime) -> None:
    """An event whose contacts were purged, moved to a date whose purge is still ahead: the
    purge must come again for whoever registers for the new date (and its list shows them)."""
    retention = dt.timedelta(days=settings.EVENT_CONTACT_RETENTION_DAYS)
    if event.contacts_purged_at is not None and event.ends_at > now - retention:
        Event.objects.filter(pk=event.pk).update(contacts_purged_at=None)
        event.contacts_purged_at = None


@transaction.atomic
def cancel_event(*, event_id: int) -> int:
    """Cancel the event and tell everyone registered who left an e-mail address."""
    event = locked_event(event_id)
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("This event was already cancelled."))
    event.status = Event.Status.CANCELLED
    event.sequence += 1  # the calendar entry sent with the e-mail replaces the booked one
    event.save(update_fields=["status", "sequence"])
    told = list(
        event.registrations.filter(status__in=Registration.ACTIVE)
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    emails.queue_each(told, emails.MailKind.EVENT_CANCELLED)
    return len(told)
