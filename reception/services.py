"""Every write of reception: check in, let late arrivals check in after hours, change a ticket's
theme, mark it left (and undo that), close the day.

Each is keyword-only, runs in one transaction, and publishes the change to the site's live screens
after commit."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers import directory, languages
from citedesmetiers.live import publish_change
from citedesmetiers.models import Site, Theme
from citedesmetiers.refusals import Refusal

from .models import (
    UNDO_WINDOW,
    AgeBracket,
    Area,
    Channel,
    LateCheckInDay,
    Situation,
    TicketCounter,
    Visit,
)
from .queues import check_in_cut_offs, shown_wait


class ReceptionError(Refusal):
    """A refusal to show to the person at the screen, as it is."""


class OutOfHours(ReceptionError):
    """Refused for the hour only: reception may check the visitor in anyway (`override_hours`)."""


class SiteClosed(OutOfHours):
    pass


class CheckInsOver(OutOfHours):
    """The theme's last check-in time of today has passed (its last planned desk ends soon)."""


def next_ticket_number(*, site: Site, local_date: dt.date, letter: str) -> int:
    """The next ticket number of the site, day and letter, in one statement: insert the day's
    counter or increment it. The row stays locked until this check-in commits, so a second
    tablet waits here: numbers never repeat nor skip."""
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (site_id, local_date, letter, last_number) "
            "VALUES (%s, %s, %s, 1) ON CONFLICT (site_id, local_date, letter) "
            f"DO UPDATE SET last_number = {table}.last_number + 1 RETURNING last_number",
            [site.pk, local_date, letter],
        )
        return cursor.fetchone()[0]


def check_in(
    *,
    site: Site,
    theme_id: int | str,
    checkin_key: uuid.UUID | None = None,
    channel: str = Channel.IN_PERSON,
    age_bracket: str = AgeBracket.UNDISCLOSED,
    situation: str = Situation.UNDISCLOSED,
    area: str = Area.UNDISCLOSED,
    language: str = "",
    override_hours: bool = False,
    now: dt.datetime | None = None,
) -> tuple[Visit, bool]:
    """Give a walk-in a ticket. Returns the visit and whether it is new: the same `checkin_key`
    (a double tap, a resubmitted form) returns the visit already made.

    While the site is closed, only a day of late check-ins lets the visit in; `override_hours`
    (reception's “check in anyway”) turns that day on first, for every tablet of the site. While
    it is open, a theme whose last check-in time of today has passed is refused the same way,
    and `override_hours` lets that one visitor in.

    `language` is the visitor's, for this visit only (one of `LANGUAGES`; empty: the site's).

    The common case costs no read for that: the key is unique per site, so a repeat fails on
    insert (rolling back its ticket number) and the visit already made is fetched then."""
    now = now or timezone.now()
    try:
        theme = _theme_to_check_in(
            site=site, theme_id=theme_id, answers=(channel, age_bracket, situation, area)
        )
        _expect_known_language(language)
        # After the request is known to be acceptable, so a refused one never turns it on.
        _expect_open_or_late_check_ins(site=site, override_hours=override_hours, now=now)
        if not override_hours:
            _expect_check_ins_for(site=site, theme=theme, now=now)
    except ReceptionError:
        # Refused now, but perhaps a resubmission of a check-in that went through before.
        existing = _checked_in_with(site, checkin_key)
        if existing is None:
            raise
        return existing, False

    local_date = site.local_date(now)
    quote = shown_wait(site, theme.pk, now)
    visit = Visit(
        site=site,
        theme=theme,
        first_theme=theme,
        local_date=local_date,
        letter=theme.letter,
        checkin_key=checkin_key,
        channel=channel,
        arrived_at=now,
        queued_at=now,
        age_bracket=age_bracket,
        situation=situation,
        area=area,
        language=language,
        quoted_wait=quote.minutes if quote else None,
        quoted_at=now if quote else None,
    )
    try:
        with transaction.atomic():
            # From here to the commit the day's counter row is locked: every other tablet of
            # the site waits, so only the number and one plain INSERT happen in between
            # (bulk_create skips save()'s bookkeeping; no signal listens to visits).
            visit.number = next_ticket_number(site=site, local_date=local_date, letter=theme.letter)
            Visit.objects.bulk_create([visit])
            publish_change(site.slug)
    except IntegrityError:
        # The same check-in committed before or in parallel (two taps racing): return that one.
        existing = _checked_in_with(site, checkin_key)
        if existing is None:
            raise
        return existing, False
    return visit, True


