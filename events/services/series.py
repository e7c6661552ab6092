"""An organiser's writes on a series: make its draft sessions, publish them all at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Partner, Site, Theme

from ..models import Event, Series
from ..recurrence import Recurrence, SeriesError
from ..series import COPIED_FIELDS, plan
from .planning import publish_event


@transaction.atomic
def create_series(
    *,
    site: Site,
    recurrence: Recurrence,
    first: dt.date,
    last: dt.date,
    at: dt.time,
    duration: dt.timedelta,
    details: dict,
    themes: Iterable[Theme] = (),
    partners: Iterable[Partner] = (),
) -> Series:
    """Make a Series and one draft Event per date, each a copy of `details` (title, kind,
    description, place, capacity…). Themes must be the site's own."""
    sessions = plan(
        recurrence=recurrence, first=first, last=last, at=at, duration=duration, zone=site.zone
    )
    themes, partners = list(themes), list(partners)
    if any(theme.site_id != site.pk for theme in themes):
        raise SeriesError(_("A theme of another site cannot be used here."))
    copied = {name: details[name] for name in COPIED_FIELDS if name in details}
    if not copied.get("title"):
        raise SeriesError(_("Give the workshop a title."))
    series = Series.objects.create(
        site=site,
        name=copied["title"],
        frequency=recurrence.frequency,
        weekday=recurrence.weekday,
        interval=recurrence.interval,
        ordinal=recurrence.ordinal,
    )
    events = Event.objects.bulk_create(
        Event(
            site=site,
            series=series,
            starts_at=starts_at,
            ends_at=ends_at,
            status=Event.Status.DRAFT,
            **copied,
        )
        for starts_at, ends_at in sessions
    )
    if themes:
        Event.themes.through.objects.bulk_create(
            Event.themes.through(event_id=event.pk, theme_id=theme.pk)
            for event in events
            for theme in themes
        )
    if partners:
        Event.partners.through.objects.bulk_create(
            Event.partners.through(event_id=event.pk, partner_id=partner.pk)
            for event in events
            for partner in partners
        )
    return series


@transaction.atomic
def publish_series(*, series_id: int, now: dt.datetime | None = None) -> int:
    """Publish every draft session of the series that has not started yet, all or none: a
    session refused (cancelled meanwhile) leaves every one a draft. Returns how many."""
    now = now or timezone.now()
    drafts = Event.objects.filter(
        series_id=series_id, status=Event.Status.DRAFT, starts_at__gt=now
    ).order_by("pk")  # locked in one order, so two publishers never wait on each other
    published = 0
    for event_id in list(drafts.values_list("pk", flat=True)):
        publish_event(event_id=event_id)
        published += 1
    return published
