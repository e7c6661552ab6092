"""A counsellor's own plan — every session the presence plan gives them by name, exceptions
applied — and its private calendar address (`/desk/plan/feed/<secret>.ics`).

Calendar apps cannot log in, so the address is the key: a secret of 32 random bytes, in no way
derived from the counsellor. Only its SHA-256 is stored (`PlanFeed.digest`) and looked up; an
attacker timing the lookup learns about a hash, never about a secret. Replacing the address
draws a new secret (the old one stops working at once); turning it off deletes it.

The feed holds the plan only — times, desks, themes, modes, the site — and never anything about
a visitor: the plan has no visitor in it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers import ics
from citedesmetiers.access import staff_sites
from citedesmetiers.models import Site, Theme, User
from citedesmetiers.roles import Role
from reception.models import Channel

from .models import (
    Desk,
    Occurrence,
    PlanException,
    PlanFeed,
    PlanMode,
    PlannedSession,
    plan_between,
)
from .services import CounsellingError

PAGE_DAYS = 28  # the page: the next four weeks
FEED_DAYS = 56  # the calendar: the next eight weeks
SECRET_BYTES = 32
# What token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class PlanFeedError(CounsellingError):
    """A change of the calendar address refused, with a message; nothing was changed."""


# --- The plan of one counsellor ----------------------------------------------------------------


@dataclass(frozen=True)
class MySession:
    """One session planned for the counsellor on one local day, with what the page and the
    calendar show of it."""

    site: Site
    day: dt.date
    occurrence: Occurrence
    desk: str
    themes: tuple[Theme, ...]
    uid: str

    @property
    def starts(self) -> dt.datetime:
        return self.occurrence.starts

    @property
    def ends(self) -> dt.datetime:
        return self.occurrence.ends

    @property
    def mode(self) -> str:
        return str(PlanMode(self.occurrence.mode).label)

    @property
    def channels(self) -> list[str]:
        return [str(Channel(channel).label) for channel in self.occurrence.channels]

    @property
    def walk_in(self) -> bool:
        return self.occurrence.walk_in


def _utc(site: Site, day: dt.date, time: dt.time) -> dt.datetime:
    # As `counselling.models._occurrence` places a wall-clock time on a day.
    return dt.datetime.combine(day, time, tzinfo=site.zone).astimezone(dt.UTC)


def plan_of(counsellor: User, site: Site, first: dt.date, days: int) -> list[MySession]:
    """Every session planned for `counsellor` by name at `site` on the `days` local days from
    `first`, exceptions applied (`plan_between`), by start."""
    last = first + dt.timedelta(days=days - 1)
    found = [
        (day, occurrence)
        for day, occurrences in sorted(plan_between(site, first, last).items())
        for occurrence in occurrences
        if occurrence.counsellor_id == counsellor.pk
    ]
    if not found:
        return []
    # What the sessions come from, to name each one for the calendar (see `_uid`).
    weekly = list(
        PlannedSession.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=first),
            site=site,
            counsellor=counsellor,
            valid_from__lte=last,
        ).only("pk", "desk_id", "weekday", "starts", "ends", "valid_from", "valid_until")
    )
    extras = list(
        PlanException.objects.filter(
            site=site,
            counsellor=counsellor,
            kind=PlanException.Kind.EXTRA_SESSION,
            day__range=(first, last),
        ).only("pk", "day", "desk_id", "starts", "ends")
    )
    desks = dict(
        Desk.objects.filter(pk__in={o.desk_id for _day, o in found}).values_list("pk", "name")
    )
    themes = {
        t.pk: t
        for t in Theme.objects.filter(pk__in={pk for _day, o in found for pk in o.theme_ids})
    }
    return [
        MySession(
            site=site,
            day=day,
            occurrence=occurrence,
            desk=desks.get(occurrence.desk_id, ""),
            themes=tuple(
                sorted(
                    (themes[pk] for pk in occurrence.theme_ids if pk in themes),
                    key=lambda t: (t.order, t.pk),
                )
            ),
            uid=_uid(site, day, occurrence, weekly, extras),
        )
        for day, occurrence in found
    ]


def _uid(site: Site, day: dt.date, occurrence: Occurrence, weekly, extras) -> str:
    """The calendar's name for this session on this day, the same at every reading: the weekly
    range it comes from and the date, or the extra session. A desk is never planned twice at
    once, so its desk and times on that day tell which one it is."""

    def same(row) -> bool:
        return (
            row.desk_id == occurrence.desk_id
            and _utc(site, day, row.starts) == occurrence.starts
            and _utc(site, day, row.ends) == occurrence.ends
        )

    for row in weekly:
        holds = row.valid_from <= day and (row.valid_until is None or row.valid_until >= day)
        if holds and row.weekday == day.weekday() and same(row):
            return f"plan-{row.pk}-{day:%Y%m%d}@citedesmetiers"
    for row in extras:
        if row.day == day and same(row):
            return f"plan-extra-{row.pk}@citedesmetiers"
    # Changed between the two reads: a name from what it is, still the same next time.
    return f"plan-desk-{occurrence.desk_id}-{occurrence.starts:%Y%m%dT%H%M}Z@citedesmetiers"


def by_day(sessions: Iterable[MySession]) -> list[tuple[dt.date, list[MySession]]]:
    days: dict[dt.date, list[MySession]] = {}
    for session in sessions:
        days.setdefault(session.day, []).append(session)
    return list(days.items())


# --- The calendar ------------------------------------------------------------------------------


def feed_sites(counsellor: User) -> list[Site]:
    """Where the calendar shows the plan: every site in use where they are a counsellor."""
    if not counsellor.is_active:
        return []
    return staff_sites(counsellor, Role.COUNSELLOR)


def feed_bytes(counsellor: User, sites: Iterable[Site]) -> bytes:
    """The calendar of `counsellor`'s plan at `sites`, for the next eight weeks."""
    now = timezone.now()
    sessions = sorted(
        (s for site in sites for s in plan_of(counsellor, site, site.local_date(now), FEED_DAYS)),
        key=lambda s: (s.starts, s.site.pk, s.desk),
    )
    return ics.calendar_bytes(
        (_entry(session) for session in sessions), name=_("My plan"), product="plan"
    )


