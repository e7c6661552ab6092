"""Who holds a place: the event's lock every change of places takes first, the count of places
taken, giving a place, filling free places from the waiting list, and when reminders are due.

Capacity is never exceeded: every change of who holds a place locks the event row first
(SELECT … FOR UPDATE), so simultaneous registrations are decided one after the other, in arrival
order. E-mails are written to the outbox in the same transaction, and sent after it commits."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils.translation import gettext as _

from citedesmetiers.models import Site
from citedesmetiers.refusals import Refusal

from .. import emails
from ..models import Event, Registration


class EventError(Refusal):
    """A refusal to show to the person as it is."""


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


def places_taken(event: Event) -> int:
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


def confirm_place(event: Event, registration: Registration, now: dt.datetime) -> None:
    """A place is theirs from `now`. Inside the reminder days the e-mail that says so is the
    reminder (it says so too): no second e-mail minutes later."""
    registration.status = Registration.Status.CONFIRMED
    registration.confirmed_at = now
    if registration.email and reminder_due(event, now):
        registration.reminder_sent_at = now


def promote(event: Event, now: dt.datetime) -> list[Registration]:
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
        confirm_place(event, registration, now)
        registration.promoted_at = now
        registration.save(
            update_fields=["status", "confirmed_at", "promoted_at", "reminder_sent_at"]
        )
    emails.queue_each([r.pk for r in promoted if r.email], emails.MailKind.PROMOTED)
    return promoted


def reminder_due(event: Event, now: dt.datetime) -> bool:
    """True from `reminder_days` days before the start, counted on the site's local calendar (the
    same wall-clock time, whatever daylight saving time does in between), until the start."""
    if event.reminder_days == 0:
        return False
    local_start = event.starts_at.astimezone(event.site.zone)
    # Aware arithmetic on a local time keeps the wall clock: 2 days before 10:00 is 10:00.
    remind_from = local_start - dt.timedelta(days=event.reminder_days)
    return remind_from <= now < event.starts_at
