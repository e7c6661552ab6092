"""Time on the waiting-room screen: a call fills it for DISPLAY_CALL_SECONDS (reception.board).
Tests of what the screen shows between calls make the calls older, as if that time had passed."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F

from citedesmetiers.models import Site
from reception.models import Call, Visit

VISIT_MOMENTS = ("arrived_at", "queued_at", "called_at", "no_show_at", "started_at", "ended_at")


def as_if_earlier(site: Site, seconds: float) -> None:
    """Move the site's visits and calls `seconds` into the past, all together (their order and
    the time between them stay as they were)."""
    delta = dt.timedelta(seconds=seconds)
    Call.objects.filter(site=site).update(at=F("at") - delta)
    for moment in VISIT_MOMENTS:
        Visit.objects.filter(site=site, **{f"{moment}__isnull": False}).update(
            **{moment: F(moment) - delta}
        )


def calls_over(site: Site) -> None:
    """Every call of the site made longer ago than a call stays on the whole screen."""
    as_if_earlier(site, settings.DISPLAY_CALL_SECONDS + 1)
