"""Anonymous statistics: roll each site-day of raw rows into daily figures, purge raw rows after
the retention period, and read months of figures for dashboards and reports.

Small cells: any breakdown by profile shows counts under 5 as “< 5”, and hides one more cell when
a single hidden cell could be recomputed from the total (secondary suppression)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments import stats as appointments_stats
from citedesmetiers.facts import parse_key
from citedesmetiers.models import Site
from counselling import stats as counselling_stats
from events import stats as events_stats
from feedback import stats as feedback_stats
from reception import stats as reception_stats

from .models import AggregatedDay, DailyStat

SOURCES = {
    "reception": reception_stats.daily_facts,
    "counselling": counselling_stats.daily_facts,
    "events": events_stats.daily_facts,
    "appointments": appointments_stats.daily_facts,
    "feedback": feedback_stats.daily_facts,
}
SMALL_CELL = 5
REAGGREGATE_DAYS = 7  # late changes (attendance ticked the next day) are caught up


@transaction.atomic
def aggregate_day(site: Site, day: dt.date) -> int:
    """Replace the site-day's figures with fresh ones from the raw rows. Idempotent. A day past
    the retention period that was aggregated already is left alone: its raw rows may be gone.

    The day close (every 15 minutes) and the nightly run can aggregate the same day at once:
    the day's AggregatedDay row is made if missing and locked first, so the second waits for
    the first to commit, then replaces its figures (instead of inserting them a second time)."""
    limit = site.local_date() - dt.timedelta(days=settings.RAW_RETENTION_DAYS)
    if day < limit and AggregatedDay.objects.filter(site=site, day=day).exists():
        return 0
    AggregatedDay.objects.bulk_create(
        [AggregatedDay(site=site, day=day, at=timezone.now())], ignore_conflicts=True
    )
    marker = AggregatedDay.objects.select_for_update().get(site=site, day=day)
    rows = []
    for source, daily_facts in SOURCES.items():
        rows += [
            DailyStat(site=site, day=day, source=source, metric=f.metric, key=f.key, value=f.value)
            for f in daily_facts(site, day)
        ]
    DailyStat.objects.filter(site=site, day=day).delete()
    DailyStat.objects.bulk_create(rows, batch_size=1000)
    marker.at = timezone.now()
    marker.save(update_fields=["at"])
    return len(rows)


def aggregate_recent(*, now: dt.datetime | None = None, days: int = REAGGREGATE_DAYS) -> int:
    """Nightly: (re)aggregate the last `days` local days of every active site, today included;
    and before them, the days no run has aggregated since the last one that was (the nights the
    server was down), back to RAW_RETENTION_DAYS at most and not before the site existed."""
    now = now or timezone.now()
    done = 0
    for site in Site.objects.filter(active=True):
        today = site.local_date(now)
        recent = today - dt.timedelta(days=days)
        oldest = max(
            today - dt.timedelta(days=settings.RAW_RETENTION_DAYS), site.local_date(site.created)
        )
        last = (
            AggregatedDay.objects.filter(site=site, day__lt=recent, day__gte=oldest)
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
        first = min(recent, last + dt.timedelta(days=1) if last else oldest)
        for back in range((today - first).days + 1):
            aggregate_day(site, today - dt.timedelta(days=back))
            done += 1
    return done


def purge_raw(*, now: dt.datetime | None = None) -> int:
    """Delete raw visits and interviews, and feedback answers, older than RAW_RETENTION_DAYS,
    for days aggregated."""
    now = now or timezone.now()
    deleted = 0
    for site in Site.objects.all():
        limit = site.local_date(now) - dt.timedelta(days=settings.RAW_RETENTION_DAYS)
        raw_days = set(
            reception_stats.Visit.objects.filter(site=site, local_date__lt=limit)
            .values_list("local_date", flat=True)
            .distinct()
        ) | feedback_stats.raw_days(site, limit)  # a kiosk answers on days without visits too
        missing = raw_days - set(
            AggregatedDay.objects.filter(site=site, day__lt=limit).values_list("day", flat=True)
        )
        for day in sorted(missing):
            aggregate_day(site, day)  # never purge a day that was not aggregated
        deleted += reception_stats.purge_raw(site, limit)
        deleted += feedback_stats.purge_raw(site, limit)
    return deleted


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A period's daily figures: metric → {key → value}, and metric → {day → value}."""

    totals: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_day: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def total(self, metric: str) -> int:
        return sum(self.totals[metric].values())

    def by(self, metric: str, dimension: str) -> Counter:
        out: Counter = Counter()
        for k, value in self.totals[metric].items():
            out[parse_key(k).get(dimension, "")] += value
        return out

    def wait_percentile(self, q: float) -> int | None:
        waits = Counter()
        for k, n in self.totals["wait_minutes"].items():
            waits[int(parse_key(k)["m"])] += n
        return percentile(waits, q)

    def estimate_honesty(self, dimension: str | None = None) -> dict[str, Honesty]:
        """How the waits quoted at check-in came true, overall (key "") or by `dimension`
        ("theme", "hour")."""
        errors: dict[str, Counter] = defaultdict(Counter)
        for k, n in self.totals["estimate_error"].items():
            dims = parse_key(k)
            errors[dims.get(dimension, "") if dimension else ""][int(dims["e"])] += n
        return {group: Honesty.of(histogram) for group, histogram in errors.items()}


