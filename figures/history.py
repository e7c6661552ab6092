"""Demo history: months of realistic *aggregated* activity for a site, so the dashboard and the
reports have something true to show on a fresh install. Only anonymous daily figures are made
(no raw visit), deterministically per day; days that already have figures are left alone."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from citedesmetiers import directory
from citedesmetiers.facts import key
from citedesmetiers.models import Partner, Site
from counselling.models import Desk, Outcome, Topic
from events.models import Event
from feedback.models import Helped
from reception.models import Channel

from .models import AggregatedDay, DailyStat

HOURS = list(range(9, 18))
LANGUAGES = [("-", 86), ("en", 6), ("es", 3), ("pt", 3), ("it", 2)]
HOUR_WEIGHT = {9: 5, 10: 9, 11: 10, 12: 6, 13: 5, 14: 9, 15: 10, 16: 8, 17: 4}
MONTH_SEASON = {
    1: 1.1,
    2: 1.0,
    3: 1.05,
    4: 0.95,
    5: 0.9,
    6: 1.0,
    7: 0.6,
    8: 0.4,
    9: 1.3,
    10: 1.15,
    11: 1.05,
    12: 0.8,
}
AGES = [("u18", 8), ("18-25", 30), ("26-44", 32), ("45-54", 14), ("55+", 6), ("-", 10)]
SITUATIONS = [
    ("student", 22),
    ("job_seeker", 38),
    ("employed", 22),
    ("self_employed", 3),
    ("not_working", 6),
    ("retired", 1),
    ("-", 8),
]
AREAS = [("town", 45), ("metro", 30), ("region", 12), ("elsewhere", 3), ("-", 10)]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _day_rows(site: Site, day: dt.date, themes, desks, partners, topics) -> list[DailyStat]:
    rng = random.Random(f"{site.slug}-{day.isoformat()}")
    quotes = random.Random(f"{site.slug}-{day.isoformat()}-quotes")
    presence = random.Random(f"{site.slug}-{day.isoformat()}-presence")
    extra = random.Random(f"{site.slug}-{day.isoformat()}-extra")
    voices = random.Random(f"{site.slug}-{day.isoformat()}-feedback")
    if day.weekday() == 6:
        return []
    base = 48 if day.weekday() < 5 else 18
    visits = max(0, int(rng.gauss(base * MONTH_SEASON[day.month], 8)))
    rows: dict[tuple[str, str, str], int] = Counter()

    def add(source, metric, k, n=1):
        rows[(source, metric, k)] += n

    serving_at: Counter = Counter()
    theme_weights = [(t, w) for t, w in zip(themes, [14, 18, 30, 16, 12, 10], strict=False)]
    for _ in range(visits):
        theme = _pick(rng, theme_weights)
        hour = rng.choices(HOURS, weights=[HOUR_WEIGHT[h] for h in HOURS])[0]
        if day.weekday() == 5 and hour > 12:
            hour = rng.choice([10, 11, 12])
        channel = (
            Channel.IN_PERSON if rng.random() < 0.92 else rng.choice([Channel.PHONE, Channel.VIDEO])
        )
        add("reception", "visits", key(channel=channel, hour=hour, theme=theme.pk))
        add("reception", "profile_age", key(v=_pick(rng, AGES)))
        add("reception", "profile_situation", key(v=_pick(rng, SITUATIONS)))
        add("reception", "profile_area", key(v=_pick(rng, AREAS)))
        add("reception", "visit_language", key(v=_pick(extra, LANGUAGES)))
        end = rng.random()
        if end < 0.06:
            add("reception", "visit_end", key(how="walked_out"))
            continue
        if end < 0.08:
            add("reception", "visit_end", key(how="no_show"))
            continue
        waited = max(0, int(rng.gammavariate(2.0, 7.0)))
        add("reception", "wait_minutes", key(m=waited))
        # Its own draws, so the rest of the day stays what it was before quotes were kept.
        quoted = max(0, 5 * round((waited + quotes.gauss(0, 8)) / 5))
        add("reception", "estimate_error", key(e=waited - quoted, hour=hour, theme=theme.pk))
        add("reception", "visit_end", key(how="served"))
        serving = [d for d in desks if theme.pk in d.theme_ids] or desks
        desk = rng.choice(serving)
        partner = rng.choice(partners)
        k = key(desk=desk.pk, partner=partner.pk, theme=theme.pk)
        add("counselling", "interviews", k)
        length, walk = max(120, int(rng.gauss(22, 7) * 60)), int(rng.gammavariate(2.0, 40.0))
        add("counselling", "interview_seconds", k, length)
        add("counselling", "walks", k)
        add("counselling", "walk_seconds", k, walk)
        serving_at[desk.pk] += length + walk
        if topics.get(theme.pk):
            add("counselling", "topics", key(topic=rng.choice(topics[theme.pk])))
        if voices.random() < FEEDBACK_SHARE:
            _phone_feedback(add, voices, theme.pk, partner.pk, waited)
        code = rng.choices([c for c, _ in Outcome.Code.choices], weights=[45, 20, 8, 10, 9, 8])[0]
        add("counselling", "outcomes", key(code=code, partner=partner.pk))
        add("counselling", "visit_partners", key(n=_pick(extra, [("1", 88), ("2", 10), ("3", 2)])))
        if extra.random() < 0.3:
            add("reception", "take_away", key(what="lists"))
            add("reception", "take_away", key(what="resources"), extra.randint(1, 4))
            if extra.random() < 0.3:
                add("reception", "take_away", key(what="events"))
        if code == Outcome.Code.REFERRED_DESK:
            other = rng.choice([t for t in themes if t.pk != theme.pk])
            add("counselling", "referrals", key(dst=other.pk, src=theme.pk))
        elif code == Outcome.Code.REFERRED_PARTNER:
            add("counselling", "referrals_out", key(kind=partner.kind))
    _desk_time(presence, day, desks, partners, serving_at, add)
    for _ in range(voices.randint(0, 4) if visits else 0):  # the exit kiosk
        for question, choice in _feedback_answers(voices, None):
            add("feedback", "feedback", key(a=choice, q=question, source="kiosk", theme=0))
        add("feedback", "feedback_answers", key(source="kiosk", theme=0))
    if day.weekday() in (1, 3):
        kind = (
            Event.Kind.WORKSHOP
            if day.weekday() == 1
            else rng.choice([Event.Kind.INFORMATION_DAY, Event.Kind.CLUB])
        )
        registered = rng.randint(8, 15)
        attended = int(registered * rng.uniform(0.65, 0.9))
        k = key(event=0, kind=kind)
        add("events", "events", key(kind=kind, status=Event.Status.PUBLISHED))
        add("events", "event_registered", k, registered)
        add("events", "event_attended", k, attended)
        add("events", "event_no_show", k, registered - attended)
        add("events", "event_waiting", k, rng.randint(0, 4))
    return [
        DailyStat(site=site, day=day, source=source, metric=metric, key=k, value=n)
        for (source, metric, k), n in rows.items()
        if n
    ]


def _desk_time(rng: random.Random, day: dt.date, desks, partners, serving_at: Counter, add):
    """Each desk planned for one partner (6.5 hours a weekday, 3.5 on Saturday), open most of it,
    and its open time split into serving (the day's interviews at it), pauses and idle time."""
    planned = 3.5 * 3600 if day.weekday() == 5 else 6.5 * 3600
    for n, desk in enumerate(sorted(desks, key=lambda d: d.pk)):
        partner = partners[n % len(partners)]
        add(
            "counselling",
            "planned_seconds",
            key(desk=desk.pk, mode="walk_in", partner=partner.pk),
            int(planned),
        )
        if rng.random() < 0.05 and not serving_at[desk.pk]:
            continue  # the partner did not come that day
        k = {"desk": desk.pk, "partner": partner.pk}
        serving = serving_at[desk.pk]
        opened = max(serving, int(planned * rng.uniform(0.85, 1.05)))
        paused = min(opened - serving, int(opened * rng.uniform(0.04, 0.1)))
        waiting = min(opened - serving - paused, int(opened * rng.uniform(0.0, 0.04)))
        add("counselling", "sittings", key(**k), rng.choice([1, 1, 2]))
        for part, seconds in (
            ("serving", serving),
            ("paused", paused),
            ("idle_waiting", waiting),
            ("idle_empty", opened - serving - paused - waiting),
        ):
            add("counselling", "desk_seconds", key(**k, part=part), seconds)


FEEDBACK_SHARE = 0.15  # of the visitors served, those who answer on their phone


def _feedback_answers(voices: random.Random, waited: int | None) -> list[tuple[str, str]]:
    """One visitor's taps: mostly content, less so after a long wait; a question left out now
    and then."""
    if waited is None:
        wait = _pick(voices, [("fine", 60), ("long", 30), ("too_long", 10)])
    else:
        wait = "fine" if waited < 15 else "long" if waited < 30 else "too_long"
    got = _pick(
        voices,
        [("yes", 70), ("partly", 20), ("no", 10)]
        if wait != "too_long"
        else [("yes", 45), ("partly", 35), ("no", 20)],
    )
    recommend = _pick(
        voices,
        [("yes", 80), ("maybe", 15), ("no", 5)]
        if got != "no"
        else [("yes", 30), ("maybe", 40), ("no", 30)],
    )
    taps = [("got_what", got), ("wait", wait), ("recommend", recommend)]
    return [tap for tap in taps if voices.random() > 0.05]


def _phone_feedback(add, voices: random.Random, theme: int, partner: int, waited: int) -> None:
    add("feedback", "feedback_answers", key(source="phone", theme=theme))
    add("feedback", "feedback_partner_answers", key(partner=partner, theme=theme))
    for question, choice in _feedback_answers(voices, waited):
        add("feedback", "feedback", key(a=choice, q=question, source="phone", theme=theme))
        add("feedback", "feedback_partner", key(a=choice, partner=partner, q=question, theme=theme))
    if voices.random() < 0.3:
        code = "shorter_wait" if waited >= 30 else voices.choice(Helped.values)
        add("feedback", "feedback_helped", key(code=code, source="phone", theme=theme))


def seed_history(site: Site, months: int) -> int:
    """Fill the `months` months before today (yesterday at the latest). Returns days filled."""
    themes = list(site.themes.filter(active=True).order_by("order"))
    desks = list(Desk.objects.filter(site=site, active=True).prefetch_related("themes"))
    for desk in desks:
        desk.theme_ids = {t.pk for t in desk.themes.all()}
    partners = list(Partner.objects.filter(memberships__site=site).distinct()) or list(
        Partner.objects.all()
    )
    if not themes or not desks or not partners:
        return 0
    topics: dict[int, list[int]] = {}
    for topic in Topic.objects.filter(theme__site=site):
        topics.setdefault(topic.theme_id, []).append(topic.pk)
    today = site.local_date()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    # The history makes the site older: its reports are refused for months before it existed.
    start_of_history, _end = site.day_bounds(first)
    if site.created > start_of_history:
        Site.objects.filter(pk=site.pk).update(created=start_of_history)
        directory.forget(sites=True)  # an update() sends no signal
        site.created = start_of_history
    done = set(
        AggregatedDay.objects.filter(site=site, day__gte=first).values_list("day", flat=True)
    )
    filled = 0
    day = first
    while day < today:
        if day not in done:
            with transaction.atomic():
                DailyStat.objects.bulk_create(_day_rows(site, day, themes, desks, partners, topics))
                AggregatedDay.objects.create(site=site, day=day, at=timezone.now())
            filled += 1
        day += dt.timedelta(days=1)
    return filled
