"""`BENCH network_day`: a network's busiest hour, compressed, on one node and on two.

The installation we aim at serves a whole network: 26 sites, 12 desks and 4 waiting-room screens
each, the phone of every waiting visitor following their turn. The hour is played through HAProxy
(round-robin, no stickiness) and PgBouncer (transaction mode, `DATABASE_POOLED=true`), to
- (a) one node: one gunicorn with 2 workers;
- (b) two nodes: two gunicorns with 1 worker each, sharing PostgreSQL and Redis;
so that only the number of nodes differs. The figure is (b)'s requests per second over (a)'s, the
median of ROUNDS pairs (played a b, b a, a b: a drifting machine favours neither); target ≥ 0.9
— a second node costs nothing because nothing lives in a process.

The hour, compressed: CLIENTS clients play, as fast as the answers come, the people's actions in
the proportions of the demo history (`figures.history`, one month seeded on a bench site and
counted): a reception check-in per visit; per interview a desk cycle (start, then "finish and
call next"), the referred ones finishing with a referral to another desk; a catalogue search per
visitor who took a list away (over CATALOGUE resources); an event registration per registration.
Meanwhile the screens and the phones poll at their real pace (every LIVE_POLL_SECONDS), each
following its answer's `hx-get` as htmx does, so a changed site costs them a render. Every client
is its own identity (a counsellor's desk, a site's tablet, an event's page), on any node.

It prints requests/s of both, p50 and p95 per action (of (b)), errors (must be 0) and the
consistency checks, on every site after all rounds: tickets 1..N per letter without a gap and as
many visits as answered check-ins (`tickets_ok`); for each visit its calls, interviews and
referrals agree with its state, so nobody was called twice or lost (`calls_ok`); each event has
min(capacity, registrations) confirmed places and the rest waiting (`capacity_ok`); and HAProxy
spread (b)'s answers over both nodes (`balanced`).
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from contextlib import ExitStack
from urllib.parse import quote

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.db.models import Count, Q
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench import catalogue_data
from bench.bench_catalogue_search import COUNT as CATALOGUE
from bench.bench_catalogue_search import QUERIES
from bench.bench_registration_burst import SERVER_ENV as REGISTRATION_ENV
from bench.bench_registration_burst import (
    delete_registration_mail,
    limit_counters,
    limit_keys,
    make_event,
    restore_limit,
)
from bench.checks import ticket_numbers
from bench.load import Action, Day, Poll, measure_day
from bench.report import report
from bench.server import LOOPBACK, haproxy, pgbouncer, serve
from citedesmetiers import live
from citedesmetiers.facts import key
from citedesmetiers.live import current_mark
from citedesmetiers.models import OpeningPeriod, Partner, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import services
from counselling.models import Desk, DeskSession, Interview, Outcome
from events.models import Registration
from figures.history import seed_history
from figures.models import AggregatedDay, DailyStat
from reception.models import Call, TicketCounter, Visit

NAME = "network_day"
SLUG_PREFIX = "bench-net-"
LEFTOVER_AGE = dt.timedelta(minutes=30)
TARGET = 0.9

SITES = 26
DESKS = 12  # per site
SCREENS = 4  # per site
PHONES = 3  # per site: the last visitors of its queue, waiting all along
WAITING = 300  # per site before the load: more than its desks call in all the rounds
CAPACITY = 4  # places per event (one event per site): the busiest ones fill and queue
CLIENTS = 16
SECONDS = 10.0
WARMUP = 1.0
ROUNDS = 3
POOL_SIZE = 4  # PgBouncer's server connections: enough for 2 workers, the same for (a) and (b)

# The queues people join at reception; the desks serve them and refer some on to the third
# theme's desk (not played here), so a referral is always to another theme and stays waiting.
THEMES = [("E", "Find a job"), ("F", "Find a training"), ("A", "Create a business")]
SERVED = 2

START = ("POST", "/desk/start/", b"visit={visit}")
FINISH = b"visit={visit}&channel=in_person&then=call_next&outcomes="


# --- the proportions of the demo history ---------------------------------------------------------


def _history_shares(run: str) -> dict[str, float]:
    """Per action, how many a month of the demo history has, at a throwaway site laid out as
    the network's (its themes, its desks)."""
    site = Site.objects.create(slug=f"{SLUG_PREFIX}{run}-history", name="Bench history")
    partner, made = Partner.objects.get_or_create(
        name="Bench network partner", defaults={"kind": Partner.Kind.choices[0][0]}
    )
    try:
        themes = _themes(site)
        for n in range(1, DESKS + 1):
            Desk.objects.create(site=site, name=f"Desk {n}", order=n).themes.set(themes[:SERVED])
        seed_history(site, 1)
        stats = DailyStat.objects.filter(site=site)

        def total(metric: str, **parts) -> int:
            rows = stats.filter(metric=metric, **({"key": key(**parts)} if parts else {}))
            return sum(rows.values_list("value", flat=True))

        referrals = total("referrals")
        return {
            "check_in": total("visits"),
            "desk_cycle": total("interviews") - referrals,
            "referral": referrals,
            "search": total("take_away", what="lists"),
            "register": total("event_registered"),
        }
    finally:
        DailyStat.objects.filter(site=site).delete()
        AggregatedDay.objects.filter(site=site).delete()
        Desk.objects.filter(site=site).delete()
        site.delete()
        if made:
            partner.delete()


