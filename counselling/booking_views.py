"""The public booking of an appointment, on a phone and without an account: choose a theme, then
how to meet (in person, phone, video), then a time, then give a first name or pseudonym and one
way to be reached; then the appointment's own page, at its secret link, to cancel or move it.

Each step is a plain GET page whose query carries the choices made so far (`theme`, `channel`,
`slot`), so it works without JavaScript and the back button does what people expect. A choice
that does not hold (malformed, not offered, passed, taken) sends the visitor back to the step
before, with a message. The booking itself, its refusals and its races are the service's
(counselling.services.appointments); in front of it stand the public event registration's
defences (events.guard): a honeypot, limits per address and per network, and the automatic
check once a network has booked a few times."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.calendar import calendar_bytes
from appointments.emails import manage_url
from appointments.models import Appointment
from citedesmetiers.cache import CacheUnavailable
from citedesmetiers.codes import grouped
from citedesmetiers.ids import parse_id
from citedesmetiers.links import secret_page
from citedesmetiers.models import OpeningPeriod, Site, Theme
from citedesmetiers.refusals import attempt
from events import guard

from .booking_forms import BookingForm
from .models import APPOINTMENT_CHANNELS, Channel
from .services import appointments
from .services.appointments import BOOKING_LEAD, AppointmentError, Slot

CHECK_NOT_DONE = gettext_lazy(
    "Your booking is not sent yet: the automatic check below has to be done first."
)
# Each way of meeting, as the visitor chooses it, and what it means in one line.
CHANNEL_NAMES = {
    Channel.IN_PERSON: gettext_lazy("In person"),
    Channel.PHONE: gettext_lazy("By phone"),
    Channel.VIDEO: gettext_lazy("By video"),
}
CHANNEL_LINES = {
    Channel.IN_PERSON: gettext_lazy(
        "You come to the centre at your time; a counsellor receives you at a desk."
    ),
    Channel.PHONE: gettext_lazy("A counsellor calls you at your time, on the number you give."),
    Channel.VIDEO: gettext_lazy(
        "You get a link by e-mail and join a video call at your time, from a phone or a computer."
    ),
}
SLOT_MAX_LENGTH = 40


# --- the slot in a query: "<desk id>_<start, ISO 8601 in UTC>" -----------------------------------


def slot_value(desk_id: int, starts: dt.datetime) -> str:
    return f"{desk_id}_{starts.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"


@dataclass(frozen=True)
class Picked:
    """A slot as the visitor sent it back: not yet known to be offered, nor free."""

    desk_id: int
    starts: dt.datetime


def parse_slot(value) -> Picked | None:
    if not isinstance(value, str) or not value.isascii() or len(value) > SLOT_MAX_LENGTH:
        return None
    desk, _sep, moment = value.partition("_")
    desk_id = parse_id(desk)
    try:
        starts = dt.datetime.fromisoformat(moment)
    except ValueError:
        return None
    if desk_id is None or timezone.is_naive(starts):
        return None
    return Picked(desk_id, starts.astimezone(dt.UTC))


# --- what is offered, and how far the visitor's choices hold -------------------------------------


def _site(site_slug: str) -> Site:
    return get_object_or_404(Site, slug=site_slug, active=True)


def usable_channels(site: Site, slot: Slot) -> tuple[str, ...]:
    """How a slot may be held here: video only where the site has a room address."""
    return tuple(
        c
        for c in slot.channels
        if c in APPOINTMENT_CHANNELS and (c != Channel.VIDEO or site.video_room_template)
    )


def _offer(site: Site, theme: Theme, now: dt.datetime) -> list[Slot]:
    return [s for s in appointments.slots(site, theme, now=now) if usable_channels(site, s)]


@dataclass
class Choice:
    theme: Theme | None = None
    offered: list[Slot] = field(default_factory=list)  # the theme's free slots
    channels: list[str] = field(default_factory=list)  # the ways they can be held
    channel: str = ""
    free: list[Slot] = field(default_factory=list)  # the theme's free slots for the channel
    slot: Picked | None = None

    @property
    def channel_name(self) -> str:
        return CHANNEL_NAMES.get(self.channel, "")

    @property
    def ends(self) -> dt.datetime | None:
        if self.slot is None or self.theme is None:
            return None
        return self.slot.starts + dt.timedelta(minutes=self.theme.appointment_minutes)


def _choose(
    site: Site, params: QueryDict, now: dt.datetime, *, slot_free: bool = True
) -> tuple[Choice, str | None]:
    """How far the choices in `params` hold, and what to tell the visitor about the first one
    that does not (None when they all do). `slot_free=False`: the slot is only read, and the
    service says whether it is still free (a booking posted)."""
    choice = Choice()
    theme_value = params.get("theme")
    if not theme_value:
        return choice, None
    theme_id = parse_id(theme_value)
    theme = site.themes.filter(active=True, pk=theme_id).first() if theme_id else None
    offered = _offer(site, theme, now) if theme is not None else []
    if not offered:
        return choice, _("This theme has no appointment to offer: choose one of those below.")
    choice.theme, choice.offered = theme, offered
    choice.channels = [
        c for c in APPOINTMENT_CHANNELS if any(c in usable_channels(site, s) for s in offered)
    ]
    channel = params.get("channel")
    if not channel:
        return choice, None
    if channel not in choice.channels:
        return choice, _("This way of meeting is not offered for this theme: choose one below.")
    choice.channel = channel
    choice.free = [s for s in offered if channel in s.channels]
    slot = params.get("slot")
    if not slot:
        return choice, None
    picked = parse_slot(slot)
    if picked is None:
        return choice, _("Choose one of the times offered.")
    if picked.starts < now + BOOKING_LEAD:
        return choice, _("This time has passed or is too close: choose a later one.")
    if slot_free and not any(
        s.desk_id == picked.desk_id and s.starts == picked.starts for s in choice.free
    ):
        return choice, _("This time is not free or not offered: choose one of the times below.")
    choice.slot = picked
    return choice, None


def _step_url(site: Site, choice: Choice) -> str:
    """The address of the furthest step the choice reached."""
    query = {}
    if choice.theme is not None:
        query["theme"] = choice.theme.pk
        if choice.channel:
            query["channel"] = choice.channel
            if choice.slot is not None:
                query["slot"] = slot_value(choice.slot.desk_id, choice.slot.starts)
    url = reverse("booking:start", args=[site.slug])
    return f"{url}?{urlencode(query, safe=':')}" if query else url


def _days(site: Site, free: list[Slot], link) -> list[tuple[dt.date, list[dict]]]:
    """The slots grouped by the site's local day, each with the address that chooses it."""
    days: dict[dt.date, list[dict]] = {}
    for slot in free:
        value = slot_value(slot.desk_id, slot.starts)
        days.setdefault(site.local_date(slot.starts), []).append(
            {"starts": slot.starts, "value": value, "url": link(value)}
        )
    return list(days.items())


