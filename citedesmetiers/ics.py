"""iCalendar (.ics) files: the calendar around the entries, and one entry. Each app says what
its entries hold (events, a counsellor's plan); how a file is written is decided here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent


def one_line(text: str) -> str:
    """`text` on one line, its runs of spaces and line breaks made single spaces."""
    return " ".join(text.split())


def entry(
    *,
    uid: str,
    starts: dt.datetime,
    ends: dt.datetime,
    summary: str,
    sequence: int | None = None,
    description: str = "",
    location: str = "",
    url: str = "",
    cancelled: bool = False,
) -> VEvent:
    """One entry (VEVENT). `uid` names it for good: a calendar that sees it again replaces the
    entry it already has. Times are aware; they are written as they are (UTC is written `Z`)."""
    item = VEvent()
    item.add("uid", uid)
    item.add("dtstamp", timezone.now())
    if sequence is not None:
        item.add("sequence", sequence)
    item.add("dtstart", starts)
    item.add("dtend", ends)
    item.add("summary", one_line(summary))
    if description:
        item.add("description", description)
    if location:
        item.add("location", location)
    if url:
        item.add("url", url)
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return item


def calendar_bytes(entries: Iterable[VEvent], *, name: str, product: str) -> bytes:
    """A calendar named `name` holding `entries`; `product` names what wrote it (its PRODID)."""
    cal = Calendar()
    cal.add("prodid", f"-//Cité des métiers//{product}//FR")
    cal.add("version", "2.0")
    # Published for whoever reads it (not an invitation to answer): with SEQUENCE and the same
    # UID, a calendar replaces the entry it already has.
    cal.add("method", "PUBLISH")
    # An X- property is written as it is: a newline (in an event's title) would break the file.
    cal.add("x-wr-calname", one_line(name))
    for item in entries:
        cal.add_component(item)
    return cal.to_ical()