# --- data ----------------------------------------------------------------------------------------


def _themes(site) -> list[Theme]:
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(site=site, weekday=day, opens=dt.time(0), closes=dt.time(23, 59, 59))
        for day in range(7)
    )
    return Theme.objects.bulk_create(
        Theme(site=site, letter=letter, name=name, order=order)
        for order, (letter, name) in enumerate(THEMES)
    )


class Place:
    """One site of the network, as the benchmark plays it."""

    def __init__(self, slug: str) -> None:
        self.site = Site.objects.create(slug=slug, name=f"Bench {slug}")
        self.themes = _themes(self.site)
        self.desks: list[tuple[int, User]] = []  # (desk session id, counsellor)
        for n in range(1, DESKS + 1):
            counsellor = User.objects.create_user(email=f"{slug}-{n}@bench.test")
            grant_role(user=counsellor, role=Role.COUNSELLOR, site=self.site)
            desk = Desk.objects.create(site=self.site, name=f"Desk {n}", order=n)
            desk.themes.set(self.themes[:SERVED])
            self.desks.append((services.open_desk(counsellor=counsellor, desk=desk).pk, counsellor))
        self.agent = User.objects.create_user(email=f"{slug}-agent@bench.test")
        grant_role(user=self.agent, role=Role.RECEPTION, site=self.site)
        self._queue()
        self.event = make_event(self.site, capacity=CAPACITY)
        for session_id, counsellor in self.desks:
            if services.call_next(session_id=session_id, counsellor=counsellor) is None:
                raise RuntimeError("nobody waiting for a desk's first call")

    def _queue(self) -> None:
        """WAITING visitors in the served queues, with the ticket counters their check-ins left."""
        now = timezone.now()
        local_date = self.site.local_date(now)
        served = self.themes[:SERVED]
        visits = []
        for i in range(WAITING):
            theme = served[i % SERVED]
            at = now - dt.timedelta(hours=1) + dt.timedelta(milliseconds=i)
            visits.append(
                Visit(
                    site=self.site,
                    theme=theme,
                    first_theme=theme,
                    local_date=local_date,
                    letter=theme.letter,
                    number=i // SERVED + 1,
                    arrived_at=at,
                    queued_at=at,
                )
            )
        Visit.objects.bulk_create(visits)
        TicketCounter.objects.bulk_create(
            TicketCounter(
                site=self.site,
                local_date=local_date,
                letter=theme.letter,
                last_number=len([v for v in visits if v.theme == theme]),
            )
            for theme in served
        )

    def phones(self) -> list[str]:
        """The live paths of the last PHONES visitors of the queue (waiting all along)."""
        mark = current_mark(self.site.slug)
        tokens = Visit.objects.filter(site=self.site, status=Visit.Status.WAITING).order_by(
            "-queued_at"
        )[:PHONES]
        return [
            f"/t/{token}/live/?s={self.site.slug}&v={mark}"
            for token in tokens.values_list("token", flat=True)
        ]

    def screens(self) -> list[str]:
        mark = current_mark(self.site.slug)
        # As a screen asks between calls: its layout is due to change later (reception.board).
        due = int(timezone.now().timestamp()) + 3600
        return [f"/display/{self.site.slug}/live/?v={mark}&due={due}"] * SCREENS


