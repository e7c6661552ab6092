"""iCalendar (.ics): one event, or a site's feed of upcoming events (written by
`citedesmetiers.ics`)."""

from __future__ import annotations

from collections.abc import Iterable

from icalendar import Event as VEvent

from citedesmetiers import ics

from .models import Event


def _vevent(event: Event, base_url: str) -> VEvent:
    return ics.entry(
        uid=f"event-{event.pk}@citedesmetiers",
        sequence=event.sequence,
        starts=event.starts_at,
        ends=event.ends_at,
        summary=event.title,
        description=event.description,
        location=event.place or event.online_url,
        url=base_url.rstrip("/") + event.get_absolute_url(),
        cancelled=event.status == Event.Status.CANCELLED,
    )


def calendar_bytes(events: Iterable[Event], base_url: str, name: str) -> bytes:
    return ics.calendar_bytes(
        (_vevent(event, base_url) for event in events), name=name, product="events"
    )