def percentile(histogram: Counter, q: float) -> int | None:
    """The q-quantile (0…1) of a histogram {value: count}; None when it is empty."""
    count = sum(histogram.values())
    if not count:
        return None
    rank, seen = q * (count - 1), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen > rank:
            return value
    return max(histogram)


HONEST_MINUTES = 10


@dataclass(frozen=True)
class Honesty:
    """Waits quoted at check-in against the waits that came, for some visitors."""

    quoted: int  # visitors quoted a wait, then called
    median_error: int  # minutes waited beyond the quote (negative: called sooner than told)
    median_miss: int  # the same without its sign: how far off a quote typically is
    within: int  # % called within HONEST_MINUTES of their quote, either way

    @property
    def median_early(self) -> int:
        return -self.median_error

    @classmethod
    def of(cls, errors: Counter) -> Honesty:
        misses = Counter()
        for error, n in errors.items():
            misses[abs(error)] += n
        quoted = sum(errors.values())
        close = sum(n for miss, n in misses.items() if miss <= HONEST_MINUTES)
        return cls(
            quoted=quoted,
            median_error=percentile(errors, 0.5),
            median_miss=percentile(misses, 0.5),
            within=round(100 * close / quoted),
        )


def read(sites, start: dt.date, end: dt.date, metrics=None, **filters: str) -> Figures:
    """Figures of [start, end) for these sites; `filters` keep keys with those dimensions
    (e.g. theme="3", partner="2")."""
    rows = DailyStat.objects.filter(site__in=sites, day__gte=start, day__lt=end)
    if metrics:
        rows = rows.filter(metric__in=metrics)
    figures = Figures()
    for metric, k, day, value in rows.values_list("metric", "key", "day", "value").iterator(
        chunk_size=5000
    ):
        if filters:
            dims = parse_key(k)
            if any(name in dims and dims[name] != wanted for name, wanted in filters.items()):
                continue
        figures.totals[metric][k] += value
        figures.by_day[metric][day] += value
    return figures


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def visits_by_weekday_hour(sites, start: dt.date, end: dt.date) -> Counter:
    """Visits of [start, end) at these sites by (weekday, local hour of arrival), Monday = 0.
    The daily figures keep the hour, not the weekday: this reads each row's day."""
    heat: Counter = Counter()
    for day, k, n in DailyStat.objects.filter(
        site__in=sites, metric="visits", day__gte=start, day__lt=end
    ).values_list("day", "key", "value"):
        heat[(day.weekday(), int(parse_key(k)["hour"]))] += n
    return heat


@dataclass(frozen=True)
class HeatMap:
    """Visits by weekday and hour, fit to publish: a cell with fewer than SMALL_CELL visits is
    only said to be "few", its count is not kept at all. No total is given either, so nothing
    hidden can be recomputed by subtraction (no secondary suppression needed)."""

    start: dt.date
    end: dt.date  # exclusive
    counts: dict[tuple[int, int], int]  # (weekday, hour) → visits, SMALL_CELL or more
    few: frozenset[tuple[int, int]]  # cells with 1 to SMALL_CELL − 1 visits

    @property
    def peak(self) -> int:
        return max(self.counts.values(), default=0)

    @property
    def hours(self) -> set[int]:
        return {hour for _day, hour in (*self.counts, *self.few)}

    @property
    def weekdays(self) -> set[int]:
        return {day for day, _hour in (*self.counts, *self.few)}


def suppressed_heat_map(sites, start: dt.date, end: dt.date) -> HeatMap:
    """`visits_by_weekday_hour` with its small cells suppressed (see HeatMap), for public pages."""
    heat = visits_by_weekday_hour(sites, start, end)
    return HeatMap(
        start=start,
        end=end,
        counts={cell: n for cell, n in heat.items() if n >= SMALL_CELL},
        few=frozenset(cell for cell, n in heat.items() if 0 < n < SMALL_CELL),
    )


def suppress(cells: dict[str, int]) -> dict[str, str]:
    """Counts under 5 become "< 5"; if exactly one cell is hidden while the total is shown, the
    smallest other non-zero cell is hidden too, so nothing can be recomputed by subtraction."""
    shown = {name: str(n) for name, n in cells.items()}
    hidden = [name for name, n in cells.items() if 0 < n < SMALL_CELL]
    for name in hidden:
        shown[name] = "< 5"
    if len(hidden) == 1:
        others = sorted((n, name) for name, n in cells.items() if n >= SMALL_CELL)
        if others:
            # A bound strictly above the true value, or the hidden cell could be recomputed.
            shown[others[0][1]] = "≤ " + str(_round_up(others[0][0] + 1))
    return shown


def _round_up(n: int, step: int = 10) -> int:
    return ((n + step - 1) // step) * step