def _browser(user: User | None) -> tuple[dict[str, str], str | None]:
    """A browser's headers: a CSRF cookie and token, and `user`'s session (made with the ORM in
    the shared database); with the session key, to delete."""
    csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    cookie, key = f"csrftoken={csrf}", None
    if user is not None:
        client = Client()
        client.force_login(user)
        key = client.cookies["sessionid"].value
        cookie = f"sessionid={key}; {cookie}"
    headers = {
        "Cookie": cookie,
        "X-CSRFToken": csrf,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return headers, key


def _held_visits(session_ids: list[int]) -> dict[int, int]:
    """The visitor each desk session's desk holds now (called or in interview), in one query."""
    rows = Visit.objects.filter(
        desk__sessions__in=session_ids,
        status__in=[Visit.Status.CALLED, Visit.Status.IN_INTERVIEW],
    ).values_list("desk__sessions", "pk")
    return dict(rows)


class Players:
    """Who plays the hour: every identity's headers, made once (sessions in the database)."""

    def __init__(self, places: list[Place], shares: dict[str, float]) -> None:
        self.places = places
        self.shares = shares
        self.session_keys: list[str] = []
        self.desks = []  # (session id, headers, refer theme id)
        for place in places:
            for session_id, counsellor in place.desks:
                headers, key = _browser(counsellor)
                self.session_keys.append(key)
                self.desks.append((session_id, headers, place.themes[SERVED].pk))
        self.tablets = []
        for place in places:
            headers, key = _browser(place.agent)
            self.session_keys.append(key)
            self.tablets += [(headers, theme.pk) for theme in place.themes[:SERVED]]
        self.public, _key = _browser(None)

    def actions(self) -> list[Action]:
        """The actions with their identities as they are now (the desks' visitors read afresh)."""
        referring = round(
            len(self.desks)
            * self.shares["referral"]
            / (self.shares["referral"] + self.shares["desk_cycle"])
        )
        held = _held_visits([session_id for session_id, _headers, _refer in self.desks])
        desks = [
            {
                "headers": headers,
                "shown": {"visit": str(held.get(session_id, "")), "refer": str(refer)},
            }
            for session_id, headers, refer in self.desks
        ]
        connection.close()
        # Each check-in its own key, as the tablet's form carries one, and each registration
        # its own address: `{n}` is new at every step of one play, the prefix at every play.
        play = uuid.uuid4().hex[:8]
        checkin = f"theme={{theme}}&checkin_key={play}-0000-4000-8000-{{n:012d}}".encode()
        register = (
            f"pseudonym=Visitor+{play}+{{n}}&email={play}-{{n}}%40bench.test&website="
            f"&csrfmiddlewaretoken={self.public['X-CSRFToken']}"
        ).encode()
        return [
            Action(
                "check_in",
                self.shares["check_in"],
                [("POST", "/reception/check-in/", checkin + b"&override_hours=on")],
                [{"headers": h, "shown": {"theme": str(t)}} for h, t in self.tablets],
                ok_statuses={302},
            ),
            Action(
                "desk_cycle",
                self.shares["desk_cycle"],
                [START, ("POST", "/desk/finish/", FINISH + b"information")],
                desks[referring:],
                ok_statuses={302},
            ),
            Action(
                "referral",
                self.shares["referral"],
                [
                    START,
                    (
                        "POST",
                        "/desk/finish/",
                        FINISH + b"referred_desk&refer_theme={refer}&referral_reason=other_view",
                    ),
                ],
                desks[:referring],
                ok_statuses={302},
            ),
            Action(
                "search",
                self.shares["search"],
                [("GET", "/catalogue/?q={q}", b"")],
                [
                    {"headers": {}, "shown": {"q": quote(QUERIES[n % len(QUERIES)])}}
                    for n in range(len(self.places))
                ],
                ok_statuses={200},
            ),
            Action(
                "register",
                self.shares["register"],
                [("POST", "/events/{event}/register/", register)],
                [
                    {"headers": self.public, "shown": {"event": str(place.event.pk)}}
                    for place in self.places
                    for _two_people in range(2)
                ],
                ok_statuses={302},
            ),
        ]

    def polls(self, interval: float) -> list[Poll]:
        screens = [path for place in self.places for path in place.screens()]
        phones = [path for place in self.places for path in place.phones()]
        connection.close()
        return [
            Poll("screen_poll", interval, screens, ok_statuses={200, 204}),
            Poll("phone_poll", interval, phones, ok_statuses={200, 204}),
        ]


# --- the checks ----------------------------------------------------------------------------------


def _tickets_ok(places: list[Place], expected_visits: int) -> bool:
    visits = 0
    for place in places:
        count, gapless = ticket_numbers(place.site)
        if not gapless:
            return False
        visits += count
    return visits == expected_visits


def _calls_ok(places: list[Place]) -> bool:
    """For every visit, calls (C), interviews (I) and referrals (R) agree with its state: done
    C = I = R + 1; called C = I + 1 = R + 1; waiting C = I = R; nobody left in an interview. A
    visit called twice, or a step lost, breaks one of these."""
    referred = Q(interviews__outcomes__code=Outcome.Code.REFERRED_DESK)
    rows = (
        Visit.objects.filter(site__in=[p.site for p in places])
        .annotate(
            c=Count("calls", filter=Q(calls__kind=Call.Kind.CALL), distinct=True),
            i=Count("interviews", distinct=True),
            r=Count("interviews", filter=referred, distinct=True),
        )
        .values_list("status", "c", "i", "r")
    )
    rules = {
        Visit.Status.DONE: lambda c, i, r: c == i == r + 1,
        Visit.Status.CALLED: lambda c, i, r: c == i + 1 == r + 1,
        Visit.Status.WAITING: lambda c, i, r: c == i == r,
    }
    called = 0
    for status, c, i, r in rows:
        rule = rules.get(status)
        if rule is None or not rule(c, i, r):
            return False
        called += status == Visit.Status.CALLED
    return called == sum(len(p.desks) for p in places)  # each desk holds its visitor


def _capacity_ok(places: list[Place], registered: int) -> bool:
    total = 0
    for place in places:
        statuses = list(
            Registration.objects.filter(event=place.event).values_list("status", flat=True)
        )
        confirmed = statuses.count(Registration.Status.CONFIRMED)
        waiting = statuses.count(Registration.Status.WAITING)
        if confirmed != min(CAPACITY, len(statuses)) or confirmed + waiting != len(statuses):
            return False
        total += len(statuses)
    return total == registered


# --- the run -------------------------------------------------------------------------------------


def _node_env(database_port: int) -> dict[str, str]:
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{LOOPBACK}:{database_port}"
        f"/{db['NAME']}"
    )
    return {**REGISTRATION_ENV, "DATABASE_URL": url, "DATABASE_POOLED": "true"}


