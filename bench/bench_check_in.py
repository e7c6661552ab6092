"""`BENCH check_in`: check-ins per second through the real view, against the bare view in the same
run.

Each request is what the reception tablet posts: a logged-in reception agent's session and CSRF
token, a fresh `checkin_key`, one theme of the site and "check in anyway" (so the opening hours do
not matter); the answer is a 302 to the ticket page. All check-ins take the same ticket counter
row lock (one theme, one letter), as tablets at one site do. Target: a fifth of the bare rate.

Five rounds, each with the bare view measured just before and just after the check-ins; the
median round's ratio is the figure (the line lists all five as `rounds=`).

Afterwards the database must agree with the responses: one visit per 302, ticket numbers 1..N
without a gap or a repeat (`consistent=yes`), else the benchmark fails whatever the rate.
"""

from __future__ import annotations

import datetime as dt
import http.client
import sys
import uuid
from urllib.parse import urlencode

from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench.checks import ticket_numbers
from bench.load import measure_rate, ratios_text, rounds_against_bare
from bench.report import report
from bench.server import LOOPBACK, serve
from citedesmetiers import live
from citedesmetiers.models import OpeningPeriod, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from reception.models import Visit

# A site of this module older than this was left by an interrupted run: the next run deletes it.
LEFTOVER_AGE = dt.timedelta(minutes=10)

TARGET = 0.2
SECONDS = 3.0
ROUNDS = 5  # the median round is the figure
# Bounds the bodies made up front (twice this with the warm-up); far above what SECONDS needs.
MAX_REQUESTS = 4000
PATH = "/reception/check-in/"


def _make_site():
    _delete_leftovers()
    slug = f"bench-checkin-{uuid.uuid4().hex[:8]}"
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


def _make_agent(site):
    """A reception agent of `site` and a logged-in session for them, in the shared database."""
    user = User.objects.create_user(email=f"{site.slug}-agent@bench.test")
    grant_role(user=user, role=Role.RECEPTION, site=site)
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _delete_site(site, session_key: str | None = None) -> None:
    """The site, its visits, its agent and (when known) the agent's session."""
    Visit.objects.filter(site=site).delete()
    site.delete()  # themes, opening hours, ticket counters, memberships
    User.objects.filter(email__startswith=f"{site.slug}-", email__endswith="@bench.test").delete()
    if session_key:
        Session.objects.filter(session_key=session_key).delete()
    caches["live"].delete(live._key(site.slug))


def _delete_quietly(site, session_key: str | None = None) -> None:
    """Delete the site's data; a failure is told on stderr (the next run retries), not raised
    over the benchmark's result."""
    try:
        _delete_site(site, session_key)
    except Exception as exc:
        print(f"# could not delete bench site {site.slug}: {exc}", file=sys.stderr, flush=True)


def _delete_leftovers() -> None:
    """Sites an interrupted run of this module left behind (old enough not to be running; their
    agent's session expires by itself)."""
    stale = Site.objects.filter(
        slug__startswith="bench-checkin-", created__lt=timezone.now() - LEFTOVER_AGE
    )
    for site in stale:
        _delete_quietly(site)


def _post(port: int, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        conn.close()


def run() -> bool:
    site = _make_site()
    session_key = None
    try:
        theme = site.themes.order_by("order").first()
        session_key = _make_agent(site)
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        headers = {
            "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        }

        def body() -> bytes:
            return urlencode(
                {"theme": theme.pk, "checkin_key": uuid.uuid4(), "override_hours": "on"}
            ).encode()

        connection.close()  # no transaction of this process open while gunicorn writes
        with serve() as server:
            concurrency = 4 * server.workers
            # One check-in first: a 302 to the ticket page, not to the login or the tablet.
            status, location = _post(server.port, headers, body())
            if status != 302 or "/reception/visits/" not in location:
                return report(
                    "check_in",
                    float("nan"),
                    TARGET,
                    {"error": "first_check_in_refused", "status": status, "location": location},
                    valid=False,
                )
            median, rounds = rounds_against_bare(
                server,
                lambda: measure_rate(
                    server.url(PATH),
                    seconds=SECONDS,
                    concurrency=concurrency,
                    max_requests=MAX_REQUESTS,
                    ok_statuses={302},
                    method="POST",
                    headers=headers,
                    body_factory=body,
                ),
                lambda checkins: checkins.rps,
                rounds=ROUNDS,
                seconds=SECONDS,
                concurrency=concurrency,
            )
        redirects = 1 + sum(
            r.result.warmup_statuses.get(302, 0) + r.result.statuses.get(302, 0) for r in rounds
        )
        visits, gapless = ticket_numbers(site)
        consistent = gapless and visits == redirects
    finally:
        _delete_quietly(site, session_key)

    bare, checkins = median.bare, median.result
    errors = sum(r.bare.errors + r.result.errors + r.result.warmup_errors for r in rounds)
    return report(
        "check_in",
        median.ratio,
        TARGET,
        {
            "bare_rps": bare.rps,
            "checkin_rps": checkins.rps,
            "checkin_p50_ms": checkins.p50_ms,
            "checkin_p95_ms": checkins.p95_ms,
            "rounds": ratios_text(rounds),
            "visits": visits,
            "redirects": redirects,
            "consistent": consistent,
            "errors": errors,
            "workers": server.workers,
            "concurrency": concurrency,
        },
        valid=consistent and errors == 0,
    )
