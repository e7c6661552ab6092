"""The e-mails of an appointment booked with an e-mail address: the confirmation, the reminder
the day before, a move and a cancellation; in the language it was booked in, text + HTML, the
times in the site's time zone, the slot attached as an .ics where the visitor holds it.

They go through the outbox (`queue`, in the transaction of the change they tell), so a broker
or a mail server that is down delays them and never loses them. The payload holds the
appointment's id and the e-mail's kind, never a contact nor a secret: the outbox's table is
kept a week, and is in every backup.

Yet the confirmation must carry a manage link, and the booking's own secret is shown once and
never stored (only its digest is). Three ways were weighed: putting the secret in the payload
stores it, in clear, in the outbox table and its backups; sending the e-mail straight from the
request, the secret in memory, loses the e-mail when the mail server is down and makes the
visitor wait for it; leaving the link out leaves the visitor who lost the page with no way to
cancel. So each e-mail gets a manage link of its own, made by the handler as it renders the
e-mail (appointments.keys.issue): its secret exists only in the e-mail, its digest alone is
stored, and every link works until the contact data is purged.

The greeting has no name: whoever books types both the address and the pseudonym, and nothing
confirms the address, so nobody can make us mail their words to a stranger. The confirmation
says what to do with an appointment one did not book: cancel it with the link."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from citedesmetiers import outbox
from citedesmetiers.codes import grouped
from reception.models import Channel

from . import keys
from .calendar import calendar_bytes
from .models import Appointment

# The outbox's name for an appointment's e-mail (its handler is `deliver`, registered by the app).
MAIL = "appointments.mail"


class MailKind(StrEnum):
    """The values are the names of the templates, and what the payloads hold: they do not
    change."""

    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"


# The e-mails whose .ics adds the slot to the visitor's calendar, or replaces the entry there
# (the cancellation's entry is marked cancelled: a calendar takes it off).
WITH_CALENDAR = {MailKind.CONFIRMATION, MailKind.MOVED, MailKind.CANCELLED}
# Told only while the appointment is still booked (a cancellation since makes them moot).
WHILE_BOOKED = {MailKind.CONFIRMATION, MailKind.REMINDER, MailKind.MOVED}


def queue(appointment: Appointment, kind: MailKind) -> None:
    """Send the `kind` e-mail of the appointment once the current transaction commits, if it
    has an e-mail address (a phone number is never written to)."""
    if appointment.email:
        outbox.enqueue(MAIL, {"appointment": appointment.pk, "kind": str(kind)})


def deliver(payload: dict) -> None:
    """The outbox's handler: send the e-mail if the appointment is still there."""
    appointment = (
        Appointment.objects.select_related("site", "theme")
        .filter(pk=payload.get("appointment"))
        .first()
    )
    if appointment is not None:
        send(appointment, payload.get("kind", ""))


def one_line(text: str) -> str:
    """A subject on one line: a newline (in a theme's name, say) is refused in a header."""
    return " ".join(text.split())


def manage_url(secret: str) -> str:
    # By the URL's name: the public pages are counselling's, above this app.
    return settings.SITE_URL.rstrip("/") + reverse("booking:manage", args=[secret])


def send(appointment: Appointment, kind: MailKind | str) -> bool:
    """Render and send the `kind` e-mail now; False if there is nothing to send: an unknown
    kind, no address (erased, or never given), or news that a cancellation made moot."""
    if kind not in set(MailKind) or not appointment.email:
        return False
    kind = MailKind(kind)
    booked = appointment.status == Appointment.Status.BOOKED
    if kind in WHILE_BOOKED and not booked:
        return False
    if kind == MailKind.CANCELLED and appointment.status != Appointment.Status.CANCELLED:
        return False
    site = appointment.site
    context = {
        "appointment": appointment,
        "site": site,
        "theme": appointment.theme,
        "zone": site.time_zone,
        "code": grouped(appointment.code),
        "in_person": appointment.channel == Channel.IN_PERSON,
        "by_phone": appointment.channel == Channel.PHONE,
        "by_video": appointment.channel == Channel.VIDEO,
        "room_url": appointment.room_url,
        "retention_days": settings.APPOINTMENT_CONTACT_RETENTION_DAYS,
        # A link of its own (appointments.keys): only while there is something to manage.
        "manage_url": manage_url(keys.issue(appointment.pk)) if booked else "",
    }
    language = appointment.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(site.zone):
        subject = one_line(render_to_string(f"appointments/email/{kind}_subject.txt", context))
        text = render_to_string(f"appointments/email/{kind}.txt", context)
        html = render_to_string(f"appointments/email/{kind}.html", context)
        calendar = (
            calendar_bytes(appointment, manage_url=context["manage_url"])
            if kind in WITH_CALENDAR
            else None
        )
    message = EmailMultiAlternatives(subject, text, to=[appointment.email])
    message.attach_alternative(html, "text/html")
    if calendar is not None:
        message.attach("appointment.ics", calendar, "text/calendar")
    message.send()
    return True