def _play(players: Players, nodes: int, env: dict[str, str]) -> Day:
    """The hour on `nodes` gunicorns sharing 2 workers, behind one HAProxy."""
    actions, polls = players.actions(), players.polls(float(settings.LIVE_POLL_SECONDS))
    with ExitStack() as stack:
        servers = [stack.enter_context(serve(workers=2 // nodes, env=env)) for _ in range(nodes)]
        port = stack.enter_context(haproxy([s.port for s in servers]))
        return measure_day(
            f"http://{LOOPBACK}:{port}",
            actions,
            polls,
            connections=CLIENTS,
            seconds=SECONDS,
            warmup=WARMUP,
        )


def _balanced(day: Day) -> bool:
    answers = [n for name, n in day.served_by.items() if name.startswith("node")]
    return len(answers) == 2 and min(answers) >= 0.4 * sum(answers)


def _delete(sites: list[Site], session_keys: list[str]) -> None:
    """The sites with everything the hour left there, their staff and the staff's sessions; a
    failure is told on stderr (the next run deletes what is left), not raised over the result."""
    for site in sites:
        try:
            delete_registration_mail(site)
            Interview.objects.filter(desk__site=site).delete()
            Visit.objects.filter(site=site).delete()
            DeskSession.objects.filter(desk__site=site).delete()
            Desk.objects.filter(site=site).delete()
            site.delete()
            staff = User.objects.filter(email__startswith=f"{site.slug}-")
            staff.filter(email__endswith="@bench.test").delete()
            caches["live"].delete(live._key(site.slug))
        except Exception as exc:
            print(f"# could not delete bench site {site.slug}: {exc}", file=sys.stderr, flush=True)
    Session.objects.filter(session_key__in=session_keys).delete()


def _delete_leftovers() -> None:
    """Sites an interrupted run left behind (old enough not to be running)."""
    _delete(
        list(
            Site.objects.filter(
                slug__startswith=SLUG_PREFIX, created__lt=timezone.now() - LEFTOVER_AGE
            )
        ),
        [],
    )


def run() -> bool:
    _delete_leftovers()
    started = timezone.now()
    limit_before = limit_counters(limit_keys(started))
    _reused, _seconds, terms_before = catalogue_data.ensure(CATALOGUE)
    places: list[Place] = []
    players = None
    try:
        run_id = uuid.uuid4().hex[:6]
        shares = _history_shares(run_id)
        for n in range(SITES):  # one by one: what was made is deleted if one fails
            places.append(Place(f"{SLUG_PREFIX}{run_id}-{n}"))
        players = Players(places, shares)
        connection.close()
        with pgbouncer(connection.settings_dict, pool_size=POOL_SIZE) as database_port:
            env = _node_env(database_port)
            pairs = []
            for n in range(ROUNDS):
                order = (1, 2) if n % 2 == 0 else (2, 1)
                played = {nodes: _play(players, nodes, env) for nodes in order}
                pairs.append((played[1], played[2]))
        answered = {
            name: sum(day.answered(name, 302) for pair in pairs for day in pair)
            for name in ("check_in", "register")
        }
        tickets_ok = _tickets_ok(places, SITES * WAITING + answered["check_in"])
        calls_ok = _calls_ok(places)
        capacity_ok = _capacity_ok(places, answered["register"])
    finally:
        _delete([place.site for place in places], players.session_keys if players else [])
        if not catalogue_data.keep():
            catalogue_data.delete(terms_before)
        restore_limit(limit_keys(started), limit_before)
        connection.close()

    ranked = sorted(pairs, key=lambda pair: pair[1].rps / pair[0].rps if pair[0].rps else 0.0)
    one, two = ranked[(len(ranked) - 1) // 2]  # the median pair
    ratio = two.rps / one.rps if one.rps else float("nan")
    ratios = [b.rps / a.rps if a.rps else float("nan") for a, b in ranked]
    errors = sum(day.errors() + sum(day.broken.values()) for pair in pairs for day in pair)
    balanced = all(_balanced(b) for _a, b in pairs)
    figures = {
        "one_node_rps": one.rps,
        "two_nodes_rps": two.rps,
        "rounds": "/".join(f"{r:.2f}" for r in ratios),
    }
    for name, part in two.measure.items():
        figures[f"{name}_per_s"] = part["per_s"]
        figures[f"{name}_p50_ms"] = part["p50_ms"]
        figures[f"{name}_p95_ms"] = part["p95_ms"]
    polls = [two.measure[name]["statuses"] for name in ("screen_poll", "phone_poll")]
    answered_polls = sum(n for statuses in polls for n in statuses.values())
    figures.update(
        {
            # Unchanged polls (204, a cache read): few, as the compressed hour changes every
            # site's screens many times between two polls.
            "polls_unchanged": sum(s.get("204", 0) for s in polls) / max(1, answered_polls),
            "sites": SITES,
            "desks": SITES * DESKS,
            "screens": SITES * SCREENS,
            "phones": SITES * PHONES,
            "clients": CLIENTS,
            "tickets_ok": tickets_ok,
            "calls_ok": calls_ok,
            "capacity_ok": capacity_ok,
            "balanced": balanced,
            "errors": errors,
        }
    )
    consistent = tickets_ok and calls_ok and capacity_ok
    return report(NAME, ratio, TARGET, figures, valid=consistent and balanced and errors == 0)