def _entry(session: MySession):
    mode = session.mode
    if session.channels:
        mode = _("%(mode)s (%(channels)s)") % {
            "mode": mode,
            "channels": ", ".join(session.channels),
        }
    themes = ", ".join(theme.name for theme in session.themes)
    return ics.entry(
        uid=session.uid,
        starts=session.starts,
        ends=session.ends,
        summary=_("%(desk)s · %(mode)s") % {"desk": session.desk, "mode": mode},
        description=_("Themes: %(themes)s") % {"themes": themes} if themes else "",
        location=session.site.name,
    )


# --- The address -------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lock(counsellor: User) -> None:
    # Serialises two tabs of the same counsellor: the second sees what the first did.
    User.objects.select_for_update().filter(pk=counsellor.pk).first()


def _issue(counsellor: User, language: str) -> str:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    PlanFeed.objects.update_or_create(
        counsellor=counsellor,
        defaults={"digest": _digest(secret), "language": language, "created_at": timezone.now()},
    )
    return secret


@transaction.atomic
def create_plan_feed(*, counsellor: User, language: str) -> str:
    """Give `counsellor` a calendar address; returns its secret (the only time it exists in
    clear). Refused when they have one already: replacing it is a choice of its own."""
    _lock(counsellor)
    if PlanFeed.objects.filter(counsellor=counsellor).exists():
        raise PlanFeedError(
            _("You already have a calendar address. Replace it if you need to see a new one.")
        )
    return _issue(counsellor, language)


@transaction.atomic
def replace_plan_feed(*, counsellor: User, language: str) -> str:
    """A new calendar address for `counsellor`; the old one stops working. Returns the secret."""
    _lock(counsellor)
    if not PlanFeed.objects.filter(counsellor=counsellor).exists():
        raise PlanFeedError(_("You have no calendar address to replace: create one."))
    return _issue(counsellor, language)


@transaction.atomic
def turn_off_plan_feed(*, counsellor: User) -> None:
    """Stop `counsellor`'s calendar address."""
    _lock(counsellor)
    deleted, _rows = PlanFeed.objects.filter(counsellor=counsellor).delete()
    if not deleted:
        raise PlanFeedError(_("Your calendar address is already turned off."))


def find_plan_feed(secret: str) -> PlanFeed | None:
    """The calendar address with this secret, with its counsellor (whose account is in use);
    else None, whatever the reason."""
    if not _SECRET.fullmatch(secret or ""):
        return None
    wanted = _digest(secret)
    feed = PlanFeed.objects.select_related("counsellor").filter(digest=wanted).first()
    if feed is None or not hmac.compare_digest(feed.digest, wanted):
        return None
    return feed if feed.counsellor.is_active else None
