"""What every organiser screen reads: who may open them, an event of the current site, and
the registration counts of events (in one query)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from citedesmetiers.roles import Role

from ...models import Event, Registration

ORGANISER = (Role.EVENT_ORGANISER, Role.MANAGER)

CONFIRMED = Q(registrations__status=Registration.Status.CONFIRMED)


def with_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Events with their registration counts, in one query."""
    return events.annotate(
        n_confirmed=Count("registrations", filter=CONFIRMED),
        n_attended=Count("registrations", filter=CONFIRMED & Q(registrations__attended=True)),
        n_waiting=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.WAITING)
        ),
        n_pending=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.PENDING)
        ),
        n_cancelled=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.CANCELLED)
        ),
    )


def no_show_rate(event: Event) -> float | None:
    """Confirmed registrations not marked present, over confirmed ones; None until the event is
    over (attendance is still being taken), for a cancelled event, or with nobody registered."""
    if not event.is_past or event.status == Event.Status.CANCELLED or not event.n_confirmed:
        return None
    return (event.n_confirmed - event.n_attended) / event.n_confirmed


def event_of_site(request: HttpRequest, event_id: int, counted: bool = False) -> Event:
    events = Event.objects.select_related("site", "series")
    if counted:
        events = with_counts(events)
    event = get_object_or_404(events, pk=event_id, site=request.site)
    if counted:
        event.no_show_rate = no_show_rate(event)
    return event
