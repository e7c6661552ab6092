"""The visitor's take-away list: the documents and events a counsellor hands over during an
interview. The visitor sees it on their phone and prints it; the desk shows it beside the
interview. Its writes take a visit the caller has locked and checked (counselling: the visitor
in interview at the desk), and leave publishing the change to that caller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from resources.models import Holding, Resource

from .models import TakeAwayEvent, TakeAwayItem, Visit
from .services import ReceptionError


@dataclass
class TakeAway:
    """What is on a visitor's list: documents (each with `shelf_mark`, the shelf it stands on at
    the visit's site, or None) and events."""

    items: list[TakeAwayItem] = field(default_factory=list)
    events: list[TakeAwayEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.items or self.events)


def take_away_of(visit: Visit) -> TakeAway:
    """The visitor's list, as the phone, the desk and the printout show it."""
    items = list(TakeAwayItem.objects.filter(visit=visit).select_related("resource"))
    # No query when the list holds no document (an empty `__in`).
    shelves = dict(
        Holding.objects.filter(
            site_id=visit.site_id, resource_id__in=[i.resource_id for i in items]
        ).values_list("resource_id", "shelf_mark")
    )
    for item in items:
        item.shelf_mark = shelves.get(item.resource_id)
    events = list(TakeAwayEvent.objects.filter(visit=visit).select_related("event"))
    return TakeAway(items, events)


def add_resource(*, visit: Visit, resource_id: int) -> None:
    """Put a catalogue resource on the visitor's list (once)."""
    if not Resource.objects.filter(pk=resource_id, withdrawn=False).exists():
        raise ReceptionError(_("This document is not in the catalogue any more."))
    TakeAwayItem.objects.get_or_create(visit=visit, resource_id=resource_id)


def remove_resource(*, visit: Visit, resource_id: int) -> None:
    TakeAwayItem.objects.filter(visit=visit, resource_id=resource_id).delete()


def add_event(*, visit: Visit, event_id: int, now: dt.datetime | None = None) -> None:
    """Suggest an event of the visit's site, published and not over: it joins the list (once)."""
    event = Event.objects.filter(
        pk=event_id,
        site_id=visit.site_id,
        status=Event.Status.PUBLISHED,
        ends_at__gt=now or timezone.now(),
    ).first()
    if event is None:
        raise ReceptionError(_("This event is not open any more."))
    TakeAwayEvent.objects.get_or_create(visit=visit, event=event)


def remove_event(*, visit: Visit, event_id: int) -> None:
    TakeAwayEvent.objects.filter(visit=visit, event_id=event_id).delete()
