"""The e-mails of registrations, in the registrant's language, text + HTML."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from citedesmetiers import outbox

from . import keys
from .calendar import calendar_bytes
from .models import Registration

# The outbox's name for a registration e-mail (its handler is `deliver`, registered by the app).
MAIL = "events.mail"


class MailKind(StrEnum):
    """The e-mails of a registration. The values are the names of their templates, and what the
    outbox's payloads (and older tasks still in the broker) hold: they do not change. The first
    three are also a registration's status, the e-mail that says it."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    PROMOTED = "promoted"
    REMINDER = "reminder"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"

    @classmethod
    def of(cls, status: str) -> MailKind:
        """The e-mail that tells a registration's status (pending, confirmed or waiting)."""
        return cls(status)


# The e-mails that carry the event for the calendar of someone holding a place: booked,
# reminded, changed or cancelled (the entry then replaces the one they have).
WITH_CALENDAR = {
    MailKind.CONFIRMED,
    MailKind.PROMOTED,
    MailKind.REMINDER,
    MailKind.EVENT_CHANGED,
    MailKind.EVENT_CANCELLED,
}
# The e-mails that link to the registration's page (the others link to the event's page, or to
# the confirmation).
WITH_MANAGE_LINK = set(MailKind) - {MailKind.PENDING, MailKind.EVENT_CANCELLED}


def queue(
    registration_id: int, kind: MailKind, *, again: bool = False, once_key: str | None = None
) -> None:
    """Send the `kind` e-mail of a registration once the current transaction commits, through
    the outbox: a broker or a mail server that is down delays it, never loses it. `again`: it
    is sent again on request (it says so)."""
    payload = {"registration": registration_id, "kind": str(kind)}
    if again:
        payload["again"] = True
    outbox.enqueue(MAIL, payload, once_key=once_key)


def queue_each(registration_ids: list[int], kind: MailKind) -> None:
    """`queue` for several registrations at once (one statement)."""
    outbox.enqueue_all(MAIL, [{"registration": pk, "kind": str(kind)} for pk in registration_ids])


def deliver(payload: dict) -> None:
    """The outbox's handler: send the e-mail if the registration is still there."""
    registration = (
        Registration.objects.select_related("event", "event__site")
        .filter(pk=payload["registration"])
        .first()
    )
    if registration is not None:
        send(registration, payload["kind"], again=payload.get("again", False))


def one_line(text: str) -> str:
    """A subject on one line: a newline (in an event's title, say) is refused in a header."""
    return " ".join(text.split())


def send(registration: Registration, kind: MailKind | str, *, again: bool = False) -> None:
    """Render and send the `kind` e-mail now (a kind this version does not know is dropped).
    Each link in it is new (events.keys)."""
    if kind not in set(MailKind) or not registration.email:
        return
    kind = MailKind(kind)
    if registration.status == Registration.Status.CANCELLED:
        return  # cancelled since this e-mail was queued: no news, and no new link, to send
    base = settings.SITE_URL.rstrip("/")
    event = registration.event
    context = {
        "registration": registration,
        "event": event,
        "site": event.site,
        # The pseudonym was typed by whoever registered the address: it is used only once the
        # address's owner has confirmed, so nobody can make us mail their text to a stranger.
        "name": registration.pseudonym if registration.email_confirmed_at else "",
        "again": again,
        # Given a place inside the reminder days: this e-mail is the reminder (events.services).
        "is_reminder": kind in (MailKind.CONFIRMED, MailKind.PROMOTED)
        and registration.reminder_sent_at is not None
        and registration.reminder_sent_at == registration.confirmed_at,
        "event_url": base + event.get_absolute_url(),
        "retention_days": settings.EVENT_CONTACT_RETENTION_DAYS,
    }
    if kind in WITH_MANAGE_LINK:
        secret = keys.issue(registration.pk, keys.MANAGE)
        context["manage_url"] = base + reverse("events:registration", args=[secret])
    if kind == MailKind.PENDING:
        secret = keys.issue(registration.pk, keys.CONFIRM)
        context["confirm_url"] = base + reverse("events:confirm", args=[secret])
    with translation.override(registration.language), timezone.override(event.site.zone):
        subject = one_line(render_to_string(f"events/email/{kind}_subject.txt", context))
        text = render_to_string(f"events/email/{kind}.txt", context)
        html = render_to_string(f"events/email/{kind}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[registration.email])
    message.attach_alternative(html, "text/html")
    if kind in WITH_CALENDAR and registration.status == Registration.Status.CONFIRMED:
        message.attach("event.ics", calendar_bytes([event], base, event.title), "text/calendar")
    message.send()
