"""Appointments: the slots the plan's appointment hours offer, booking one (by the visitor or for
them), cancelling and moving it, checking in on site with its code, and the desk taking it.

Walk-ins never lose by design: a slot exists only inside a planned session whose mode is
"appointments" (walk-in hours never become slots); only that session's desk ever takes the
appointment; and call next at that desk calls walk-ins whenever no checked-in appointment is due
(none booked, a no-show, one finished early). An appointment never enters the walk-in queue: its
visit is made when the desk takes it, already called (on site) or in interview (phone, video).

Races: two people taking the last slot, or one person booking twice, meet the database's partial
unique constraints (appointment_one_per_slot, appointment_one_per_contact); the loser gets a
clear refusal and nothing is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import emails, keys
from appointments.models import Appointment, booking_language
from citedesmetiers import languages, rows
from citedesmetiers.codes import new_code, normal_form
from citedesmetiers.live import publish_change
from citedesmetiers.models import Site, Theme, User
from reception.models import APPOINTMENT_CHANNELS, Call, Channel, Visit
from reception.services import next_ticket_number

from ..models import Interview, PlanMode, plan_between
from .sessions import CounsellingError, _holds_somebody, _locked_session, _now

# How far ahead a slot may be booked, and how soon before it starts (the desk must know).
BOOKING_HORIZON_DAYS = 28
BOOKING_LEAD = dt.timedelta(minutes=30)
# A checked-in visitor is called from this long before their time; a remote appointment can be
# started from then too.
DUE_EARLY = dt.timedelta(minutes=5)
PSEUDONYM_MAX = 40
Status = Appointment.Status


class AppointmentError(CounsellingError):
    """A refusal about an appointment, with a message for the visitor or the staff member."""


@dataclass(frozen=True)
class Slot:
    desk_id: int
    partner_id: int
    starts: dt.datetime  # aware, UTC
    ends: dt.datetime
    channels: tuple[str, ...]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- slots ----------------------------------------------------------------------------------------


def _offered(
    site: Site, theme: Theme, channel: str | None, now: dt.datetime, days: int
) -> list[Slot]:
    """Every slot the plan's appointment sessions serving `theme` (for `channel`, if given)
    offer from BOOKING_LEAD after `now` to `days` ahead, booked or not: each session cut into
    slots of the theme's appointment length (a remainder too short for one is left out)."""
    first = site.local_date(now)
    plan = plan_between(site, first, first + dt.timedelta(days=days))
    length = dt.timedelta(minutes=theme.appointment_minutes)
    offered = []
    for day in sorted(plan):
        for occurrence in plan[day]:
            if occurrence.mode != PlanMode.APPOINTMENTS or theme.pk not in occurrence.theme_ids:
                continue
            if channel is not None and channel not in occurrence.channels:
                continue
            start = occurrence.starts
            while start + length <= occurrence.ends:
                if start >= now + BOOKING_LEAD:
                    offered.append(
                        Slot(
                            desk_id=occurrence.desk_id,
                            partner_id=occurrence.partner_id,
                            starts=start,
                            ends=start + length,
                            channels=occurrence.channels,
                        )
                    )
                start += length
    return sorted(offered, key=lambda s: (s.starts, s.desk_id))


def channels_offered(site: Site, now: dt.datetime | None = None) -> list[str]:
    """The ways the plan's appointment hours of the coming BOOKING_HORIZON_DAYS are held at the
    site (video only where it has a room address), in the usual order; empty: no appointment."""
    first = site.local_date(_now(now))
    plan = plan_between(site, first, first + dt.timedelta(days=BOOKING_HORIZON_DAYS))
    held = {
        c
        for day in plan.values()
        for o in day
        if o.mode == PlanMode.APPOINTMENTS
        for c in o.channels
    }
    return [
        c
        for c in APPOINTMENT_CHANNELS
        if c in held and (c != Channel.VIDEO or site.video_room_template)
    ]


