"""What happens to appointments with time, without anyone asking: the reminder the day before,
the no-shows once a slot has passed, and the contact data erased after the retention.

Booking, cancelling and moving are counselling's (counselling.services.appointments): they read
the presence plan. These only read and write appointments, so they live here, below it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from . import emails
from .models import Appointment, AppointmentKey

Status = Appointment.Status
# The reminder goes from one day before the start (the same wall-clock time on the site's
# calendar, whatever daylight saving time does) until the start.
REMIND_BEFORE = dt.timedelta(days=1)


def remind_from(appointment: Appointment) -> dt.datetime:
    # Aware arithmetic on a local time keeps the wall clock: a day before 10:00 is 10:00.
    return appointment.starts.astimezone(appointment.site.zone) - REMIND_BEFORE


def _claim_reminder(appointment_id: int, now: dt.datetime) -> bool:
    """Take the appointment's reminder for this sweep: one conditional UPDATE, so two sweeps
    (two workers, or two beats) never both have it. On PostgreSQL the second waits for the
    first's commit, then finds `reminded_at` set and changes nothing; SQLite runs one write at
    a time."""
    return bool(
        Appointment.objects.filter(
            pk=appointment_id, status=Status.BOOKED, reminded_at__isnull=True
        )
        .exclude(email="")
        .update(reminded_at=now)
    )


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind each booked appointment with an e-mail address, once, the day before. One booked
    inside that day is not reminded: its confirmation has just told it. Returns how many
    reminders were queued (the outbox sends them after each commit)."""
    now = now or timezone.now()
    candidates = (
        Appointment.objects.filter(
            status=Status.BOOKED,
            reminded_at__isnull=True,
            starts__gt=now,
            starts__lte=now + REMIND_BEFORE + dt.timedelta(hours=2),  # a DST day has 25 hours
        )
        .exclude(email="")
        .select_related("site")
    )
    due = [
        appointment
        for appointment in candidates
        if remind_from(appointment) <= now and appointment.booked_at < remind_from(appointment)
    ]
    sent = 0
    for appointment in due:
        with transaction.atomic():
            if _claim_reminder(appointment.pk, now):
                emails.queue(appointment, emails.MailKind.REMINDER)
                sent += 1
    return sent


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """A booked appointment whose slot has ended, and whose visitor never checked in on site
    nor was taken by the desk, did not come: say so, for the figures. (One checked in on site
    and still waiting stays booked: the desk may call them yet.) Returns how many."""
    now = now or timezone.now()
    return Appointment.objects.filter(
        status=Status.BOOKED, checked_in_at__isnull=True, ends__lte=now
    ).update(status=Status.NO_SHOW)


def purge_contacts(*, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Erase the pseudonym and contact of every appointment whose slot ended `days` ago
    (default APPOINTMENT_CONTACT_RETENTION_DAYS), whatever its status, and end its manage
    links. What stays is anonymous: the theme, the channel, the status, when it was booked.
    Safe to run twice. Returns how many appointments were erased."""
    now = now or timezone.now()
    days = settings.APPOINTMENT_CONTACT_RETENTION_DAYS if days is None else days
    ended = Appointment.objects.filter(
        ends__lte=now - dt.timedelta(days=days), contact_erased_at__isnull=True
    )
    with transaction.atomic():
        AppointmentKey.objects.filter(appointment__in=ended).delete()
        return ended.update(
            pseudonym="",
            phone="",
            email="",
            contact_digest="",
            contact_erased_at=now,
            # The booking's own link stops working too: no SHA-256 in hexadecimal looks like this
            # (and it stays unique).
            manage_digest=Concat(Value("erased-"), Cast(F("pk"), output_field=CharField())),
        )
