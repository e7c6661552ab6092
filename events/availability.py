"""How full an event is, as the public pages and screens say it, and which events of a site
still take registrations in the next days (the waiting-room screen lists them between calls)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from citedesmetiers.models import Site

from . import guard
from .models import Event, Registration


class Availability:
    """How full an event is, as the public pages say it: never how many places are left (an
    exact count would tell whoever registers an address whether it already held a place: a
    new one takes one, a repeated one nothing)."""

    OPEN_DOOR = "open_door"  # no registration: just come
    CLOSED = "closed"  # started, or not taking registrations
    AVAILABLE = "available"
    FEW = "few"  # the last places (events.guard.nearly_full)
    FULL = "full"  # the waiting list


def availability(event: Event, places_left: int | None) -> str:
    if not event.needs_registration:
        return Availability.OPEN_DOOR
    if not event.is_open_for_registration:
        return Availability.CLOSED
    if not places_left:
        return Availability.FULL
    if guard.nearly_full(event.capacity, places_left):
        return Availability.FEW
    return Availability.AVAILABLE


def with_places(
    site: Site, *, days: int = 2, limit: int = 4, now: dt.datetime | None = None
) -> list[Event]:
    """The site's published events that take registrations, start later today or on one of the
    next `days - 1` local days, and still have a place (not the waiting list), soonest first,
    in one query. Each has `availability` set ("available" or "few")."""
    now = now or timezone.now()
    first_day = now.astimezone(site.zone).date()
    # Midnight of the day after the last one, on the site's calendar.
    until = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), site.zone)
    events = (
        Event.objects.filter(
            site=site,
            site__active=True,
            status=Event.Status.PUBLISHED,
            capacity__isnull=False,
            starts_at__gt=now,
            starts_at__lt=until,
        )
        .annotate(
            taken=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            )
        )
        .filter(taken__lt=F("capacity"))
        .order_by("starts_at", "pk")[:limit]
    )
    found = list(events)
    for event in found:
        event.availability = availability(event, event.capacity - event.taken)
    return found
