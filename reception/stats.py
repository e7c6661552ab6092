"""Reception's anonymous daily facts: visits by theme, hour and channel; coarse profiles; waits;
how far the wait quoted at check-in was from the wait that came (`estimate_error`); the
visitors' languages; the take-away lists handed over."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Min

from citedesmetiers.facts import Fact, facts_from, key
from citedesmetiers.models import Site

from .models import Call, TakeAwayEvent, TakeAwayItem, Visit

MAX_ERROR = 120  # minutes: an error beyond counts as this one (few rows, same medians)


def daily_facts(site: Site, day: dt.date) -> list[Fact]:
    visits = list(
        Visit.objects.filter(site=site, local_date=day).values_list(
            "pk",
            "first_theme_id",
            "channel",
            "arrived_at",
            "age_bracket",
            "situation",
            "area",
            "status",
            "left_how",
            "quoted_wait",
            "language",
        )
    )
    first_calls = dict(
        Call.objects.filter(visit__site=site, visit__local_date=day, kind=Call.Kind.CALL)
        .values("visit")
        .annotate(first=Min("at"))
        .values_list("visit", "first")
    )
    by_slot, ages, situations, areas, waits, ends, errors, languages = (Counter() for _ in range(8))
    for pk, theme, channel, arrived, age, situation, area, status, left_how, quoted, lang in visits:
        languages[key(v=lang or "-")] += 1  # "-": the site's own language
        hour = arrived.astimezone(site.zone).hour
        by_slot[key(theme=theme, hour=hour, channel=channel)] += 1
        ages[key(v=age or "-")] += 1
        situations[key(v=situation or "-")] += 1
        areas[key(v=area or "-")] += 1
        if pk in first_calls:
            waited = int((first_calls[pk] - arrived).total_seconds() // 60)
            waits[key(m=waited)] += 1
            if quoted is not None:  # minutes late (+) or early (−) against the quote
                error = max(-MAX_ERROR, min(MAX_ERROR, waited - quoted))
                errors[key(theme=theme, hour=hour, e=error)] += 1
        if status == Visit.Status.LEFT:
            ends[key(how=left_how or "walked_out")] += 1
        elif status == Visit.Status.NO_SHOW:
            ends[key(how="no_show")] += 1
        elif status == Visit.Status.DONE:
            ends[key(how="served")] += 1
    return (
        facts_from("visits", by_slot)
        + facts_from("profile_age", ages)
        + facts_from("profile_situation", situations)
        + facts_from("profile_area", areas)
        + facts_from("wait_minutes", waits)
        + facts_from("visit_end", ends)
        + facts_from("estimate_error", errors)
        + facts_from("visit_language", languages)
        + _take_away_facts(site, day)
    )


def _take_away_facts(site: Site, day: dt.date) -> list[Fact]:
    """The day's take-away lists: visits that were handed one, and what they held."""
    items = TakeAwayItem.objects.filter(visit__site=site, visit__local_date=day)
    events = TakeAwayEvent.objects.filter(visit__site=site, visit__local_date=day)
    lists = set(items.values_list("visit", flat=True)) | set(events.values_list("visit", flat=True))
    counts = Counter(
        {
            key(what="lists"): len(lists),
            key(what="resources"): items.count(),
            key(what="events"): events.count(),
        }
    )
    return facts_from("take_away", counts)


def purge_raw(site: Site, before: dt.date) -> int:
    """Delete raw visits (and with them calls, interviews and take-away lists) of days before
    `before`; the caller checks those days are aggregated."""
    deleted, _ = Visit.objects.filter(site=site, local_date__lt=before).delete()
    return deleted
