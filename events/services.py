"""Every write of events: publish, tell of a new date or place, cancel, register, confirm, cancel
a place, promote from the waiting list, remind, take attendance, purge contact data.

Capacity is never exceeded: every change of who holds a place locks the event row first
(SELECT … FOR UPDATE), so simultaneous registrations are decided one after the other, in arrival
order. E-mails are written to the outbox in the same transaction, and sent after it commits."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Site
from citedesmetiers.refusals import Refusal

from . import emails, keys
from .models import Event, Registration

# A registration's e-mail is sent again (to an address registering again) only this long after
# it was made, and at most once per clock hour after that.
RESEND_AFTER = dt.timedelta(minutes=10)


class EventError(Refusal):
    """A refusal to show to the person as it is."""


def _mail_again(registration: Registration, now: dt.datetime) -> None:
    """Send the e-mail of the registration as it stands again, with fresh links: at most one
    an hour, so a script repeating an address cannot flood its owner."""
    emails.queue(
        registration.pk,
        registration.status,
        again=True,
        once_key=f"events.again:{registration.pk}:{now:%Y%m%d%H}",
    )


def locked_event(event_id) -> Event:
    """The event, locked until the transaction ends (only its row: FOR UPDATE OF), with
    `site_active` (whether its site is in use) read in the same statement. An organiser's save
    takes it too, so two saves of the same change compare with what the other one wrote.

    In SQL rather than through the ORM: every registration of a burst waits on this statement,
    so it is kept as short as can be (measured by `BENCH registration_burst`). SQLite has no row
    locks; its IMMEDIATE transactions serialise the writers instead."""
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT e.*, s.active AS site_active FROM {Event._meta.db_table} e "
        f"JOIN {Site._meta.db_table} s ON s.id = e.site_id WHERE e.id = %s{lock}"
    )
    try:
        event_id = int(event_id)
    except (TypeError, ValueError):
        event_id = 0
    event = next(iter(Event.objects.raw(sql, [event_id])), None)
    if event is None:
        raise EventError(_("This event does not exist."))
    return event


def _places_taken(event: Event) -> int:
    """Confirmed registrations of the locked `event`. A statement of its own, after the lock:
    under READ COMMITTED only a statement that starts once the lock is held sees the places the
    previous holder took (a count in the locking statement would read the older snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Registration._meta.db_table} "
            "WHERE event_id = %s AND status = %s",
            [event.pk, Registration.Status.CONFIRMED],
        )
        return cursor.fetchone()[0]


def _check_open(event: Event, now: dt.datetime) -> None:
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("This event has been cancelled."))
    if event.status != Event.Status.PUBLISHED or not event.site_active:
        raise EventError(_("This event is not open for registration."))
    if not event.needs_registration:
        raise EventError(_("No registration is needed: just come along."))
    if event.starts_at <= now:
        raise EventError(_("This event has already started; registration is closed."))


def _take_place(event: Event, registration: Registration, now: dt.datetime) -> None:
    """Give `registration` a place if one is free, else a place on the waiting list (`event`
    comes locked from `locked_event`)."""
    if _places_taken(event) < event.capacity:
        _confirm(event, registration, now)
    else:
        registration.status = Registration.Status.WAITING


def _confirm(event: Event, registration: Registration, now: dt.datetime) -> None:
    """A place is theirs from `now`. Inside the reminder days the e-mail that says so is the
    reminder (it says so too): no second e-mail minutes later."""
    registration.status = Registration.Status.CONFIRMED
    registration.confirmed_at = now
    if registration.email and reminder_due(event, now):
        registration.reminder_sent_at = now


