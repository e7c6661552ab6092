"""Events' anonymous daily facts, by the day the event starts: registrations, attendance,
no-shows, waiting lists, people at the door."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count, Q

from citedesmetiers.clock import local_day_bounds
from citedesmetiers.facts import Fact, facts_from, key
from citedesmetiers.models import Site

from .models import Event, Registration


def daily_facts(site: Site, day: dt.date) -> list[Fact]:
    start, end = local_day_bounds(site.zone, day)
    events = (
        Event.objects.filter(site=site, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Event.Status.DRAFT)
        .annotate(
            confirmed=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            ),
            waiting=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.WAITING)
            ),
            attended=Count("registrations", filter=Q(registrations__attended=True)),
            cancelled=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CANCELLED)
            ),
        )
    )
    figures = {
        name: Counter()
        for name in (
            "event_registered",
            "event_attended",
            "event_no_show",
            "event_waiting",
            "event_walk_ins",
            "event_cancelled_registrations",
            "events",
        )
    }
    for event in events:
        k = key(event=event.pk, kind=event.kind)
        figures["events"][key(kind=event.kind, status=event.status)] += 1
        figures["event_registered"][k] += event.confirmed
        figures["event_waiting"][k] += event.waiting
        figures["event_cancelled_registrations"][k] += event.cancelled
        figures["event_walk_ins"][k] += event.walk_ins
        if event.ends_at <= dt.datetime.now(dt.UTC) and event.status == Event.Status.PUBLISHED:
            figures["event_attended"][k] += event.attended
            figures["event_no_show"][k] += event.confirmed - event.attended
    facts: list[Fact] = []
    for metric, counter in figures.items():
        facts += facts_from(metric, counter)
    return facts
