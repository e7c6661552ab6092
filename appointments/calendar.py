"""An appointment as an iCalendar file (.ics), attached to its e-mails (written by
`citedesmetiers.ics`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers import ics
from reception.models import Channel

from .models import Appointment


def location(appointment: Appointment) -> str:
    """Where it is held: the site, the phone, or the video room (its address, when the site
    has one)."""
    if appointment.channel == Channel.PHONE:
        return _("By phone")
    if appointment.channel == Channel.VIDEO:
        return appointment.room_url or _("Video call")
    return appointment.site.name


def calendar_bytes(appointment: Appointment, *, manage_url: str = "") -> bytes:
    """One entry, the slot. Its UID names the appointment for good, so a move or a cancellation
    replaces the entry already in the visitor's calendar; the sequence is the seconds since the
    booking at the time of writing, so each later e-mail's entry wins (nothing counts changes)."""
    sequence = int((timezone.now() - appointment.booked_at).total_seconds())
    summary = _("Appointment · %(theme)s") % {"theme": appointment.theme.name}
    entry = ics.entry(
        uid=f"appointment-{appointment.pk}@citedesmetiers",
        sequence=max(sequence, 0),
        starts=appointment.starts,
        ends=appointment.ends,
        summary=summary,
        description=_("Booking code: %(code)s") % {"code": appointment.code},
        location=location(appointment),
        url=manage_url,
        cancelled=appointment.status == Appointment.Status.CANCELLED,
    )
    return ics.calendar_bytes([entry], name=summary, product="appointments")
