"""The presence plan: which partner staffs which desk, for which themes, when — weekly ranges
(`PlannedSession`) and exceptions by date (`PlanException`) — its writes and what it says about a
given day.

Every write is keyword-only, runs in one transaction and first locks the site's row: two managers
planning at once are serialised, so the conflict check (a desk or a counsellor planned twice at
once) always sees what the other one saved. Times are wall-clock times in the site's zone; a
14:00 session is at 14:00 local on both sides of a change of summer time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from citedesmetiers.models import Partner, Site, Theme, User

from .models import (  # noqa: F401 — the plan's reads, re-exported for its callers
    APPOINTMENT_CHANNELS,
    Desk,
    Occurrence,
    PlanException,
    PlanMode,
    PlannedSession,
    next_served,
    next_served_by_theme,
    plan_between,
    sessions_on,
)
from .services import CounsellingError

Kind = PlanException.Kind


class PlanError(CounsellingError):
    """A change of the plan refused, with a message for the manager; nothing was changed."""


# --- Checks ---------------------------------------------------------------------------------


def _lock_site(site_id: int) -> Site:
    return Site.objects.select_for_update().get(pk=site_id)


def _desk(site: Site, desk_id) -> Desk:
    desk = Desk.objects.filter(pk=desk_id).first() if desk_id is not None else None
    if desk is None:
        raise PlanError(_("This desk does not exist."))
    if desk.site_id != site.pk:
        raise PlanError(_("%(desk)s is a desk of another site.") % {"desk": desk.name})
    if not desk.active:
        raise PlanError(_("%(desk)s is not in use.") % {"desk": desk.name})
    return desk


def _partner(partner_id) -> Partner:
    partner = Partner.objects.filter(pk=partner_id).first() if partner_id is not None else None
    if partner is None:
        raise PlanError(_("This partner does not exist."))
    return partner


def _counsellor(counsellor_id) -> User | None:
    if counsellor_id is None:
        return None
    counsellor = User.objects.filter(pk=counsellor_id).first()
    if counsellor is None:
        raise PlanError(_("This counsellor does not exist."))
    return counsellor


def _themes(site: Site, theme_ids: Iterable) -> list[Theme]:
    wanted = set(theme_ids)
    if not wanted:
        raise PlanError(_("Choose at least one theme."))
    themes = list(Theme.objects.filter(pk__in=wanted, site=site))
    if len(themes) != len(wanted):
        raise PlanError(_("One of these themes is not a theme of this site."))
    return themes


def _mode(mode: str) -> str:
    if mode not in PlanMode.values:
        raise PlanError(_("Choose walk-in or appointments."))
    return mode


def _channels(mode: str, channels: Iterable[str]) -> list[str]:
    """Appointments say how they are held (at least one of in person, phone, video); walk-in
    hours have no channel."""
    if mode != PlanMode.APPOINTMENTS:
        return []
    wanted = set(channels)
    if not wanted:
        raise PlanError(_("Say how the appointments are held: in person, phone or video."))
    if not wanted <= set(APPOINTMENT_CHANNELS):
        raise PlanError(_("Appointments are held in person, by phone or by video."))
    return [c for c in APPOINTMENT_CHANNELS if c in wanted]


def _times(starts: dt.time | None, ends: dt.time | None) -> None:
    if starts is None or ends is None:
        raise PlanError(_("Give the start and the end."))
    if ends <= starts:
        raise PlanError(_("The end must come after the start."))


def _span(valid_from: dt.date | None, valid_until: dt.date | None) -> None:
    if valid_from is None:
        raise PlanError(_("Give the first day."))
    if valid_until is not None and valid_until < valid_from:
        raise PlanError(_("The last day cannot come before the first."))


def _overlapping(starts: dt.time, ends: dt.time) -> Q:
    """Ranges sharing some time with [starts, ends): 10–12 and 12–14 do not."""
    return Q(starts__lt=ends, ends__gt=starts)


def _refuse_conflict(found, *, desk: Desk, counsellor: User | None, when: str) -> None:
    for other in found:
        times = {"when": when, "starts": f"{other.starts:%H:%M}", "ends": f"{other.ends:%H:%M}"}
        if other.desk_id == desk.pk:
            raise PlanError(
                _("%(desk)s is already planned then: %(when)s, %(starts)s–%(ends)s.")
                % {"desk": desk.name, **times}
            )
        if counsellor is not None and other.counsellor_id == counsellor.pk:
            raise PlanError(
                _("This counsellor is already planned then: %(when)s, %(starts)s–%(ends)s.") % times
            )


def _same_desk_or_counsellor(desk: Desk, counsellor: User | None) -> Q:
    same = Q(desk=desk)
    if counsellor is not None:
        same |= Q(counsellor=counsellor)
    return same


def _check_weekly(
    site: Site,
    *,
    desk: Desk,
    counsellor: User | None,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    valid_from: dt.date,
    valid_until: dt.date | None,
    exclude: int | None = None,
) -> None:
    """Refuse a weekly range clashing with another one, or with an extra session on one of its
    days."""
    weekly = PlannedSession.objects.filter(
        _overlapping(starts, ends),
        _same_desk_or_counsellor(desk, counsellor),
        Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from),
        site=site,
        weekday=weekday,
    ).exclude(pk=exclude)
    if valid_until is not None:
        weekly = weekly.filter(valid_from__lte=valid_until)
    _refuse_conflict(weekly, desk=desk, counsellor=counsellor, when=str(WEEKDAYS[weekday]))
    extras = PlanException.objects.filter(
        _overlapping(starts, ends),
        _same_desk_or_counsellor(desk, counsellor),
        site=site,
        kind=Kind.EXTRA_SESSION,
        day__gte=valid_from,
        day__iso_week_day=weekday + 1,
    )
    if valid_until is not None:
        extras = extras.filter(day__lte=valid_until)
    for extra in extras.order_by("day"):
        _refuse_conflict([extra], desk=desk, counsellor=counsellor, when=date_format(extra.day))


def _check_extra(
    site: Site, *, desk: Desk, counsellor: User | None, day: dt.date, starts, ends
) -> None:
    """Refuse an extra session clashing with the weekly plan of that day or another extra."""
    same = _same_desk_or_counsellor(desk, counsellor)
    weekly = PlannedSession.objects.filter(
        _overlapping(starts, ends),
        same,
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        site=site,
        weekday=day.weekday(),
        valid_from__lte=day,
    )
    when = date_format(day)
    _refuse_conflict(weekly, desk=desk, counsellor=counsellor, when=when)
    extras = PlanException.objects.filter(
        _overlapping(starts, ends), same, site=site, kind=Kind.EXTRA_SESSION, day=day
    )
    _refuse_conflict(extras, desk=desk, counsellor=counsellor, when=when)


# --- Writes ---------------------------------------------------------------------------------


def _weekday(weekday) -> int:
    if weekday not in range(7):
        raise PlanError(_("Choose a day of the week."))
    return weekday


@transaction.atomic
def plan_session(
    *,
    site: Site,
    desk_id: int,
    partner_id: int,
    theme_ids: Iterable[int],
    mode: str,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    counsellor_id: int | None = None,
    channels: Iterable[str] = (),
) -> PlannedSession:
    """Add a weekly range to the plan of `site`."""
    site = _lock_site(site.pk)
    return _save_session(
        PlannedSession(site=site),
        desk_id=desk_id,
        partner_id=partner_id,
        theme_ids=theme_ids,
        mode=mode,
        weekday=weekday,
        starts=starts,
        ends=ends,
        valid_from=valid_from,
        valid_until=valid_until,
        counsellor_id=counsellor_id,
        channels=channels,
    )


@transaction.atomic
def change_session(*, session_id: int, **fields) -> PlannedSession:
    """Change every field of a weekly range (the same keywords as `plan_session`, but `site`)."""
    session = _session(session_id)
    _lock_site(session.site_id)
    session = PlannedSession.objects.select_related("site").get(pk=session.pk)
    return _save_session(session, **fields)


def _session(session_id) -> PlannedSession:
    session = PlannedSession.objects.filter(pk=session_id).first()
    if session is None:
        raise PlanError(_("This planned session does not exist."))
    return session


def _save_session(
    session: PlannedSession,
    *,
    desk_id,
    partner_id,
    theme_ids,
    mode,
    weekday,
    starts,
    ends,
    valid_from,
    valid_until=None,
    counsellor_id=None,
    channels=(),
) -> PlannedSession:
    site = session.site
    desk = _desk(site, desk_id)
    partner = _partner(partner_id)
    themes = _themes(site, theme_ids)
    counsellor = _counsellor(counsellor_id)
    _times(starts, ends)
    _span(valid_from, valid_until)
    weekday = _weekday(weekday)
    _check_weekly(
        site,
        desk=desk,
        counsellor=counsellor,
        weekday=weekday,
        starts=starts,
        ends=ends,
        valid_from=valid_from,
        valid_until=valid_until,
        exclude=session.pk,
    )
    session.desk, session.partner, session.counsellor = desk, partner, counsellor
    session.mode = _mode(mode)
    session.channels = _channels(session.mode, channels)
    session.weekday, session.starts, session.ends = weekday, starts, ends
    session.valid_from, session.valid_until = valid_from, valid_until
    session.save()
    session.themes.set(themes)
    return session


@transaction.atomic
def end_session(*, session_id: int, last_day: dt.date) -> PlannedSession:
    """Stop a weekly range after `last_day`; its past stays in the plan."""
    session = _session(session_id)
    _lock_site(session.site_id)
    session = PlannedSession.objects.get(pk=session.pk)
    if last_day < session.valid_from:
        raise PlanError(_("The last day cannot come before the first."))
    if session.valid_until is not None and last_day > session.valid_until:
        raise PlanError(
            _("This session already ends on %(day)s.") % {"day": date_format(session.valid_until)}
        )
    session.valid_until = last_day
    session.save(update_fields=["valid_until"])
    return session


@transaction.atomic
def add_exception(
    *,
    site: Site,
    day: dt.date,
    kind: str,
    label: str = "",
    partner_id: int | None = None,
    desk_id: int | None = None,
    theme_ids: Iterable[int] = (),
    mode: str = "",
    counsellor_id: int | None = None,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    channels: Iterable[str] = (),
) -> PlanException:
    """Add an exception to the plan of `site` on `day`."""
    site = _lock_site(site.pk)
    if kind not in Kind.values:
        raise PlanError(_("Choose what happens that day."))
    if day is None:
        raise PlanError(_("Give the day."))
    exception = PlanException(site=site, day=day, kind=kind, label=label.strip()[:80])
    themes: list[Theme] = []
    if kind == Kind.PARTNER_ABSENT:
        if partner_id is None:
            raise PlanError(_("Choose the partner who is absent."))
        exception.partner = _partner(partner_id)
    elif kind == Kind.EXTRA_SESSION:
        exception.desk = _desk(site, desk_id)
        exception.partner = _partner(partner_id)
        themes = _themes(site, theme_ids)
        exception.mode = _mode(mode)
        exception.channels = _channels(exception.mode, channels)
        exception.counsellor = _counsellor(counsellor_id)
        _times(starts, ends)
        exception.starts, exception.ends = starts, ends
        _check_extra(
            site,
            desk=exception.desk,
            counsellor=exception.counsellor,
            day=day,
            starts=starts,
            ends=ends,
        )
    if (
        kind != Kind.EXTRA_SESSION
        and PlanException.objects.filter(
            site=site, day=day, kind=kind, partner=exception.partner
        ).exists()
    ):
        raise PlanError(_("This day already has this exception."))
    exception.save()
    if themes:
        exception.themes.set(themes)
    return exception


@transaction.atomic
def remove_exception(*, exception_id: int) -> None:
    exception = PlanException.objects.filter(pk=exception_id).first()
    if exception is None:
        raise PlanError(_("This exception does not exist."))
    _lock_site(exception.site_id)
    PlanException.objects.filter(pk=exception.pk).delete()