def _checked_in_with(site: Site, checkin_key: uuid.UUID | None) -> Visit | None:
    if checkin_key is None:
        return None
    return Visit.objects.filter(site=site, checkin_key=checkin_key).first()


def _theme_to_check_in(*, site: Site, theme_id: int | str, answers: tuple[str, ...]) -> Theme:
    """The theme to check in to, once the theme and the answers are known to be acceptable."""
    theme = next((t for t in directory.themes(site) if str(t.pk) == str(theme_id)), None)
    if theme is None:
        raise ReceptionError(_("This theme does not exist at this site."))
    if not theme.active:
        raise ReceptionError(
            _("The theme “%(theme)s” is not offered at the moment.") % {"theme": theme.name}
        )
    for value, choices in zip(answers, (Channel, AgeBracket, Situation, Area), strict=True):
        if value not in choices.values:
            raise ReceptionError(_("One of the answers is not a valid choice."))
    return theme


def _expect_known_language(language: str) -> None:
    if language and not languages.is_offered(language):
        raise ReceptionError(_("This language is not offered."))


def _expect_open_or_late_check_ins(*, site: Site, override_hours: bool, now) -> None:
    if site.is_open(now) or late_check_ins(site, now) is not None:
        return  # once on, "check in anyway" costs one read, not a write per visitor
    if not override_hours:
        raise SiteClosed(_("%(site)s is closed now.") % {"site": site.name})
    allow_late_check_ins(site=site, now=now)


def _expect_check_ins_for(*, site: Site, theme: Theme, now: dt.datetime) -> None:
    cut_off = check_in_cut_offs(site, [theme], now).get(theme.pk)
    if cut_off is None or not cut_off.passed or not site.is_open(now):
        return  # after hours, the late check-ins of the day decide (see above)
    raise CheckInsOver(
        _("Check-ins for “%(theme)s” closed at %(time)s: its last desk of the day ends at %(end)s.")
        % {
            "theme": theme.name,
            "time": timezone.localtime(cut_off.at, site.zone).strftime("%H:%M"),
            "end": timezone.localtime(cut_off.last_desk_ends, site.zone).strftime("%H:%M"),
        }
    )


# --- late arrivals after hours --------------------------------------------------------------------


def late_check_ins(site: Site, now: dt.datetime | None = None) -> LateCheckInDay | None:
    """Today's late check-ins at the site, if reception turned them on."""
    now = now or timezone.now()
    return LateCheckInDay.objects.filter(site=site, local_date=site.local_date(now)).first()


def allow_late_check_ins(*, site: Site, now: dt.datetime | None = None) -> LateCheckInDay:
    """Let late arrivals check in after hours for the rest of the site's local day. Turning it on
    twice (two tablets at once) keeps the first; earlier days' rows are of no use any more."""
    now = now or timezone.now()
    if site.is_open(now):  # the switch is for after hours: on now, it would be on unseen tonight
        raise ReceptionError(_("The site is open: everyone checks in as usual."))
    today = site.local_date(now)
    with transaction.atomic():
        LateCheckInDay.objects.filter(site=site, local_date__lt=today).delete()
        day, _created = LateCheckInDay.objects.get_or_create(
            site=site, local_date=today, defaults={"since": now}
        )
    return day


def stop_late_check_ins(*, site: Site, now: dt.datetime | None = None) -> bool:
    """Turn today's late check-ins off again. Returns whether they were on."""
    now = now or timezone.now()
    deleted, _rows = LateCheckInDay.objects.filter(
        site=site, local_date=site.local_date(now)
    ).delete()
    return bool(deleted)


def _locked_visit(*, site: Site, visit_id) -> Visit:
    visit = Visit.objects.select_for_update().filter(site=site, pk=visit_id).first()
    if visit is None:
        raise ReceptionError(_("This ticket does not exist."))
    return visit


