"""Baseline: `/healthz` (one query and a broker round trip) against a bare Django view.

Every other benchmark is read against the same bare view, so this one shows the machine and the
server set-up are sane: the probe must keep at least a fifth of what Django alone can serve.
"""

from __future__ import annotations

from bench.load import bare_around, measure_rate
from bench.report import report
from bench.server import serve

TARGET = 0.2
SECONDS = 5.0


def run() -> bool:
    with serve() as server:
        concurrency = 4 * server.workers
        bare, healthz = bare_around(
            server,
            lambda: measure_rate(server.url("/healthz"), seconds=SECONDS, concurrency=concurrency),
            seconds=SECONDS,
            concurrency=concurrency,
        )
    ratio = healthz.rps / bare.rps if bare.rps else float("nan")
    return report(
        "baseline",
        ratio,
        TARGET,
        {
            "bare_rps": bare.rps,
            "healthz_rps": healthz.rps,
            "bare_p95_ms": bare.p95_ms,
            "healthz_p95_ms": healthz.p95_ms,
            "errors": bare.errors + healthz.errors,
            "workers": server.workers,
            "concurrency": concurrency,
        },
        valid=bare.errors == 0 and healthz.errors == 0,
    )
