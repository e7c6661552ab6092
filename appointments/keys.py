"""The manage links of appointments (`/appointments/manage/<secret>/`): to see, move or cancel one.

A secret is random, in no way derived from the appointment, and only its SHA-256 is stored. The
link shown once on the confirmation page is the booking's own (`Appointment.manage_digest`,
counselling.services.appointments.book); each e-mail carries a new one, made as it is sent
(`issue`), so the secret exists only in that e-mail — never in the outbox's payload, nor in any
table — and the links of older e-mails keep working. The purge of the contact data ends them all
(appointments.services.purge_contacts). An e-mail that fails to leave and is tried again leaves
a key nobody holds; it goes with the others at the purge."""

from __future__ import annotations

import hashlib
import secrets

from django.db.models import Q

from .models import AppointmentKey

SECRET_BYTES = 24  # as the booking's own link


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(appointment_id: int) -> str:
    """A new manage link's secret for the appointment: the only time it exists in clear."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    AppointmentKey.objects.create(appointment_id=appointment_id, digest=digest(secret))
    return secret


def opened_by(secret_digest: str) -> Q:
    """Which appointment the secret with this digest opens: the one an e-mail's link names, or
    the one whose booking showed it. Two lookups on unique indexes, rather than one OR across
    two tables that the database would answer by reading every appointment."""
    mailed = (
        AppointmentKey.objects.filter(digest=secret_digest)
        .values_list("appointment_id", flat=True)
        .first()
    )
    return Q(pk=mailed) if mailed is not None else Q(manage_digest=secret_digest)