def opening_hours(site: Site) -> list[tuple[str, str]]:
    """The site's week as people read it: each open weekday with its periods."""
    by_day: dict[int, list[str]] = {}
    for period in site.opening_periods.order_by("weekday", "opens"):
        by_day.setdefault(period.weekday, []).append(f"{period.opens:%H:%M}–{period.closes:%H:%M}")
    return [
        (OpeningPeriod.Weekday(day).label, ", ".join(periods))
        for day, periods in sorted(by_day.items())
    ]


def erased_on(site: Site, starts: dt.datetime) -> dt.date:
    """The day the contact given for a slot is erased (appointments' contact purge)."""
    return site.local_date(starts) + dt.timedelta(days=settings.APPOINTMENT_CONTACT_RETENTION_DAYS)


# --- the steps ------------------------------------------------------------------------------------


def _render(request: HttpRequest, site: Site, template: str, context: dict, status: int = 200):
    with timezone.override(site.zone):
        return render(
            request,
            f"counselling/booking/{template}",
            {"site": site, "zone": site.time_zone, **context},
            status=status,
        )


@never_cache
@require_GET
def start(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = _site(site_slug)
    now = timezone.now()
    choice, refusal = _choose(site, request.GET, now)
    if refusal:
        messages.error(request, refusal)
        return redirect(_step_url(site, choice))
    if choice.slot is not None:
        form = BookingForm(
            initial={
                "theme": choice.theme.pk,
                "channel": choice.channel,
                "slot": slot_value(choice.slot.desk_id, choice.slot.starts),
            }
        )
        return _form_page(request, site, choice, form)
    if choice.channel:
        base = _step_url(site, choice)
        return _render(
            request,
            site,
            "slots.html",
            {
                "choice": choice,
                "step": 3,
                "days": _days(
                    site, choice.free, lambda v: f"{base}&{urlencode({'slot': v}, safe=':')}"
                ),
                "back": _step_url(site, Choice(theme=choice.theme)),
            },
        )
    if choice.theme is not None:
        base = _step_url(site, choice)
        channels = [
            {
                "value": c,
                "label": CHANNEL_NAMES[c],
                "line": CHANNEL_LINES[c],
                "url": f"{base}&{urlencode({'channel': c})}",
            }
            for c in choice.channels
        ]
        return _render(
            request,
            site,
            "channels.html",
            {"choice": choice, "step": 2, "channels": channels, "back": _step_url(site, Choice())},
        )
    themes = []
    for theme in site.themes.filter(active=True).order_by("order", "name"):
        offered = _offer(site, theme, now)
        if offered:
            themes.append({"theme": theme, "first": offered[0].starts})
    return _render(
        request,
        site,
        "themes.html",
        {"choice": choice, "step": 1, "themes": themes, "hours": opening_hours(site)},
    )


def _challenge_target(site: Site) -> str:
    return f"booking:{site.pk}"


def _form_page(
    request: HttpRequest,
    site: Site,
    choice: Choice,
    form: BookingForm,
    *,
    counts: guard.Counts | None = None,
    status: int = 200,
) -> HttpResponse:
    """Step 4, the form; `counts`: those of the attempt just posted, if any."""
    check = None
    reason = guard.reason_for_check(
        counts or guard.counts_so_far(request, site.pk, form=guard.BOOKING),
        capacity=None,
        places_left=None,
        counted=counts is not None,
    )
    if reason is not None:
        check = {
            "reason": reason,
            "challenge": json.dumps(guard.new_challenge(_challenge_target(site))),
        }
    slots_url = _step_url(site, Choice(theme=choice.theme, channel=choice.channel))
    return _render(
        request,
        site,
        "form.html",
        {
            "choice": choice,
            "step": 4,
            "form": form,
            "check": check,
            "erased_on": erased_on(site, choice.slot.starts),
            "back": slots_url,
        },
        status=status,
    )


@require_POST
def book(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = _site(site_slug)
    choice, refusal = _choose(site, request.POST, timezone.now(), slot_free=False)
    if refusal or choice.slot is None:
        messages.error(request, refusal or _("Choose one of the times offered."))
        return redirect(_step_url(site, choice))
    form = BookingForm(request.POST)
    if not form.is_valid():
        return _form_page(request, site, choice, form, status=400)
    if form.cleaned_data["website"]:
        # The honeypot was filled in: a robot. Say nothing useful, write nothing.
        form.add_error(None, _("Your booking could not be recorded."))
        return _form_page(request, site, choice, form, status=400)
    try:
        counts = guard.count_attempt(request, site.pk, form=guard.BOOKING)
    except CacheUnavailable:
        # The limits cannot count: a public write is refused rather than let through unlimited.
        form.add_error(
            None,
            _(
                "Online booking is paused for a moment. Please try again in a few minutes, "
                "or ask at reception."
            ),
        )
        return _form_page(request, site, choice, form, status=429)
    if guard.refusal(counts):
        form.add_error(
            None,
            _(
                "Too many bookings from this connection. Please try again in an hour, or ask "
                "at reception."
            ),
        )
        return _form_page(request, site, choice, form, counts=counts, status=429)
    reason = guard.reason_for_check(counts, capacity=None, places_left=None, counted=True)
    if reason and not guard.solved(form.cleaned_data["altcha"], _challenge_target(site)):
        # No solution (no JavaScript), or a stale one: the page explains, with a new check.
        form.add_error(None, CHECK_NOT_DONE)
        return _form_page(request, site, choice, form, counts=counts, status=400)
    try:
        _appointment, secret = appointments.book(
            site=site,
            theme_id=choice.theme.pk,
            channel=choice.channel,
            desk_id=choice.slot.desk_id,
            starts=choice.slot.starts,
            pseudonym=form.cleaned_data["pseudonym"],
            phone=form.cleaned_data["phone"],
            email=form.cleaned_data["email"],
        )
    except AppointmentError as refused:
        form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        return _form_page(request, site, choice, form, counts=counts, status=400)
    return redirect("booking:manage", secret=secret)


# --- the appointment's page, at its secret link ---------------------------------------------------


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "counselling/booking/bad_link.html", status=404)


def _changeable(appointment: Appointment, now: dt.datetime) -> bool:
    return (
        appointment.status == Appointment.Status.BOOKED
        and appointment.checked_in_at is None
        and appointment.starts > now
    )


def _when(site: Site, starts: dt.datetime) -> str:
    local = timezone.localtime(starts, site.zone)
    # Each language's own day and month ("5 de marzo", "March 5"), not a fixed order.
    return f"{date_format(local, 'l')} {date_format(local, 'MONTH_DAY_FORMAT')} {local:%H:%M}"


@secret_page
@require_GET
def manage(request: HttpRequest, secret: str) -> HttpResponse:
    appointment = appointments.by_secret(secret)
    if appointment is None:
        return _bad_link(request)
    site = appointment.site
    return _render(
        request,
        site,
        "manage.html",
        {
            "appointment": appointment,
            "secret": secret,
            "code": grouped(appointment.code),
            "channel_name": CHANNEL_NAMES.get(appointment.channel, ""),
            "erased_on": erased_on(site, appointment.starts),
            "changeable": _changeable(appointment, timezone.now()),
            "can_check_in": _can_check_in(appointment, timezone.now()),
        },
    )


@secret_page
@require_GET
def calendar_file(request: HttpRequest, secret: str) -> HttpResponse:
    """The appointment for the visitor's calendar, as the e-mails attach it (a visitor who gave
    a phone number gets no e-mail: this is their way to it)."""
    appointment = appointments.by_secret(secret)
    if appointment is None:
        return _bad_link(request)
    response = HttpResponse(
        calendar_bytes(appointment, manage_url=manage_url(secret)),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


def _can_check_in(appointment: Appointment, now: dt.datetime) -> bool:
    """On site, on its day, not yet checked in and not too late: the visitor may say they are
    here from their phone (appointments.check_in decides)."""
    site = appointment.site
    return (
        appointment.channel == Channel.IN_PERSON
        and appointment.status == Appointment.Status.BOOKED
        and appointment.checked_in_at is None
        and site.local_date(appointment.starts) == site.local_date(now)
        and now <= appointment.starts + appointments.late_after()
    )


@secret_page
@require_POST
def here(request: HttpRequest, secret: str) -> HttpResponse:
    """The visitor, arrived, checks in from their phone with the page's own code."""
    appointment = appointments.by_secret(secret)
    if appointment is None:
        return _bad_link(request)
    attempt(request, appointments.check_in, site=appointment.site, code=appointment.code)
    return redirect("booking:manage", secret=secret)


@secret_page
@require_POST
def cancel(request: HttpRequest, secret: str) -> HttpResponse:
    appointment = appointments.by_secret(secret)
    if appointment is None:
        return _bad_link(request)
    # Done, the page says so in its title; refused (cancelled already), the message says why.
    attempt(request, appointments.cancel, appointment_id=appointment.pk)
    return redirect("booking:manage", secret=secret)


@secret_page
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, secret: str) -> HttpResponse:
    """Another time for the same theme and channel: the free slots (GET), the one chosen to
    confirm (GET with `slot`), then the move (POST)."""
    appointment = appointments.by_secret(secret)
    if appointment is None:
        return _bad_link(request)
    site, now = appointment.site, timezone.now()
    here = reverse("booking:move", args=[secret])
    if not _changeable(appointment, now):
        messages.error(request, _("This appointment can no longer be moved."))
        return redirect("booking:manage", secret=secret)
    if request.method == "POST":
        picked = parse_slot(request.POST.get("slot"))
        if picked is None:
            messages.error(request, _("Choose one of the times offered."))
            return redirect(here)
        if not attempt(
            request,
            appointments.move,
            appointment_id=appointment.pk,
            desk_id=picked.desk_id,
            starts=picked.starts,
        ):
            return redirect(here)
        messages.success(
            request,
            _("Your appointment is moved to %(when)s.") % {"when": _when(site, picked.starts)},
        )
        return redirect("booking:manage", secret=secret)
    free = appointments.slots(site, appointment.theme, channel=appointment.channel, now=now)
    chosen = None
    slot = request.GET.get("slot")
    if slot:
        picked = parse_slot(slot)
        chosen = next(
            (
                s
                for s in free
                if picked is not None and (s.desk_id, s.starts) == (picked.desk_id, picked.starts)
            ),
            None,
        )
        if chosen is None:
            messages.error(
                request, _("This time is not free or not offered: choose one of the times below.")
            )
            return redirect(here)
    return _render(
        request,
        site,
        "move.html",
        {
            "appointment": appointment,
            "secret": secret,
            "chosen": chosen,
            "chosen_value": slot_value(chosen.desk_id, chosen.starts) if chosen else "",
            "days": _days(site, free, lambda v: f"{here}?{urlencode({'slot': v}, safe=':')}"),
        },
    )