def _taken(site: Site, offered: list[Slot]) -> set[tuple[int, dt.datetime]]:
    if not offered:
        return set()
    return set(
        Appointment.objects.filter(
            site=site,
            status__in=[Status.BOOKED, Status.ATTENDED],
            starts__gte=offered[0].starts,
            starts__lte=offered[-1].starts,
        ).values_list("desk_id", "starts")
    )


def slots(
    site: Site,
    theme: Theme,
    *,
    channel: str | None = None,
    now: dt.datetime | None = None,
    days: int = BOOKING_HORIZON_DAYS,
) -> list[Slot]:
    """The free slots of `theme` (for `channel`, if given), soonest first, up to `days` ahead."""
    offered = _offered(site, theme, channel, _now(now), days)
    taken = _taken(site, offered)
    return [s for s in offered if (s.desk_id, s.starts) not in taken]


def _slot(site: Site, theme: Theme, channel: str, desk_id, starts, now) -> Slot:
    """The free slot the visitor chose, or a refusal saying why not."""
    if not isinstance(starts, dt.datetime) or timezone.is_naive(starts):
        raise AppointmentError(_("Choose one of the times offered."))
    if starts < now + BOOKING_LEAD:
        raise AppointmentError(_("This time has passed or is too close: choose a later one."))
    days = (site.local_date(starts) - site.local_date(now)).days
    if days > BOOKING_HORIZON_DAYS:
        raise AppointmentError(_("Choose one of the times offered."))
    chosen = [
        s
        for s in _offered(site, theme, channel, now, days)
        if s.starts == starts and str(s.desk_id) == str(desk_id)
    ]
    if not chosen:
        raise AppointmentError(_("Choose one of the times offered."))
    if _taken(site, chosen):
        raise _slot_taken()
    return chosen[0]


def _slot_taken() -> AppointmentError:
    return AppointmentError(_("This time has just been taken: choose another one."))


# --- who and how to reach them --------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")


