"""Appointments at reception: the day's list, checking an on-site visitor in with their booking
code, and booking for someone who phones or asks at the desk (a pseudonym; a contact only when
the channel needs one). Here, not in reception: booking and check-in are counselling's services
(they read the plan), and reception is below counselling in the layers."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appointments.models import Appointment
from citedesmetiers import languages
from citedesmetiers.access import staff_view
from citedesmetiers.clock import local_day_bounds
from citedesmetiers.codes import grouped
from citedesmetiers.ids import parse_id
from citedesmetiers.models import Theme
from citedesmetiers.roles import Role
from reception.models import APPOINTMENT_CHANNELS, Channel

from .services import appointments
from .services.appointments import AppointmentError

RECEPTION_ROLES = (Role.RECEPTION, Role.MANAGER)
SLOTS_SHOWN = 40


def _today(site) -> list[Appointment]:
    start, end = local_day_bounds(site.zone, site.local_date())
    return list(
        Appointment.objects.filter(site=site, starts__gte=start, starts__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("theme", "desk")
        .order_by("starts", "desk__order", "pk")
    )


@staff_view(*RECEPTION_ROLES)
@require_GET
def day(request: HttpRequest) -> HttpResponse:
    site = request.site
    themes = list(Theme.objects.filter(site=site, active=True))
    theme = next((t for t in themes if str(t.pk) == request.GET.get("theme", "")), None)
    channel = request.GET.get("channel", "")
    channel = channel if channel in APPOINTMENT_CHANNELS else ""
    free = (
        appointments.slots(site, theme, channel=channel)[:SLOTS_SHOWN]
        if theme is not None and channel
        else []
    )
    return render(
        request,
        "counselling/reception_appointments.html",
        {
            "site": site,
            "appointments": _today(site),
            "themes": themes,
            "theme": theme,
            "channels": [(c, c.label) for c in APPOINTMENT_CHANNELS],
            "channel": channel,
            "slots": free,
            "late": settings.APPOINTMENT_LATE_MINUTES,
            "visitor_languages": languages.own_names(),
        },
    )


@staff_view(*RECEPTION_ROLES)
@require_POST
def check_in(request: HttpRequest) -> HttpResponse:
    try:
        appointment = appointments.check_in(
            site=request.site, code=request.POST.get("code", "")[:40]
        )
    except AppointmentError as refusal:
        messages.error(request, str(refusal))
        return redirect("reception_appointments:day")
    messages.success(
        request,
        _("%(who)s checked in: ticket %(ticket)s, called at %(time)s by %(desk)s.")
        % {
            "who": appointment.pseudonym or grouped(appointment.code),
            "ticket": appointment.ticket_code,
            "time": timezone.localtime(appointment.starts, request.site.zone).strftime("%H:%M"),
            "desk": appointment.desk.name,
        },
    )
    return redirect("reception_appointments:day")


def _slot_choice(value: str) -> tuple[int | None, dt.datetime | None]:
    """`<desk id>@<ISO start>`, as the form's radio buttons post it."""
    desk, _sep, starts = (value or "")[:80].partition("@")
    moment = parse_datetime(starts) if starts else None
    return parse_id(desk), moment


@staff_view(*RECEPTION_ROLES)
@require_POST
def book(request: HttpRequest) -> HttpResponse:
    desk_id, starts = _slot_choice(request.POST.get("slot", ""))
    theme_id = parse_id(request.POST.get("theme", ""))
    channel = request.POST.get("channel", "")
    back = redirect(
        reverse("reception_appointments:day")
        + "?"
        + urlencode({"theme": theme_id or "", "channel": channel[:20]})
    )
    try:
        appointment, _secret = appointments.book(
            site=request.site,
            theme_id=theme_id,
            channel=channel,
            desk_id=desk_id,
            starts=starts,
            pseudonym=request.POST.get("pseudonym", "")[:200],
            phone=request.POST.get("phone", "")[:40] if channel == Channel.PHONE else "",
            email=request.POST.get("email", "")[:254] if channel == Channel.VIDEO else "",
            by_staff=True,
            # The visitor's, for their e-mails (reception's own language is not theirs).
            language=request.POST.get("language", "")[:20],
        )
    except AppointmentError as refusal:
        messages.error(request, str(refusal))
        return back
    messages.success(
        request,
        _("Booked: %(who)s, %(day)s at %(time)s. Booking code %(code)s (tell them).")
        % {
            "who": appointment.pseudonym,
            "day": timezone.localtime(appointment.starts, request.site.zone).strftime("%d/%m"),
            "time": timezone.localtime(appointment.starts, request.site.zone).strftime("%H:%M"),
            "code": grouped(appointment.code),
        },
    )
    return redirect("reception_appointments:day")
