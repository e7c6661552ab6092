"""Two benchmarks of the desks' call next on PostgreSQL.

`BENCH call_next`: cycles per second with 16 desks at once, each cycle what a counsellor's
browser posts while people wait — start the interview, then "finish and call next" (outcome
"information") — through gunicorn, each desk its own logged-in counsellor on its own connection,
against the bare view measured just before and just after. Five rounds; the median round's ratio
is the figure (`rounds=` lists all five); it passes on `of_ceiling` = ratio / ceiling ≥ 0.5.
Afterwards as many visits must be done as cycles were answered, each called once, with one
interview, and each desk holding the one visitor its last cycle called (`consistent=yes`), else
it fails.

The line also gives `floor_ratio`: an authenticated POST that commits one UPDATE of the
counsellor's desk session in autocommit and answers 302 (`/bench/write/`), over the bare view,
measured in every round right after the cycles (`floor_rounds=`; the median is the figure). No
desk action can cost less, so `ceiling` = floor_ratio / requests per cycle is the best ratio a
cycle of that many requests could reach on this machine.

`BENCH call_next_scaling`: the median latency of one call next with 10,000 visits waiting over
the same with 10 waiting, at one desk of one site (the visitor is handed back after each call, so
the queue keeps its length); target ≤ 1.5, which only a plan that reads the queue in order from
an index can give. The line names that plan (`plan_10000=<index>+<sort>`).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
import uuid
from collections import Counter

from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Count, Q
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench.load import measure_cycles, ratios_text, rounds_against_bare
from bench.report import report
from bench.server import serve
from bench.urls import FLOOR_PATH
from citedesmetiers import live
from citedesmetiers.models import OpeningPeriod, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import services
from counselling.models import Desk, DeskSession, Interview
from counselling.services import _queue_head
from reception.models import Call, Visit

DESKS = 16
WAITING = 12_000  # several times what 16 desks get through in ROUNDS × SECONDS
FLOOR_SECONDS = 2.0
SECONDS = 4.0
ROUNDS = 5  # the median round is the figure
# A cycle's ratio over the best one of its requests could reach (`ceiling`): the product decision
# keeps "start the interview" a step of its own, so a cycle is two requests.
OF_CEILING_TARGET = 0.5

SCALING_SMALL = 10
SCALING_LARGE = 10_000
SCALING_CALLS = 100  # timed calls with the long queue; as many with the short one
SCALING_WARMUP = 5
SCALING_TARGET = 1.5

THEMES = [("E", "Find a job"), ("F", "Find a training"), ("A", "Create a business")]
# A site of this module older than this was left by an interrupted run: the next run deletes it.
LEFTOVER_AGE = dt.timedelta(minutes=10)


# --- data ----------------------------------------------------------------------------------------


def _make_site(kind: str, desks: int):
    """A site open all day with three themes and `desks` counsellors, each at an open desk
    serving every theme. Returns the site, its themes and each desk's (session id, counsellor)."""
    _delete_leftovers()
    slug = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    site = Site.objects.create(slug=slug, name=f"Bench {slug}")
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(site=site, weekday=day, opens=dt.time(0), closes=dt.time(23, 59, 59))
        for day in range(7)
    )
    themes = Theme.objects.bulk_create(
        Theme(site=site, letter=letter, name=name, order=order)
        for order, (letter, name) in enumerate(THEMES)
    )
    seats = []
    for n in range(1, desks + 1):
        counsellor = User.objects.create_user(email=f"{slug}-{n}@bench.test")
        grant_role(user=counsellor, role=Role.COUNSELLOR, site=site)
        desk = Desk.objects.create(site=site, name=f"Desk {n}", order=n)
        desk.themes.set(themes)
        session = services.open_desk(counsellor=counsellor, desk=desk)
        seats.append((session.pk, counsellor))
    return site, themes, seats


