"""`BENCH catalogue_search`: searches per second of the real catalogue search against a naive
`icontains` search, over the same 100,000 resources, in the same run. Target: at least 10×.

Real: `resources.search.search(Filters(q=…), 1)`, the whole thing the catalogue page does —
the count, the first page of 20 ranked results (evaluated, with its purposes prefetched), the
facets over the whole result set and, when fewer than 3 results, the suggestion.
Naive: for each word of the query, `title|summary|keywords__icontains`, then the same count, the
first 20 ordered by title and the counts by kind.

Both run in this process, single thread, interleaved query by query through the same ~20
realistic French queries (accents, plurals), cycled for SECONDS in all after one untimed query
each; searches per second = searches / time spent in them; p95 latencies in ms.

Data (`bench.catalogue_data`): 100,000 resources bulk-inserted from `resources.demo.records`,
marked by `opinion = "bench-catalogue-v1"` (staff-only, not searched), on top of whatever the
database already holds (both searches see the same rows). They are deleted at the end, with the
suggestion terms they added; with BENCH_KEEP_CATALOGUE=1 they are kept and the next run reuses
them (a run that finds another number of marked rows deletes them and starts again).
"""

from __future__ import annotations

import math
import sys
import time

from django.db.models import Count, Q

from bench import catalogue_data
from bench.report import report
from resources.models import Resource
from resources.search import Filters, search

TARGET = 10.0
COUNT = 100_000
SECONDS = 20.0  # both searches together
REAL_REPEAT = 3
PAGE = 20
QUERIES = [
    "métiers santé",
    "formation alternance",
    "emploi numérique",
    "créer entreprise",
    "reconversion",
    "metiers du batiment",
    "hôtellerie restauration",
    "aides à la création",
    "bilan de compétences",
    "VAE",
    "CV",
    "entretien d'embauche",
    "petite enfance",
    "aide à la personne",
    "énergie environnement",
    "transport logistique",
    "offres d'emploi commerce",
    "diplômes agriculture",
    "se reconvertir dans l'industrie",
    "témoignages tourisme",
    "financer son projet",
]


def _real(q: str) -> int:
    results = search(Filters(q=q), 1)
    list(results.page.object_list)  # the page is lazy: evaluate it as the template does
    return results.total


def _naive(q: str) -> int:
    queryset = Resource.objects.filter(withdrawn=False)
    for word in q.split():
        queryset = queryset.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(keywords__icontains=word)
        )
    total = queryset.count()
    list(queryset.order_by("title", "pk")[:PAGE])
    list(queryset.order_by().values("kind").annotate(n=Count("pk")))
    return total


def _p95_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1] * 1000


def _measure(seconds: float) -> tuple[list[float], list[float]]:
    """The latencies of the real and the naive search, interleaved query by query over QUERIES
    (cycled) for `seconds` in all, so both see the same mix of queries and the same machine load:
    each query once naively and REAL_REPEAT times for real (the naive search takes seconds)."""
    _real(QUERIES[0]), _naive(QUERIES[0])  # warm-up: connection, plans, buffers
    real: list[float] = []
    naive: list[float] = []
    stop_at = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < stop_at:
        q = QUERIES[i % len(QUERIES)]
        for _ in range(REAL_REPEAT):
            started = time.perf_counter()
            _real(q)
            real.append(time.perf_counter() - started)
        started = time.perf_counter()
        _naive(q)
        naive.append(time.perf_counter() - started)
        i += 1
    return real, naive


def run() -> bool:
    reused, generation_s, terms_before = catalogue_data.ensure(COUNT)
    try:
        rows = Resource.objects.filter(withdrawn=False).count()
        real, naive = _measure(SECONDS)
    finally:
        if not catalogue_data.keep():
            try:
                catalogue_data.delete(terms_before)
            except Exception as exc:
                print(f"# could not delete the bench catalogue: {exc}", file=sys.stderr)
    real_rps = len(real) / sum(real)
    naive_rps = len(naive) / sum(naive)
    ratio = real_rps / naive_rps
    return report(
        "catalogue_search",
        ratio,
        TARGET,
        {
            "resources": rows,
            "real_rps": real_rps,
            "naive_rps": naive_rps,
            "real_p95_ms": _p95_ms(real),
            "naive_p95_ms": _p95_ms(naive),
            "real_n": len(real),
            "naive_n": len(naive),
            "queries": len(QUERIES),
            "data": "reused" if reused else f"generated_{generation_s:.0f}s",
        },
    )
