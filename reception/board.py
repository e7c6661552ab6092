"""What the waiting-room screen shows (reception/display.html), call by call and between calls.

A call takes the screen over: while calls are fresh (made less than DISPLAY_CALL_SECONDS ago)
they fill it side by side, up to CARDS_SHOWN, so that several calls at once are all seen and none
replaces another before its time (a screen that showed five calls one after another, a second
each, was missed). The other calls still waiting for their visitor stay as one line of tickets.
Between calls, the screen shows the queues and what a visitor can do while waiting: today's and
tomorrow's events of the site that still have places (a QR code to register), the resource of the
week (a QR code to its page in the catalogue) and the QR code of the site's public page.

The screen's layout changes with time as well as with the site's change mark, so each render
says when it is due to change (`Board.due`): when its oldest card stops being fresh or, between
calls, when a listed event starts, at the end of the site's day, and at least every
BETWEEN_CALLS_REFRESH, since places fill up without changing the mark."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from citedesmetiers.models import Site
from citedesmetiers.qr import qr_svg
from events.availability import with_places
from resources import week

from . import queues
from .models import Call

CARDS_SHOWN = 4  # side by side, at 1280×720 as at 1920×1080
CALLED_SHOWN = 3  # on the one line of earlier calls, with "and N more" (long in French)
EVENTS_SHOWN = 4
EVENT_DAYS = 2  # today and tomorrow
BETWEEN_CALLS_REFRESH = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Offer:
    """An event with places, as the screen lists it."""

    title: str
    starts: dt.datetime  # the site's wall clock (naive: templates show it as it is)
    tomorrow: bool
    availability: str  # events.availability.Availability: "available" or "few"
    qr: str  # to its page, where one registers


@dataclass(frozen=True)
class Featured:
    """The resource of the week, as the screen shows it."""

    title: str
    qr: str  # to its page in the catalogue


@dataclass(frozen=True)
class BetweenCalls:
    offers: list[Offer]
    resource: Featured | None
    page_qr: str  # the site's public page
    until: dt.datetime


@dataclass(frozen=True)
class Board:
    cards: list[Call]  # the fresh calls, oldest first (a new one joins at the end)
    called: list[Call]  # the earlier calls still waiting for their visitor, newest first
    more_called: int  # those the line has no room for
    due: dt.datetime
    between: BetweenCalls | None = None  # None while calls fill the screen
    queues: list = field(default_factory=list)  # between calls only

    @property
    def calls(self) -> list[Call]:
        """Every call on the screen, newest first."""
        shown = [*self.cards, *self.called]
        return sorted(shown, key=lambda call: (call.at, call.pk), reverse=True)

    @property
    def due_timestamp(self) -> int:
        return math.ceil(self.due.timestamp())

    def due_in(self, now: dt.datetime) -> float:
        """Seconds from `now` until a poll is answered with the next layout (the whole second
        of `due_timestamp`), to the tenth; at least one."""
        return max(1.0, math.ceil((self.due_timestamp - now.timestamp()) * 10) / 10)


@functools.lru_cache(maxsize=128)
def _qr(url: str) -> str:
    # The same few addresses at every poll of every screen: made once per process.
    return qr_svg(url, fit=True)


def of(site: Site, *, base_url: str, now: dt.datetime | None = None) -> Board:
    """The screen of `site` at `now`. `base_url` ("https://host") begins the QR codes' addresses."""
    now = now or timezone.now()
    calls = queues.current_calls(site, now=now)  # newest first
    fresh_since = now - dt.timedelta(seconds=settings.DISPLAY_CALL_SECONDS)
    cards = [call for call in calls if call.at > fresh_since][:CARDS_SHOWN]
    earlier = [call for call in calls if call not in cards]
    line = {"called": earlier[:CALLED_SHOWN], "more_called": max(0, len(earlier) - CALLED_SHOWN)}
    if cards:
        # The oldest card is the first to stop being fresh.
        due = min(call.at for call in cards) + dt.timedelta(seconds=settings.DISPLAY_CALL_SECONDS)
        return Board(cards=cards[::-1], due=due, **line)
    between = between_calls(site, base_url=base_url, now=now)
    return Board(
        cards=[], due=between.until, between=between, queues=queues.theme_queues(site), **line
    )


def between_calls(site: Site, *, base_url: str, now: dt.datetime) -> BetweenCalls:
    offers, until = _offers(site, base_url=base_url, now=now)
    chosen = week.shown_at(site)
    resource = None
    if chosen is not None:
        resource = Featured(
            title=chosen.title,
            qr=_qr(base_url + chosen.get_absolute_url()),
        )
    page = base_url + reverse("sitepage:page", args=[site.slug])
    return BetweenCalls(offers=offers, resource=resource, page_qr=_qr(page), until=until)


def _offers(site: Site, *, base_url: str, now: dt.datetime) -> tuple[list[Offer], dt.datetime]:
    """The events with places and when the list is due to change, kept in the live cache until
    then: every screen of the site and each of their polls read the same list."""
    key = f"board:offers:{site.pk}:{hashlib.sha256(base_url.encode()).hexdigest()[:16]}"
    live = caches["live"]
    kept = live.get(key)
    if kept is not None and kept[1] > now:
        return kept
    today = site.local_date(now)
    events = with_places(site, days=EVENT_DAYS, limit=EVENTS_SHOWN, now=now)
    offers = []
    for event in events:
        starts = event.starts_at.astimezone(site.zone)
        offers.append(
            Offer(
                title=event.title,
                starts=starts.replace(tzinfo=None),
                tomorrow=starts.date() != today,
                availability=event.availability,
                qr=_qr(base_url + event.get_absolute_url()),
            )
        )
    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), site.zone)
    until = min([now + BETWEEN_CALLS_REFRESH, midnight, *(e.starts_at for e in events)])
    live.set(key, (offers, until), timeout=max(1, math.ceil((until - now).total_seconds())))
    return offers, until
