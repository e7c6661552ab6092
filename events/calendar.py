"""iCalendar (.ics): one event, or a site's feed of upcoming events."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from .models import Event


def _vevent(event: Event, base_url: str) -> VEvent:
    item = VEvent()
    item.add("uid", f"event-{event.pk}@citedesmetiers")
    item.add("dtstamp", timezone.now())
    item.add("sequence", event.sequence)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", " ".join(event.title.split()))
    if event.description:
        item.add("description", event.description)
    location = event.place or event.online_url
    if location:
        item.add("location", location)
    item.add("url", base_url.rstrip("/") + event.get_absolute_url())
    item.add("status", "CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED")
    return item


def calendar_bytes(events: Iterable[Event], base_url: str, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Cité des métiers//events//FR")
    cal.add("version", "2.0")
    # Published for whoever reads it (not an invitation to answer): with SEQUENCE and the same
    # UID, a calendar replaces the entry it already has.
    cal.add("method", "PUBLISH")
    # An X- property is written as it is: a newline (in an event's title) would break the file.
    cal.add("x-wr-calname", " ".join(name.split()))
    for event in events:
        cal.add_component(_vevent(event, base_url))
    return cal.to_ical()
