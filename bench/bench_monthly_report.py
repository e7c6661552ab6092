"""`BENCH monthly_report`: the time to build the monthly PDF report of a site with 300,000 visits in
the month, over the time for a site with 30,000. Target: at most 1.3 — the report reads daily
figures, so its cost must grow with the number of days, not of visits.

Each site gets two months (the report's month and the one before, which the report compares
with) of daily figures as `stats.aggregate_day` makes them: each day's visits (10,000 a day for
the large site, 1,000 for the small one) are drawn one by one — theme, hour, channel, profile,
how the visit ended, wait — and counted by key, so a day has one row per distinct key, as the
real aggregation gives. The PDF is rendered by `figures.reports.render_pdf`, in this
process: WeasyPrint is warmed up once, then each site is rendered three times (alternately, so
a change of load on the machine hits both alike) and the medians compared.

The two sites (unique slugs) and their partners are deleted at the end; an interrupted run's
are deleted by the next one.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
import uuid
from collections import Counter

from django.db import transaction
from django.utils import timezone

from bench.report import report
from citedesmetiers.facts import key
from citedesmetiers.models import Partner, Site, Theme
from counselling.models import Desk, Topic
from figures.models import AggregatedDay, DailyStat
from figures.reports import build, render_pdf

# A site of this module older than this was left by an interrupted run: the next run deletes it.
LEFTOVER_AGE = dt.timedelta(minutes=30)

TARGET = 1.3
MONTH = dt.date(2025, 6, 1)  # 30 days: 30 × 10,000 = 300,000 visits
PREVIOUS = dt.date(2025, 5, 1)
SMALL, LARGE = 1_000, 10_000  # visits a day
RENDERS = 3
PREFIX = "bench-report-"

THEMES = [("E", "Trouver un emploi", 30), ("F", "Se former", 22), ("O", "S'orienter", 18)]
THEMES += [("C", "Changer de métier", 14), ("A", "Créer son activité", 10), ("I", "Partir", 6)]
DESKS = [("Desk 1", "OF"), ("Desk 2", "E"), ("Desk 3", "EC"), ("Desk 4", "C")]
DESKS += [("Desk 5", "A"), ("Desk 6", "IF")]
PARTNER_KINDS = ["employment", "guidance", "youth", "training", "chamber"]
HOURS = {9: 5, 10: 9, 11: 10, 12: 6, 13: 5, 14: 9, 15: 10, 16: 8, 17: 4}
CHANNELS = {"in_person": 90, "phone": 6, "video": 3, "chat": 1}
AGES = {"u18": 8, "18-25": 30, "26-44": 32, "45-54": 14, "55+": 6, "-": 10}
SITUATIONS = {"student": 22, "job_seeker": 38, "employed": 22, "self_employed": 3}
SITUATIONS |= {"not_working": 6, "retired": 1, "-": 8}
AREAS = {"town": 45, "metro": 30, "region": 12, "elsewhere": 3, "-": 10}
ENDS = {"served": 90, "walked_out": 5, "by_themselves": 2, "closing": 1, "no_show": 2}
OUTCOMES = {"information": 45, "resources": 20, "event": 8, "referred_desk": 10}
OUTCOMES |= {"referred_partner": 9, "come_back": 8}
OUT_OF_ORDER = {"accessibility": 5, "child": 2, "put_back": 2, "short": 3, "other": 1}


def _draw(rng: random.Random, weighted: dict, k: int) -> list:
    return rng.choices(list(weighted), weights=list(weighted.values()), k=k)


class World:
    """A bench site with its themes, desks, partners and topics (what the keys point to)."""

    def __init__(self, run: str, label: str):
        self.site = Site.objects.create(slug=f"{PREFIX}{run}-{label}", name=f"Bench {label} {run}")
        themes = Theme.objects.bulk_create(
            Theme(site=self.site, letter=letter, name=name, order=i)
            for i, (letter, name, _weight) in enumerate(THEMES)
        )
        self.themes = {t.pk: weight for t, (_l, _n, weight) in zip(themes, THEMES, strict=True)}
        by_letter = {t.letter: t for t in themes}
        self.partners = [
            Partner.objects.create(name=f"Bench partner {i} {run}-{label}", kind=kind)
            for i, kind in enumerate(PARTNER_KINDS)
        ]
        self.serving: dict[int, list[int]] = {}
        for order, (name, letters) in enumerate(DESKS):
            desk = Desk.objects.create(site=self.site, name=name, order=order)
            desk.themes.set([by_letter[letter] for letter in letters])
            for letter in letters:
                self.serving.setdefault(by_letter[letter].pk, []).append(desk.pk)
        topics = Topic.objects.bulk_create(
            Topic(theme=theme, name=f"Topic {n}", order=n) for theme in themes for n in range(4)
        )
        self.topics: dict[int, list[int]] = {}
        for topic in topics:
            self.topics.setdefault(topic.theme_id, []).append(topic.pk)

    def day_rows(self, day: dt.date, visits: int, rng: random.Random) -> list:
        """The day's figures, as `aggregate_day` would make them from `visits` raw visits."""
        rows: dict[tuple[str, str, str], int] = Counter()

        def count(source: str, metric: str, keys) -> None:
            for k, n in Counter(keys).items():
                rows[(source, metric, k)] += n

        themes = _draw(rng, self.themes, visits)
        count(
            "reception",
            "visits",
            (
                key(channel=c, hour=h, theme=t)
                for t, h, c in zip(
                    themes,
                    _draw(rng, HOURS, visits),
                    _draw(rng, CHANNELS, visits),
                    strict=True,
                )
            ),
        )
        for metric, answers in (
            ("profile_age", AGES),
            ("profile_situation", SITUATIONS),
            ("profile_area", AREAS),
        ):
            count("reception", metric, (key(v=v) for v in _draw(rng, answers, visits)))
        ends = _draw(rng, ENDS, visits)
        count("reception", "visit_end", (key(how=how) for how in ends))
        called = [t for t, how in zip(themes, ends, strict=True) if how in ("served", "no_show")]
        count(
            "reception",
            "wait_minutes",
            (key(m=int(rng.gammavariate(2.0, 7.0))) for _ in called),
        )

        served = [t for t, how in zip(themes, ends, strict=True) if how == "served"]
        interviews = [
            (rng.choice(self.serving[t]), rng.choice(self.partners).pk, t) for t in served
        ]
        by_key = Counter(key(desk=d, partner=p, theme=t) for d, p, t in interviews)
        for k, n in by_key.items():
            rows[("counselling", "interviews", k)] += n
            rows[("counselling", "interview_seconds", k)] += int(n * rng.gauss(22, 2) * 60)
        count("counselling", "topics", (key(topic=rng.choice(self.topics[t])) for t in served))
        codes = _draw(rng, OUTCOMES, len(interviews))
        count(
            "counselling",
            "outcomes",
            (key(code=c, partner=p) for c, (_d, p, _t) in zip(codes, interviews, strict=True)),
        )
        theme_ids = list(self.themes)
        count(
            "counselling",
            "referrals",
            (
                key(dst=rng.choice([o for o in theme_ids if o != t]), src=t)
                for c, (_d, _p, t) in zip(codes, interviews, strict=True)
                if c == "referred_desk"
            ),
        )
        count(
            "counselling",
            "referrals_out",
            (key(kind=rng.choice(PARTNER_KINDS)) for c in codes if c == "referred_partner"),
        )
        count(
            "counselling",
            "out_of_order",
            (key(reason=r) for r in _draw(rng, OUT_OF_ORDER, len(called) // 100)),
        )
        if day.weekday() in (1, 3):  # a workshop on Tuesdays and Thursdays
            k = key(event=day.toordinal(), kind="workshop")
            registered = rng.randint(8, 15)
            attended = int(registered * rng.uniform(0.65, 0.9))
            rows[("events", "events", key(kind="workshop", status="published"))] += 1
            rows[("events", "event_registered", k)] += registered
            rows[("events", "event_attended", k)] += attended
            rows[("events", "event_no_show", k)] += registered - attended
        return [
            DailyStat(site=self.site, day=day, source=s, metric=m, key=k, value=n)
            for (s, m, k), n in rows.items()
            if n
        ]

    def fill(self, visits_a_day: int, rng: random.Random) -> int:
        """Two months of daily figures; returns the number of rows of the report's month."""
        month_rows = 0
        for first in (PREVIOUS, MONTH):
            day = first
            while day.month == first.month:
                with transaction.atomic():
                    rows = self.day_rows(day, visits_a_day, rng)
                    DailyStat.objects.bulk_create(rows, batch_size=2000)
                    AggregatedDay.objects.create(site=self.site, day=day, at=timezone.now())
                month_rows += len(rows) if first == MONTH else 0
                day += dt.timedelta(days=1)
        return month_rows


def _delete(slugs: list[str]) -> None:
    """The sites (their figures, themes, desks and topics go with them) and their partners."""
    for slug in slugs:
        try:
            Site.objects.filter(slug=slug).delete()
            Partner.objects.filter(name__endswith=f" {slug.removeprefix(PREFIX)}").delete()
        except Exception as exc:
            print(f"# could not delete bench site {slug}: {exc}", file=sys.stderr, flush=True)


def _delete_leftovers() -> None:
    _delete(
        list(
            Site.objects.filter(
                slug__startswith=PREFIX, created__lt=timezone.now() - LEFTOVER_AGE
            ).values_list("slug", flat=True)
        )
    )


def _render(site) -> tuple[float, int]:
    started = time.perf_counter()
    pdf = render_pdf(site, MONTH)
    elapsed = time.perf_counter() - started
    if not pdf.startswith(b"%PDF"):
        raise RuntimeError("render_pdf did not return a PDF")
    return elapsed, len(pdf)


def run() -> bool:
    _delete_leftovers()
    run_id = uuid.uuid4().hex[:8]
    rng = random.Random(20250601)
    worlds: list[World] = []
    try:
        worlds = [World(run_id, "small"), World(run_id, "large")]
        small, large = worlds
        prepared = time.perf_counter()
        small_rows = small.fill(SMALL, rng)
        large_rows = large.fill(LARGE, rng)
        prepared = time.perf_counter() - prepared
        visits = [build(w.site, MONTH)["figures"]["now"]["visits"] for w in worlds]

        _render(small.site)  # WeasyPrint's import, fonts and caches
        small_times, large_times, sizes = [], [], {}
        for _ in range(RENDERS):
            for world, times in ((small, small_times), (large, large_times)):
                elapsed, sizes[world is large] = _render(world.site)
                times.append(elapsed)
    finally:
        _delete([w.site.slug for w in worlds])

    small_s, large_s = statistics.median(small_times), statistics.median(large_times)
    ratio = large_s / small_s if small_s else float("nan")
    expected = [SMALL * 30, LARGE * 30]
    return report(
        "monthly_report",
        ratio,
        TARGET,
        {
            "visits_small": visits[0],
            "visits_large": visits[1],
            "small_s": small_s,
            "large_s": large_s,
            "rows_small": small_rows,
            "rows_large": large_rows,
            "pdf_kb_small": sizes[False] / 1024,
            "pdf_kb_large": sizes[True] / 1024,
            "prepare_s": prepared,
        },
        higher_is_better=False,
        valid=visits == expected,
    )
