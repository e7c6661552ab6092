"""`BENCH registration_burst`: 500 people register at once for a 20-place workshop.

A fresh site with a published 20-place workshop starting tomorrow; 500 registration attempts (each
with its own pseudonym and e-mail address, a CSRF cookie and token, the honeypot empty) go to the
public view `/events/<id>/register/` on gunicorn, 32 at a time. The rate is the attempts answered
by the expected 302 per second of the burst, against the bare view measured just before and just
after it. Five rounds, each on a new workshop; the median round's ratio is the figure (all five
are listed as `rounds=`). Target: a fifth of the bare rate.

After each round the database must agree: exactly 20 CONFIRMED and 480 WAITING, and the waiting list
(by created_at, pk) in the order the places were decided — every confirmed registration created
no later than every waiting one, created_at strictly increasing along the waiting list, and the
(created_at, pk) order the same as the insertion (pk) order — else the benchmark fails whatever
the rate.

E-mails: every attempt gives an address (so the one-place-per-address check runs, as for real
registrations), and each registration writes its e-mail to the outbox and asks for a drain on
commit. The gunicorn publishes those tasks to Celery's in-memory broker
(CELERY_BROKER_URL=memory://, not eager): a request pays for the outbox row and for queuing the
task, as in production, not for rendering the e-mail, which a worker does there; no worker or
Redis is needed, nothing is left in var/broker/ for a later worker, the queued messages vanish
with gunicorn, and the outbox rows go with the bench's site. EMAIL_BACKEND=locmem is only a
safety net: nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import sys
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench.load import Rate, measure_rate, ratios_text, rounds_against_bare
from bench.report import report
from bench.server import LOOPBACK, serve
from citedesmetiers.models import OutboxMessage, Site
from events.emails import MAIL
from events.models import Event, Registration

NAME = "registration_burst"
SLUG_PREFIX = "bench-regburst-"
# A site of this module older than this was left by an interrupted run: the next run deletes it.
LEFTOVER_AGE = dt.timedelta(minutes=10)

TARGET = 0.2
CAPACITY = 20
ATTEMPTS = 500
CONCURRENCY = 32
BARE_SECONDS = 4.0
ROUNDS = 5  # each on a new workshop; the median round is the figure
# An upper bound only: the burst ends when its ATTEMPTS bodies have been sent.
BURST_SECONDS = 45.0
SERVER_ENV = {
    # Every request comes from 127.0.0.1: the limits per address and per network would refuse
    # all but a few, and the proof-of-work check (a browser's job) would be asked of the rest.
    "EVENT_REGISTRATIONS_PER_HOUR": "100000",
    "EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR": "100000",
    "EVENT_CHALLENGE_DIFFICULTY": "0",
    "CELERY_BROKER_URL": "memory://",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def _make_site():
    _delete_leftovers()
    slug = f"{SLUG_PREFIX}{uuid.uuid4().hex[:8]}"
    return Site.objects.create(slug=slug, name=f"Bench {slug}")


def make_event(site, capacity: int = CAPACITY):
    """A published workshop of `site` with `capacity` places, starting tomorrow."""
    starts_at = timezone.now() + dt.timedelta(days=1)
    return Event.objects.create(
        site=site,
        title="Bench workshop",
        kind=Event.Kind.WORKSHOP,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        capacity=capacity,
        status=Event.Status.PUBLISHED,
    )


def delete_registration_mail(site) -> None:
    """The e-mails the registrations to `site`'s events left in the outbox (the registrations go
    with the site)."""
    ids = list(Registration.objects.filter(event__site=site).values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        OutboxMessage.objects.filter(
            name=MAIL, payload__registration__in=ids[start : start + 1000]
        ).delete()


def _delete_quietly(site) -> None:
    """The site with its event and registrations (cascade), and their e-mails waiting in the
    outbox; a failure is told on stderr (the next run retries), not raised over the benchmark's
    result."""
    try:
        delete_registration_mail(site)
        site.delete()
    except Exception as exc:
        print(f"# could not delete bench site {site.slug}: {exc}", file=sys.stderr, flush=True)


def _delete_leftovers() -> None:
    stale = Site.objects.filter(
        slug__startswith=SLUG_PREFIX, created__lt=timezone.now() - LEFTOVER_AGE
    )
    for site in stale:
        _delete_quietly(site)


def limit_keys(started) -> list[str]:
    """The counters of 127.0.0.1 and its network (events.guard) this run may have bumped (those
    of the run's own events do not matter)."""
    hours = {f"{started:%Y%m%d%H}", f"{timezone.now():%Y%m%d%H}"}
    network = LOOPBACK.rsplit(".", 1)[0] + ".0/24"
    return [
        key
        for hour in sorted(hours)
        for key in (f"events:register:{LOOPBACK}:{hour}", f"events:register-net:{network}:{hour}")
    ]


def limit_counters(keys: list[str]) -> dict[str, object]:
    return cache.get_many(keys)


def restore_limit(keys: list[str], before: dict[str, object]) -> None:
    """Put the counters of 127.0.0.1 back as they were: 500 attempts of this run must not make
    the default limit refuse the next registrations of a dev server or a test on this machine."""
    try:
        for key in keys:
            if key in before:
                cache.set(key, before[key], 3600)
            else:
                cache.delete(key)
    except Exception as exc:
        print(f"# could not restore the registration limit: {exc}", file=sys.stderr, flush=True)


def _get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _check_places(event) -> tuple[int, int, int, bool]:
    """Confirmed, waiting, other registrations, and whether the order is the decision order."""
    rows = list(
        Registration.objects.filter(event=event)
        .order_by("created_at", "pk")
        .values_list("pk", "status", "created_at")
    )
    confirmed = [created for _pk, status, created in rows if status == "confirmed"]
    waiting = [created for _pk, status, created in rows if status == "waiting"]
    others = len(rows) - len(confirmed) - len(waiting)
    ordered = (
        bool(confirmed)
        and bool(waiting)
        and max(confirmed) <= min(waiting)
        and all(a < b for a, b in itertools.pairwise(waiting))
        # pk comes from the INSERT, under the event lock: the order the places were decided.
        and [pk for pk, _status, _created in rows] == sorted(pk for pk, _s, _c in rows)
    )
    return len(confirmed), len(waiting), others, ordered


@dataclass
class Burst:
    rate: Rate
    confirmed: int
    waiting: int
    others: int
    ordered: bool

    @property
    def consistent(self) -> bool:
        return (
            self.confirmed == CAPACITY
            and self.waiting == ATTEMPTS - CAPACITY
            and self.others == 0
            and self.ordered
            and self.rate.requests == ATTEMPTS
        )


def run() -> bool:
    site = _make_site()
    started = timezone.now()
    limit_before = limit_counters(limit_keys(started))
    try:
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        headers = {
            "Cookie": f"csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        numbers = itertools.count(1)
        run_id = uuid.uuid4().hex[:6]

        def body() -> bytes:
            n = next(numbers)
            return urlencode(
                {
                    "pseudonym": f"Visitor {run_id} {n}",
                    "email": f"{site.slug}-{n}@bench.test",
                    "website": "",
                    "csrfmiddlewaretoken": csrf,
                }
            ).encode()

        with serve(env=SERVER_ENV) as server:

            def burst() -> Burst:
                """500 attempts at once on a new workshop, then what the database holds."""
                event = make_event(site)
                connection.close()  # no transaction of this process open while gunicorn writes
                rate = measure_rate(
                    server.url(f"/events/{event.pk}/register/"),
                    seconds=BURST_SECONDS,
                    concurrency=CONCURRENCY,
                    max_requests=ATTEMPTS,
                    warmup=0,
                    ok_statuses={302},
                    method="POST",
                    headers=headers,
                    body_factory=body,
                    timeout=30.0,
                )
                return Burst(rate, *_check_places(event))

            # The event page is public (published, active site): registrations can reach it.
            probe = make_event(site)
            status = _get_status(server.port, f"/events/{probe.pk}/")
            if status != 200:
                return report(
                    NAME,
                    float("nan"),
                    TARGET,
                    {"error": "event_page_not_public", "status": status},
                    valid=False,
                )
            median, rounds = rounds_against_bare(
                server,
                burst,
                lambda done: done.rate.rps,
                rounds=ROUNDS,
                seconds=BARE_SECONDS,
                concurrency=CONCURRENCY,
            )
    finally:
        _delete_quietly(site)
        restore_limit(limit_keys(started), limit_before)

    bare, burst = median.bare, median.result
    errors = sum(r.bare.errors + r.result.rate.errors for r in rounds)
    consistent = all(r.result.consistent for r in rounds)
    return report(
        NAME,
        median.ratio,
        TARGET,
        {
            "bare_rps": bare.rps,
            "registration_rps": burst.rate.rps,
            "p50_ms": burst.rate.p50_ms,
            "p95_ms": burst.rate.p95_ms,
            "rounds": ratios_text(rounds),
            "attempts": burst.rate.requests,
            "redirects": burst.rate.statuses.get(302, 0),
            "confirmed": burst.confirmed,
            "waiting": burst.waiting,
            "order": "ok" if all(r.result.ordered for r in rounds) else "broken",
            "consistent": consistent,
            "errors": errors,
            "workers": server.workers,
            "concurrency": CONCURRENCY,
        },
        valid=consistent and errors == 0,
    )