@transaction.atomic
def change_theme(*, site: Site, visit_id: int, theme_id: int | str) -> Visit:
    """Move a waiting ticket to another theme's queue. It keeps its code and its place in time."""
    visit = _locked_visit(site=site, visit_id=visit_id)
    if visit.status != Visit.Status.WAITING:
        raise ReceptionError(
            _("Ticket %(code)s is no longer waiting; it was not changed.") % {"code": visit.code}
        )
    theme = (
        Theme.objects.filter(site=site, pk=theme_id, active=True).first()
        if str(theme_id).isdecimal()
        else None
    )
    if theme is None:
        raise ReceptionError(_("Choose one of the themes offered now."))
    if theme.pk != visit.theme_id:
        visit.theme = theme
        visit.referred_by = None  # reception chose anew: any desk of that theme may call them
        visit.save(update_fields=["theme", "referred_by"])
        publish_change(site.slug)
    return visit


@transaction.atomic
def mark_left(
    *,
    site: Site,
    visit_id: int,
    how: str = Visit.LeftHow.WALKED_OUT,
    now: dt.datetime | None = None,
) -> Visit:
    visit = _locked_visit(site=site, visit_id=visit_id)
    if visit.status != Visit.Status.WAITING:
        raise ReceptionError(
            _("Ticket %(code)s is not waiting any more; nothing was changed.")
            % {"code": visit.code}
        )
    visit.save(update_fields=visit.leave(how, now or timezone.now()))
    publish_change(site.slug)
    return visit


@transaction.atomic
def undo_left(*, site: Site, visit_id: int, now: dt.datetime | None = None) -> Visit:
    """Reception marked a ticket “Left” by mistake: within 10 minutes it goes back to its queue,
    at its place (its arrival in the queue is unchanged). The row lock makes two tablets undoing
    at once (or undoing while another marks it again) take turns: the second sees the new state
    and is refused."""
    now = now or timezone.now()
    visit = _locked_visit(site=site, visit_id=visit_id)
    if visit.status == Visit.Status.WAITING:
        raise ReceptionError(
            _("Ticket %(code)s is already back in the queue; nothing was changed.")
            % {"code": visit.code}
        )
    if visit.status in (Visit.Status.CALLED, Visit.Status.IN_INTERVIEW):
        raise ReceptionError(
            _("Ticket %(code)s has been called by a desk since; nothing was changed.")
            % {"code": visit.code}
        )
    if visit.status != Visit.Status.LEFT or visit.left_how != Visit.LeftHow.WALKED_OUT:
        raise ReceptionError(
            _("Ticket %(code)s was not marked “Left” at reception; nothing was changed.")
            % {"code": visit.code}
        )
    if now - visit.ended_at > UNDO_WINDOW:
        raise ReceptionError(
            _(
                "Ticket %(code)s left more than 10 minutes ago; nothing was changed: "
                "check the visitor in again."
            )
            % {"code": visit.code}
        )
    visit.save(update_fields=visit.come_back())
    publish_change(site.slug)
    return visit


def leave_queue(*, token: str) -> Visit:
    """The visitor leaves the queue from their phone."""
    with transaction.atomic():
        visit = Visit.objects.select_for_update().filter(token=token).first()
        if visit is None:
            raise ReceptionError(_("This ticket does not exist."))
        return mark_left(site=visit.site, visit_id=visit.pk, how=Visit.LeftHow.BY_THEMSELVES)


@transaction.atomic
def close_day(*, site: Site, now: dt.datetime | None = None) -> int:
    """Mark the visits still waiting or called after closing as “left at closing”. Running it twice
    changes nothing the second time. Returns how many visits it closed.

    Visits of earlier days are always closed. Today's are closed once the last opening period
    is over, except late arrivals checked in after it (reception's override): those wait for
    the counsellors still there, and are closed on the next run of the next day."""
    now = now or timezone.now()
    today = site.local_date(now)
    closing = site.last_closing(now)
    stale = Visit.objects.filter(site=site)
    if closing is not None and now >= closing:
        stale = stale.filter(Q(local_date__lt=today) | Q(queued_at__lt=closing))
    else:
        stale = stale.filter(local_date__lt=today)
    closed = stale.leave_at_closing(now)
    if closed:
        publish_change(site.slug)
    return closed