def register(
    *,
    event_id: int,
    pseudonym: str,
    email: str = "",
    language: str = "fr",
    source: str = Registration.Source.ONLINE,
    now: dt.datetime | None = None,
) -> tuple[Registration, bool]:
    """Take a place (or a place on the waiting list). Returns the registration and whether it is
    new. An address that already has a registration for the event gets its e-mail again (with
    fresh links), and nothing else: the caller must answer as for a new one, so that nobody
    learns from the answer whether an address is registered.

    A new registration without an e-mail address carries `manage_token`, the secret of its
    page, for the caller to show (it exists nowhere else)."""
    pseudonym = " ".join(pseudonym.split())[:60]
    email = email.strip().lower()
    if not pseudonym:
        raise EventError(_("Give a first name or a pseudonym."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise EventError(_("This e-mail address is not valid.")) from None
    # Twice at most: the address's registration met at the insert may be cancelled before it
    # is read (then the next try takes a place); a second conflict is refused, never raised.
    for _attempt in range(2):
        found = _register_once(
            event_id=event_id,
            pseudonym=pseudonym,
            email=email,
            language=language,
            source=source,
            now=now,
        )
        if found is not None:
            return found
    raise EventError(_("Your registration could not be recorded. Please try again."))


def _register_once(
    *, event_id, pseudonym: str, email: str, language: str, source: str, now
) -> tuple[Registration, bool] | None:
    """`register`'s one try: the registration and whether it is new, or None when the address's
    registration that stopped the insert was gone when read."""
    try:
        with transaction.atomic():
            event = locked_event(event_id)
            # The time is read once the event is locked: places go in the order of created_at.
            now = now or timezone.now()
            _check_open(event, now)
            if event.confirm_by_email and source == Registration.Source.ONLINE and not email:
                raise EventError(
                    _(
                        "This event confirms registrations by e-mail: give an address, or "
                        "register at reception."
                    )
                )
            registration = Registration(
                event=event,
                pseudonym=pseudonym,
                email=email,
                language=language,
                source=source,
                created_at=now,
            )
            if event.confirm_by_email and email and source == Registration.Source.ONLINE:
                registration.status = Registration.Status.PENDING
            else:
                _take_place(event, registration, now)
            # One plain INSERT while the event is locked (bulk_create skips save()'s
            # bookkeeping; no signal listens to registrations).
            Registration.objects.bulk_create([registration])
            if email:
                emails.queue(registration.pk, registration.status)
            else:
                registration.manage_token = keys.issue(registration.pk, keys.MANAGE)
    except IntegrityError:
        # One active registration per address and event (a unique index): this address has
        # one already. Looked up only then, not on every registration.
        with transaction.atomic():
            existing = (
                Registration.objects.filter(
                    event_id=event_id, email=email, status__in=Registration.ACTIVE
                ).first()
                if email
                else None
            )
            if existing is None:
                return None
            now = now or timezone.now()
            # Within minutes of the registration its first e-mail is still on its way (a double
            # submit): one is enough.
            if existing.created_at < now - RESEND_AFTER:
                _mail_again(existing, now)
        return existing, False
    return registration, True


@transaction.atomic
def confirm_email(*, registration_id: int, now: dt.datetime | None = None) -> Registration:
    """The owner of the address confirmed it from the link of our e-mail: now the registration
    takes a place (or a place on the waiting list)."""
    now = now or timezone.now()
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    event = locked_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.status != Registration.Status.PENDING:
        return registration  # already confirmed (a second click) or cancelled
    _check_open(event, now)
    _take_place(event, registration, now)
    registration.email_confirmed_at = now
    registration.save(
        update_fields=["status", "confirmed_at", "reminder_sent_at", "email_confirmed_at"]
    )
    emails.queue(registration.pk, registration.status)
    return registration


@transaction.atomic
def send_links_again(*, registration_id: int, now: dt.datetime | None = None) -> None:
    """E-mail the registration again with fresh links, to its own address (for a link of an
    older version that can no longer be trusted). At most once an hour; nothing for a
    registration that is cancelled, without an address or whose event is over."""
    now = now or timezone.now()
    registration = (
        Registration.objects.select_related("event")
        .filter(pk=registration_id, status__in=Registration.ACTIVE)
        .exclude(email="")
        .first()
    )
    if registration is not None and registration.event.ends_at > now:
        _mail_again(registration, now)


def _promote(event: Event, now: dt.datetime) -> list[Registration]:
    """Fill free places from the waiting list, oldest first."""
    confirmed = event.registrations.filter(status=Registration.Status.CONFIRMED).count()
    free = (event.capacity or 0) - confirmed
    if free <= 0:
        return []
    promoted = list(
        event.registrations.select_for_update()
        .filter(status=Registration.Status.WAITING)
        .order_by("created_at", "pk")[:free]
    )
    for registration in promoted:
        _confirm(event, registration, now)
        registration.promoted_at = now
        registration.save(
            update_fields=["status", "confirmed_at", "promoted_at", "reminder_sent_at"]
        )
    emails.queue_each([r.pk for r in promoted if r.email], "promoted")
    return promoted


@transaction.atomic
def cancel_registration(*, registration_id: int, now: dt.datetime | None = None) -> Registration:
    """Give the place back (or leave the waiting list); the first person waiting gets it."""
    now = now or timezone.now()
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    event = locked_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.status == Registration.Status.CANCELLED:
        raise EventError(_("This registration was already cancelled."))
    if event.ends_at <= now:
        raise EventError(_("This event is over."))
    held_place = registration.status == Registration.Status.CONFIRMED
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = now
    registration.save(update_fields=["status", "cancelled_at"])
    # Its links stop working: whoever held one (a forwarded e-mail) can do nothing more.
    keys.revoke(registration.pk)
    # Once the event has begun, a freed place goes to nobody: whoever waits is not coming now.
    if held_place and event.status == Event.Status.PUBLISHED and event.starts_at > now:
        _promote(event, now)
    return registration


@transaction.atomic
def publish_event(*, event_id: int) -> Event:
    event = locked_event(event_id)
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("A cancelled event cannot be published again."))
    event.status = Event.Status.PUBLISHED
    event.save(update_fields=["status"])
    return event


@transaction.atomic
def change_capacity(*, event_id: int, capacity: int | None, now: dt.datetime | None = None):
    """More places promote people from the waiting list at once."""
    event = locked_event(event_id)
    event.capacity = capacity
    event.save(update_fields=["capacity"])
    if capacity is not None and event.status == Event.Status.PUBLISHED:
        _promote(event, now or timezone.now())
    return event


def when_and_where(event: Event) -> tuple:
    """What registrants plan their day around: the minute the event starts and ends, the site,
    its room and its online link. Take it from `locked_event` before a change, give it to
    `tell_of_changes` after, in the same transaction."""

    def minute(at: dt.datetime) -> dt.datetime:
        return at.replace(second=0, microsecond=0)

    return (
        minute(event.starts_at),
        minute(event.ends_at),
        event.site_id,
        event.place.strip(),
        event.online_url,
    )


@transaction.atomic
def tell_of_changes(*, event_id: int, before: tuple, now: dt.datetime | None = None) -> int:
    """After an organiser saved the event (the organisers' form and the admin both call this):
    an event moved after its purge is purged again later. When a published event still ahead
    has a new date,
    time or place (`before` is `when_and_where` of the event as it was), tell everyone registered
    who left an e-mail address, those with a place with the new calendar entry (its SEQUENCE
    one higher, so calendars replace the old one). Inside the reminder days the e-mail about the
    change is the reminder; a start moved further ahead lets the reminder go again before it.
    Returns how many are told."""
    now = now or timezone.now()
    event = locked_event(event_id)
    after = when_and_where(event)
    _purge_again_if_moved(event, now)
    if event.status != Event.Status.PUBLISHED or event.ends_at <= now or after == before:
        return 0
    Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
    active = Registration.objects.filter(event_id=event.pk, status__in=Registration.ACTIVE)
    holders = active.filter(status=Registration.Status.CONFIRMED)
    if reminder_due(event, now):
        holders.filter(reminder_sent_at__isnull=True).exclude(email="").update(reminder_sent_at=now)
    elif after[0] != before[0]:
        holders.filter(reminder_sent_at__isnull=False).update(reminder_sent_at=None)
    told = list(active.exclude(email="").values_list("pk", flat=True))
    emails.queue_each(told, "event_changed")
    return len(told)


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
    emails.queue_each(told, "event_cancelled")
    return len(told)


def reminder_due(event: Event, now: dt.datetime) -> bool:
    """True from `reminder_days` days before the start, counted on the site's local calendar (the
    same wall-clock time, whatever daylight saving time does in between), until the start."""
    if event.reminder_days == 0:
        return False
    local_start = event.starts_at.astimezone(event.site.zone)
    # Aware arithmetic on a local time keeps the wall clock: 2 days before 10:00 is 10:00.
    remind_from = local_start - dt.timedelta(days=event.reminder_days)
    return remind_from <= now < event.starts_at


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
            emails.queue(registration.pk, "reminder")
            sent += 1
    return sent


@transaction.atomic
def set_attendance(*, registration_id: int, attended: bool | None) -> Registration:
    registration = Registration.objects.select_for_update().filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    if registration.status != Registration.Status.CONFIRMED:
        raise EventError(_("Only registered people can be marked present."))
    registration.attended = attended
    registration.save(update_fields=["attended"])
    return registration


@transaction.atomic
def add_walk_ins(*, event_id: int, delta: int) -> Event:
    event = locked_event(event_id)
    event.walk_ins = max(0, event.walk_ins + delta)
    event.save(update_fields=["walk_ins"])
    return event


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
