"""The e-mails of registrations, in the registrant's language, text + HTML."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from citedesmetiers import outbox

from .calendar import calendar_bytes
from .models import Registration

# The outbox's name for a registration e-mail (its handler is `deliver`, registered by the app).
MAIL = "events.mail"

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


def queue(registration_id: int, kind: str) -> None:
    """Send the `kind` e-mail of a registration once the current transaction commits, through
    the outbox: a broker or a mail server that is down delays it, never loses it."""
    outbox.enqueue(MAIL, {"registration": registration_id, "kind": kind})


def queue_each(registration_ids: list[int], kind: str) -> None:
    """`queue` for several registrations at once (one statement)."""
    outbox.enqueue_all(MAIL, [{"registration": pk, "kind": kind} for pk in registration_ids])


def deliver(payload: dict) -> None:
    """The outbox's handler: send the e-mail if the registration is still there."""
    registration = (
        Registration.objects.select_related("event", "event__site")
        .filter(pk=payload["registration"])
        .first()
    )
    if registration is not None:
        send(registration, payload["kind"])


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
