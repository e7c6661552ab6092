"""`BENCH display_poll`: an unchanged live poll (waiting-room screen and visitor's phone) against
the bare view, in the same run.

A screen polls every LIVE_POLL_SECONDS with the change mark it has; when nothing changed the
answer is an empty 204 from the `live` cache, before the session or the database is touched (see
`citedesmetiers.live.live_poll`). So tens of screens must cost little more than Django alone:
the slower of the two polls must keep at least half the bare view's rate.

The mark is read here with the ORM process's `live` cache and sent to gunicorn, so both must share
it: Redis when REDIS_URL is set (gunicorn inherits the environment), else the files under
VAR_DIR/live. A first poll checks that before the load starts.
"""

from __future__ import annotations

import datetime as dt
import http.client
import sys
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from bench.load import bare_around, measure_rate
from bench.report import report
from bench.server import LOOPBACK, serve
from citedesmetiers import live
from citedesmetiers.live import current_mark
from citedesmetiers.models import OpeningPeriod, Site, Theme
from reception import services
from reception.models import Visit

# A site of this module older than this was left by an interrupted run: the next run deletes it.
LEFTOVER_AGE = dt.timedelta(minutes=10)

TARGET = 0.5
SECONDS = 4.0


def _make_site():
    _delete_leftovers()
    slug = f"bench-poll-{uuid.uuid4().hex[:8]}"
    site = Site.objects.create(slug=slug, name=f"Bench {slug}")
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(site=site, weekday=day, opens=dt.time(0), closes=dt.time(23, 59, 59))
        for day in range(7)
    )
    Theme.objects.bulk_create(
        Theme(site=site, letter=letter, name=name, order=order)
        for order, (letter, name) in enumerate(
            [("E", "Find a job"), ("F", "Find a training"), ("A", "Create a business")]
        )
    )
    return site


def _delete_site(site) -> None:
    Visit.objects.filter(site=site).delete()
    site.delete()  # themes, opening hours, ticket counters, calls
    caches["live"].delete(live._key(site.slug))


def _delete_quietly(site) -> None:
    """Delete the site's data; a failure is told on stderr (the next run retries), not raised
    over the benchmark's result."""
    try:
        _delete_site(site)
    except Exception as exc:
        print(f"# could not delete bench site {site.slug}: {exc}", file=sys.stderr, flush=True)


def _delete_leftovers() -> None:
    """Sites an interrupted run of this module left behind (old enough not to be running)."""
    stale = Site.objects.filter(
        slug__startswith="bench-poll-", created__lt=timezone.now() - LEFTOVER_AGE
    )
    for site in stale:
        _delete_quietly(site)


def _status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run() -> bool:
    site = _make_site()
    try:
        theme = site.themes.first()
        visit, _created = services.check_in(site=site, theme_id=theme.pk, override_hours=True)
        # After the check-in committed (it replaced the mark): the mark every screen now has.
        mark = current_mark(site.slug)
        connection.close()  # nothing more from the database here while gunicorn runs
        # As the screen asks between calls: its layout is due to change later (reception.board).
        due = int(timezone.now().timestamp()) + 3600
        display_path = f"/display/{site.slug}/live/?v={mark}&due={due}"
        visitor_path = f"/t/{visit.token}/live/?s={site.slug}&v={mark}"

        with serve() as server:
            concurrency = 4 * server.workers
            first = {path: _status(server.port, path) for path in (display_path, visitor_path)}
            if any(status != 204 for status in first.values()):
                # gunicorn sees another mark: the live cache is not shared with this process.
                return report(
                    "display_poll",
                    float("nan"),
                    TARGET,
                    {
                        "error": "first_poll_not_204",
                        "display": first[display_path],
                        "visitor": first[visitor_path],
                    },
                    valid=False,
                )

            def polls():
                display = measure_rate(
                    server.url(display_path),
                    seconds=SECONDS,
                    concurrency=concurrency,
                    ok_statuses={204},
                )
                phone = measure_rate(
                    server.url(visitor_path),
                    seconds=SECONDS,
                    concurrency=concurrency,
                    ok_statuses={204},
                )
                return display, phone

            bare, (display, phone) = bare_around(
                server, polls, seconds=SECONDS, concurrency=concurrency
            )
    finally:
        _delete_quietly(site)

    poll_rps = min(display.rps, phone.rps)
    ratio = poll_rps / bare.rps if bare.rps else float("nan")
    errors = bare.errors + display.errors + phone.errors
    return report(
        "display_poll",
        ratio,
        TARGET,
        {
            "bare_rps": bare.rps,
            "display_rps": display.rps,
            "visitor_rps": phone.rps,
            "display_p95_ms": display.p95_ms,
            "visitor_p95_ms": phone.p95_ms,
            "live_cache": "redis" if _uses_redis() else "files",
            "errors": errors,
            "workers": server.workers,
            "concurrency": concurrency,
        },
        valid=errors == 0,
    )


def _uses_redis() -> bool:
    return "redis" in settings.CACHES["live"]["BACKEND"].lower()