def normal_phone(typed: str) -> str | None:
    """A phone number as it is kept and dialled: digits, with a leading + if it had one (its
    spaces, dots, dashes, slashes and brackets dropped); None if that is not a phone number."""
    number = _PHONE_SEPARATORS.sub("", typed or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if _PHONE.fullmatch(number) else None


def _contact(channel: str, phone: str, email: str, *, by_staff: bool) -> tuple[str, str]:
    phone, email = (phone or "").strip(), (email or "").strip()
    if phone and email:
        raise AppointmentError(_("Give one way to reach you: a phone number or an e-mail address."))
    if phone:
        number = normal_phone(phone)
        if number is None:
            raise AppointmentError(_("This is not a phone number."), field="phone")
        phone = number
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise AppointmentError(_("This is not an e-mail address."), field="email") from None
        email = email.lower()
    if channel == Channel.PHONE and not phone:
        raise AppointmentError(_("A phone appointment needs the number to call."), field="phone")
    if channel == Channel.VIDEO and not email:
        raise AppointmentError(
            _("A video appointment needs an e-mail address for the link."), field="email"
        )
    if not (phone or email) and not by_staff:
        raise AppointmentError(_("Give one way to reach you: a phone number or an e-mail address."))
    return phone, email


def _pseudonym(typed: str) -> str:
    pseudonym = " ".join((typed or "").split())
    if not pseudonym:
        raise AppointmentError(_("Give a first name or a pseudonym."), field="pseudonym")
    if len(pseudonym) > PSEUDONYM_MAX:
        raise AppointmentError(
            _("A first name or pseudonym of at most %(n)d characters, please.")
            % {"n": PSEUDONYM_MAX},
            field="pseudonym",
        )
    return pseudonym


# --- booking, cancelling, moving ------------------------------------------------------------------


def _theme(site: Site, theme_id) -> Theme:
    theme = Theme.objects.filter(pk=theme_id if str(theme_id).isdigit() else None).first()
    if theme is None or theme.site_id != site.pk or not theme.active:
        raise AppointmentError(_("This theme is not offered at this site."))
    return theme


def book(
    *,
    site: Site,
    theme_id,
    channel: str,
    desk_id,
    starts: dt.datetime,
    pseudonym: str,
    phone: str = "",
    email: str = "",
    by_staff: bool = False,
    language: str = "",
    now: dt.datetime | None = None,
) -> tuple[Appointment, str]:
    """Book a free slot. Returns the appointment and its manage secret (shown once, never kept:
    only its digest is). Refused, with nothing written: an unknown theme, channel or time, a
    slot taken meanwhile, a contact that already holds a booking for the theme, a language not
    offered.

    `language` is the visitor's, for their e-mails: reception gives it when booking for someone;
    empty, it is the language of the request that books (the visitor's own, on the public page)."""
    now = _now(now)
    theme = _theme(site, theme_id)
    if channel not in APPOINTMENT_CHANNELS:
        raise AppointmentError(_("Choose in person, by phone or by video."))
    if channel == Channel.VIDEO and not site.video_room_template:
        raise AppointmentError(_("This site has no video room: choose in person or by phone."))
    slot = _slot(site, theme, channel, desk_id, starts, now)
    pseudonym = _pseudonym(pseudonym)
    phone, email = _contact(channel, phone, email, by_staff=by_staff)
    if language and not languages.is_offered(language):
        raise AppointmentError(_("This language is not offered."))
    secret = secrets.token_urlsafe(24)
    appointment = Appointment(
        site=site,
        theme=theme,
        desk_id=slot.desk_id,
        partner_id=slot.partner_id,
        channel=channel,
        starts=slot.starts,
        ends=slot.ends,
        code=new_code(),
        manage_digest=_digest(secret),
        room=secrets.token_urlsafe(18) if channel == Channel.VIDEO else "",
        pseudonym=pseudonym,
        phone=phone,
        email=email,
        contact_digest=_digest(phone or email) if (phone or email) else "",
        booked_at=now,
        booked_by_staff=by_staff,
        language=language or booking_language(),
    )
    try:
        with transaction.atomic():
            appointment.save()
            emails.queue(appointment, emails.MailKind.CONFIRMATION)
            publish_change(site.slug)
    except IntegrityError:
        raise _why_not_saved(appointment) from None
    return appointment, secret


def _why_not_saved(appointment: Appointment) -> AppointmentError:
    if (
        appointment.contact_digest
        and Appointment.objects.filter(
            theme=appointment.theme, contact_digest=appointment.contact_digest, status=Status.BOOKED
        ).exists()
    ):
        return AppointmentError(
            _(
                "This contact already has an appointment for this theme: cancel or move it "
                "with the link you were given."
            )
        )
    return _slot_taken()


def by_secret(secret: str) -> Appointment | None:
    """The appointment a manage link names; None for anything else (a tampered link)."""
    if not secret or len(secret) > 100:
        return None
    return (
        Appointment.objects.select_related("site", "theme", "desk")
        .filter(keys.opened_by(_digest(secret)))  # the booking's link, or an e-mail's
        .first()
    )


def _locked(appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("site")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise AppointmentError(_("This appointment does not exist."))
    return appointment


def _expect_changeable(appointment: Appointment, now: dt.datetime) -> None:
    if appointment.status == Status.CANCELLED:
        raise AppointmentError(_("This appointment is already cancelled."))
    if appointment.status != Status.BOOKED or appointment.checked_in_at is not None:
        raise AppointmentError(_("This appointment has already taken place."))
    if appointment.starts <= now:
        raise AppointmentError(_("This appointment has started: it can no longer be changed."))


def cancel(*, appointment_id: int, now: dt.datetime | None = None) -> Appointment:
    """Cancel a booked appointment before its time (twice: refused, nothing changes)."""
    now = _now(now)
    with transaction.atomic():
        appointment = _locked(appointment_id)
        _expect_changeable(appointment, now)
        appointment.status, appointment.cancelled_at = Status.CANCELLED, now
        appointment.save(update_fields=["status", "cancelled_at"])
        emails.queue(appointment, emails.MailKind.CANCELLED)
        publish_change(appointment.site.slug)
    return appointment


def move(
    *, appointment_id: int, desk_id, starts: dt.datetime, now: dt.datetime | None = None
) -> Appointment:
    """Move a booked appointment to another free slot of its theme and channel."""
    now = _now(now)
    with transaction.atomic():
        appointment = _locked(appointment_id)
        _expect_changeable(appointment, now)
        slot = _slot(appointment.site, appointment.theme, appointment.channel, desk_id, starts, now)
        appointment.desk_id, appointment.partner_id = slot.desk_id, slot.partner_id
        appointment.starts, appointment.ends = slot.starts, slot.ends
        appointment.reminded_at = None  # the reminder is for the new day
        try:
            with transaction.atomic():
                appointment.save(update_fields=["desk", "partner", "starts", "ends", "reminded_at"])
        except IntegrityError:
            raise AppointmentError(
                _("This time has just been taken: choose another one.")
            ) from None
        emails.queue(appointment, emails.MailKind.MOVED)
        publish_change(appointment.site.slug)
    return appointment


def without_planned_desk(site: Site, now: dt.datetime | None = None) -> list[Appointment]:
    """Booked appointments still to come that no appointments session of the plan holds any more
    (the plan was changed after they were booked). They stay booked: the manager is told, to
    plan their desk back or to let the visitor know."""
    now = _now(now)
    booked = list(
        Appointment.objects.filter(site=site, status=Status.BOOKED, ends__gt=now)
        .select_related("theme", "desk")
        .order_by("starts", "pk")
    )
    if not booked:
        return []
    plan = plan_between(site, site.local_date(booked[0].starts), site.local_date(booked[-1].starts))

    def held(appointment: Appointment) -> bool:
        return any(
            o.mode == PlanMode.APPOINTMENTS
            and o.desk_id == appointment.desk_id
            and o.starts <= appointment.starts
            and appointment.ends <= o.ends
            for o in plan[site.local_date(appointment.starts)]
        )

    return [a for a in booked if not held(a)]


# --- on the day -----------------------------------------------------------------------------------


def late_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings.APPOINTMENT_LATE_MINUTES)


def check_in(*, site: Site, code: str, now: dt.datetime | None = None) -> Appointment:
    """An on-site visitor arrives with their booking code: they get a ticket number and wait for
    their time at the appointment's desk, outside the walk-in queue. The same code twice returns
    the same check-in. More than APPOINTMENT_LATE_MINUTES late: refused, and reception checks
    them in as a walk-in (a fresh arrival, never ahead of those waiting)."""
    now = _now(now)
    code = normal_form(code)
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .select_related("theme")
            .filter(site=site, code=code)
            .first()
            if code
            else None
        )
        if appointment is None or appointment.status == Status.CANCELLED:
            raise AppointmentError(_("No appointment has this code here."))
        if appointment.channel != Channel.IN_PERSON:
            raise AppointmentError(
                _("This appointment is by phone or video: the counsellor will call at its time.")
            )
        if appointment.checked_in_at is not None:
            return appointment
        if appointment.status != Status.BOOKED:
            raise AppointmentError(_("This appointment has already taken place."))
        if site.local_date(appointment.starts) != site.local_date(now):
            raise AppointmentError(
                _("This appointment is on another day: %(day)s.")
                % {"day": timezone.localtime(appointment.starts, site.zone).strftime("%d/%m/%Y")}
            )
        if now > appointment.starts + late_after():
            raise AppointmentError(
                _(
                    "More than %(n)d minutes late for this appointment: check the visitor in "
                    "as a walk-in, from now."
                )
                % {"n": settings.APPOINTMENT_LATE_MINUTES}
            )
        appointment.checked_in_at = now
        appointment.ticket_number = next_ticket_number(
            site=site, local_date=site.local_date(now), letter=appointment.theme.letter
        )
        appointment.save(update_fields=["checked_in_at", "ticket_number"])
        publish_change(site.slug)
    return appointment


