"""The e-mails of registrations, in the registrant's language, text + HTML."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .calendar import calendar_bytes
from .models import Registration

KINDS = {
    "pending",
    "confirmed",
    "waiting",
    "promoted",
    "reminder",
    "event_changed",
    "event_cancelled",
}
# The e-mails that carry the event for the calendar of someone holding a place: booked,
# reminded, changed or cancelled (the entry then replaces the one they have).
WITH_CALENDAR = {"confirmed", "promoted", "reminder", "event_changed", "event_cancelled"}


SIGNING_SALT = "events.registration"


def registration_token(registration: Registration) -> str:
    return signing.dumps(registration.pk, salt=SIGNING_SALT, compress=True)


def read_registration_token(token: str, max_age_days: int = 365) -> int | None:
    try:
        return int(signing.loads(token, salt=SIGNING_SALT, max_age=max_age_days * 86400))
    except (signing.BadSignature, ValueError, TypeError):
        return None


def send(registration: Registration, kind: str) -> None:
    if kind not in KINDS or not registration.email:
        return
    base = settings.SITE_URL.rstrip("/")
    token = registration_token(registration)
    context = {
        "registration": registration,
        "event": registration.event,
        "site": registration.event.site,
        "manage_url": base + reverse("events:registration", args=[token]),
        "confirm_url": base + reverse("events:confirm", args=[token]),
        "event_url": base + registration.event.get_absolute_url(),
        "retention_days": settings.EVENT_CONTACT_RETENTION_DAYS,
    }
    with (
        translation.override(registration.language),
        timezone.override(registration.event.site.zone),
    ):
        subject = render_to_string(f"events/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"events/email/{kind}.txt", context)
        html = render_to_string(f"events/email/{kind}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[registration.email])
    message.attach_alternative(html, "text/html")
    if kind in WITH_CALENDAR and registration.status == Registration.Status.CONFIRMED:
        message.attach(
            "event.ics",
            calendar_bytes([registration.event], base, registration.event.title),
            "text/calendar",
        )
    message.send()