def _add_waiting(site, themes, count: int, *, first: int = 0) -> None:
    """`count` more waiting visits, round-robin over the themes, each queued after the last."""
    now = timezone.now()
    local_date = site.local_date(now)
    start = now - dt.timedelta(hours=2)
    visits = []
    for i in range(first, first + count):
        theme = themes[i % len(themes)]
        at = start + dt.timedelta(milliseconds=i)
        visits.append(
            Visit(
                site=site,
                theme=theme,
                first_theme=theme,
                local_date=local_date,
                letter=theme.letter,
                number=i // len(themes) + 1,
                arrived_at=at,
                queued_at=at,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=2000)
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: plan with today's numbers, not yesterday's.
        cursor.execute(f"ANALYZE {Visit._meta.db_table}")


def _delete_site(site) -> None:
    Interview.objects.filter(desk__site=site).delete()  # outcomes, topics
    Visit.objects.filter(site=site).delete()  # calls
    DeskSession.objects.filter(desk__site=site).delete()
    Desk.objects.filter(site=site).delete()
    site.delete()  # themes, opening hours, memberships, counters
    User.objects.filter(email__startswith=f"{site.slug}-", email__endswith="@bench.test").delete()
    caches["live"].delete(live._key(site.slug))


def _delete_leftovers() -> None:
    """Sites an interrupted run of this module left behind (old enough not to be running)."""
    stale = Site.objects.filter(
        Q(slug__startswith="bench-desks-") | Q(slug__startswith="bench-scaling-"),
        created__lt=timezone.now() - LEFTOVER_AGE,
    )
    for site in stale:
        _delete_quietly(site)


def _delete_quietly(site) -> None:
    """Delete the site's data; a failure is told on stderr (the next run retries), not raised
    over the benchmark's result."""
    try:
        _delete_site(site)
    except Exception as exc:
        print(f"# could not delete bench site {site.slug}: {exc}", file=sys.stderr, flush=True)


# --- BENCH call_next -----------------------------------------------------------------------------

# What a counsellor does while people wait: start the interview when the visitor sits down, then
# finish it and call the next visitor with one button. Each desk calls its first visitor before the
# load starts (`_first_calls`).
# Each form carries the visitor the page shows (`{visit}`), as the desk's do: the desk it came
# back to names them (`/desk/#visit-12`).
CYCLE = [
    ("POST", "/desk/start/", b"visit={visit}"),
    (
        "POST",
        "/desk/finish/",
        b"visit={visit}&channel=in_person&outcomes=information&then=call_next",
    ),
]
# One authenticated POST that commits one UPDATE and answers 302, the least any desk action
# costs: the best ratio a cycle of len(CYCLE) requests could reach is this one's over len(CYCLE).
FLOOR = [("POST", FLOOR_PATH, b"")]


def _desk_clients(seats) -> tuple[list[dict[str, str]], list[str]]:
    """Each counsellor's browser: a logged-in session (made with the ORM, in the shared database
    and cache) and a CSRF token. Returns their headers and the session keys (to delete)."""
    clients, keys = [], []
    for _session_id, counsellor in seats:
        browser = Client()
        browser.force_login(counsellor)
        key = browser.cookies["sessionid"].value
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        clients.append(
            {
                "Cookie": f"sessionid={key}; csrftoken={csrf}",
                "X-CSRFToken": csrf,
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
        keys.append(key)
    return clients, keys


def _first_calls(seats) -> None:
    """Each desk calls its first visitor, as a counsellor does on opening the desk."""
    for session_id, counsellor in seats:
        if services.call_next(session_id=session_id, counsellor=counsellor) is None:
            raise RuntimeError("nobody waiting for the first call")


def _shown(seats) -> list[dict[str, str]]:
    """The visitor each desk holds now, as its page shows them (read between rounds)."""
    shown = []
    for session_id, _counsellor in seats:
        visit = services.current_visit(DeskSession.objects.get(pk=session_id))
        shown.append({"visit": str(visit.pk) if visit else ""})
    connection.close()
    return shown


def _consistent(site, cycles: int, desks: int) -> bool:
    """As many visits done as cycles answered, each called once, by one desk, with one finished
    interview; and each desk holding the visitor its last cycle called, not yet in interview (a
    refused step shows as a missing or extra visit)."""
    calls = Counter(Call.objects.filter(site=site).values_list("visit_id", flat=True))
    done = set(
        Visit.objects.filter(site=site, status=Visit.Status.DONE).values_list("pk", flat=True)
    )
    called = set(
        Visit.objects.filter(site=site, status=Visit.Status.CALLED).values_list("pk", flat=True)
    )
    in_interview = Visit.objects.filter(site=site, status=Visit.Status.IN_INTERVIEW).exists()
    interviews = (
        Interview.objects.filter(desk__site=site).values("visit_id").annotate(n=Count("pk"))
    )
    open_interviews = Interview.objects.filter(desk__site=site, ended_at__isnull=True).exists()
    one_each = {row["visit_id"] for row in interviews if row["n"] == 1}
    return (
        len(done) == cycles
        and len(called) == desks
        and set(calls) == done | called
        and all(n == 1 for n in calls.values())
        and one_each == done
        and not in_interview
        and not open_interviews
    )


def run_call_next() -> bool:
    site, themes, seats = _make_site("desks", DESKS)
    keys: list[str] = []
    try:
        _add_waiting(site, themes, WAITING)
        _first_calls(seats)
        clients, keys = _desk_clients(seats)
        connection.close()  # no transaction of this process open while gunicorn writes
        with serve() as server:
            # Each round: bare, the desk cycles, the floor, bare again.
            median, rounds = rounds_against_bare(
                server,
                lambda: (
                    measure_cycles(
                        server.base_url, CYCLE, clients, shown=_shown(seats), seconds=SECONDS
                    ),
                    measure_cycles(server.base_url, FLOOR, clients, seconds=FLOOR_SECONDS),
                ),
                lambda measured: measured[0].rps,
                rounds=ROUNDS,
                seconds=SECONDS,
                concurrency=4 * server.workers,
            )
        answered = sum(
            cycles.requests + cycles.warmup_statuses.get(302, 0) // len(CYCLE)
            for cycles, _floor in (r.result for r in rounds)
        )
        consistent = _consistent(site, answered, DESKS)
        left_waiting = Visit.objects.filter(site=site, status=Visit.Status.WAITING).count()
    finally:
        _delete_quietly(site)
        Session.objects.filter(session_key__in=keys).delete()
        connection.close()

    bare, (cycles, _floor) = median.bare, median.result
    errors = sum(
        r.bare.errors + rate.errors + rate.warmup_errors for r in rounds for rate in r.result
    )
    floors = sorted(r.result[1].rps / r.bare.rps if r.bare.rps else float("nan") for r in rounds)
    floor_ratio = statistics.median(floors)
    ceiling = floor_ratio / len(CYCLE)
    of_ceiling = median.ratio / ceiling if ceiling else float("nan")
    return report(
        "call_next",
        median.ratio,
        OF_CEILING_TARGET,
        {
            "bare_rps": bare.rps,
            "cycles_per_s": cycles.rps,
            "cycle_p50_ms": cycles.p50_ms,
            "cycle_p95_ms": cycles.p95_ms,
            "rounds": ratios_text(rounds),
            "cycles": answered,
            "requests_per_cycle": len(CYCLE),
            "floor_ratio": floor_ratio,
            "floor_rounds": "/".join(f"{f:.2f}" for f in floors),
            "ceiling": ceiling,
            "of_ceiling": of_ceiling,
            "desks": DESKS,
            "waiting": WAITING,
            "left_waiting": left_waiting,
            "consistent": consistent,
            "errors": errors,
            "workers": server.workers,
        },
        valid=consistent and errors == 0 and left_waiting > 0,
        judged="of_ceiling",
    )


# --- BENCH call_next_scaling ---------------------------------------------------------------------


def _timed_calls(session_id: int, counsellor, calls: int) -> list[float]:
    """`calls` call-nexts (after a few untimed), each timed in ms; the visitor is handed back
    after each, so the queue keeps its length."""
    timings = []
    for n in range(SCALING_WARMUP + calls):
        started = time.perf_counter()
        visit = services.call_next(session_id=session_id, counsellor=counsellor)
        took = time.perf_counter() - started
        if visit is None:
            raise RuntimeError("call next found nobody waiting")
        services.hand_back(session_id=session_id, counsellor=counsellor, visit_id=visit.pk)
        if n >= SCALING_WARMUP:
            timings.append(took * 1000)
    return timings


def _plan(session) -> str:
    """The index call next's queue query reads and how it sorts, e.g.
    `visit_site_queue_idx+no_sort`."""
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = _queue_head(session)
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (row,) = cursor.fetchone()
    nodes, found = [(json.loads(row) if isinstance(row, str) else row)[0]["Plan"]], []
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if node.get("Relation Name") == "reception_visit":
            found.append(node.get("Index Name") or node["Node Type"].lower().replace(" ", "_"))
        if node["Node Type"] in ("Sort", "Incremental Sort"):
            found.append(node["Node Type"].lower().replace(" ", "_"))
    return "+".join(found) if found else "?"


def run_call_next_scaling() -> bool:
    """One site, one desk: the short queue is timed before and after the long one (A-B-A), so a
    steady change of load on the machine weighs on both medians alike."""
    site, themes, ((session_id, counsellor),) = _make_site("scaling", 1)
    try:
        session = DeskSession.objects.select_related("desk").get(pk=session_id)
        waiting = Visit.objects.filter(site=site, status=Visit.Status.WAITING)
        _add_waiting(site, themes, SCALING_SMALL)
        short_queue = list(waiting.values_list("pk", flat=True))
        small = _timed_calls(session_id, counsellor, SCALING_CALLS // 2)
        _add_waiting(site, themes, SCALING_LARGE - SCALING_SMALL, first=SCALING_SMALL)
        counts = [waiting.count()]
        plan = _plan(session)
        large = _timed_calls(session_id, counsellor, SCALING_CALLS)
        with connection.cursor() as cursor:
            # Back to the short queue. The long one's visits were never called: nothing refers
            # to them, so plain SQL can remove them.
            cursor.execute(
                f"DELETE FROM {Visit._meta.db_table} WHERE site_id = %s AND NOT (id = ANY(%s))",
                [site.pk, short_queue],
            )
            cursor.execute(f"ANALYZE {Visit._meta.db_table}")
        counts.append(waiting.count())
        small += _timed_calls(session_id, counsellor, SCALING_CALLS - SCALING_CALLS // 2)
    finally:
        _delete_quietly(site)
        connection.close()

    small_ms, large_ms = statistics.median(small), statistics.median(large)
    ratio = large_ms / small_ms if small_ms else float("nan")
    return report(
        "call_next_scaling",
        ratio,
        SCALING_TARGET,
        {
            f"median_{SCALING_SMALL}_ms": small_ms,
            f"median_{SCALING_LARGE}_ms": large_ms,
            "calls": SCALING_CALLS,
            f"plan_{SCALING_LARGE}": plan,
        },
        higher_is_better=False,
        valid=counts == [SCALING_LARGE, SCALING_SMALL],
    )


def run() -> bool:
    # Both, whatever the first gives: each prints its own BENCH line.
    cycles = run_call_next()
    scaling = run_call_next_scaling()
    return cycles and scaling