def _visit_of(appointment: Appointment, desk, now: dt.datetime, status: str) -> Visit:
    """The visit a desk makes of an appointment it takes, already called or in interview."""
    site = appointment.site
    arrived = appointment.checked_in_at or now
    number = appointment.ticket_number or next_ticket_number(
        site=site, local_date=site.local_date(now), letter=appointment.theme.letter
    )
    visit = Visit.objects.create(
        site=site,
        theme=appointment.theme,
        first_theme=appointment.theme,
        local_date=site.local_date(arrived),
        letter=appointment.theme.letter,
        number=number,
        channel=appointment.channel,
        language=appointment.language,  # the visitor's, as they booked
        by_appointment=True,
        status=status,
        desk=desk,
        arrived_at=arrived,
        queued_at=arrived,
        called_at=now,
        started_at=now if status == Visit.Status.IN_INTERVIEW else None,
    )
    appointment.visit, appointment.status = visit, Status.ATTENDED
    appointment.save(update_fields=["visit", "status"])
    return visit


def call_due_appointment(session, now: dt.datetime) -> Visit | None:
    """Within call next (the session locked, the desk free): call the desk's earliest checked-in
    on-site appointment due now (from DUE_EARLY before its time), locked as it is read, if any.
    None: the desk calls walk-ins."""
    # Most desks have none due, at most calls: that is asked in SQL (`rows`), the ORM reads the
    # one found.
    found = rows.fetch_values(
        f"SELECT a.id FROM {rows.table(Appointment)} a WHERE a.desk_id = %s "  # noqa: S608
        "AND a.status = %s AND a.channel = %s AND a.checked_in_at IS NOT NULL "
        "AND a.visit_id IS NULL AND a.starts <= %s ORDER BY a.starts, a.id LIMIT 1"
        + rows.for_update(of="a"),
        [
            session.desk_id,
            Status.BOOKED,
            Channel.IN_PERSON,
            connection.ops.adapt_datetimefield_value(now + DUE_EARLY),
        ],
    )
    if not found:
        return None
    appointment = Appointment.objects.select_related("theme").get(pk=found[0])
    visit = _visit_of(appointment, session.desk, now, Visit.Status.CALLED)
    Call.objects.create(site_id=visit.site_id, visit=visit, desk=session.desk, at=now)
    publish_change(session.desk.site.slug)
    return visit


def remote_due(desk_id: int, now: dt.datetime):
    """The desk's phone and video appointments that can be started now: from DUE_EARLY before
    their time until their end."""
    return (
        Appointment.objects.filter(
            desk_id=desk_id,
            status=Status.BOOKED,
            channel__in=[Channel.PHONE, Channel.VIDEO],
            starts__lte=now + DUE_EARLY,
            ends__gt=now,
        )
        .select_related("site", "theme")
        .order_by("starts", "pk")
    )


@transaction.atomic
def start_remote(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    appointment_id: int,
    now: dt.datetime | None = None,
) -> Interview:
    """The counsellor starts a phone or video appointment of their desk, during its slot: the
    interview begins, finished later like any other."""
    now = _now(now)
    session = _locked_session(session_id, counsellor, site_id=site_id)
    if _holds_somebody(session):
        raise AppointmentError(_("You already have a visitor. Finish with them first."))
    appointment = (
        remote_due(session.desk_id, now)
        .select_for_update(of=("self",))
        .filter(pk=appointment_id if str(appointment_id).isdigit() else None)
        .first()
    )
    if appointment is None:
        raise AppointmentError(_("This appointment is not one of your desk's now."))
    visit = _visit_of(appointment, session.desk, now, Visit.Status.IN_INTERVIEW)
    interview = Interview.objects.create(
        visit=visit,
        session=session,
        desk=session.desk,
        counsellor=counsellor,
        partner=session.partner,
        theme=visit.theme,
        channel=visit.channel,
        by_appointment=True,
        called_at=now,
        started_at=now,
    )
    publish_change(session.desk.site.slug)
    return interview
