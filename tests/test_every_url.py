"""Every address of the product, sent what a script would send: malformed path values (ids beyond
2⁶³, ids of another site, Unicode digits, 10,000 characters, right-to-left marks, SQL-looking
text) and every query and form parameter the code reads set to malformed values — as anonymous
visitors and as each role the address lets in (and one of those it turns away at the door), with
and without a CSRF token.

Nothing may answer 5xx (the test client raises the view's exception), and where the answer is a
refusal (4xx, or a redirect carrying an error), no row of ours may have changed: every INSERT,
UPDATE or DELETE that touches a row is counted at the database connection.

The Django admin and allauth's pages are other projects' code (the admin's scoping is tried by
tests/test_admin_scope.py)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.messages import constants as message_levels
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.http import urlencode

from counselling import planning
from counselling import services as desk
from counselling.models import PlanException, PlanMode
from events.models import Registration
from reception import services as reception
from resources.models import Resource
from tests.booking_fixtures import book_one, free_slots, plan_appointments, slot_param
from tests.counselling_fixtures import make_desk
from tests.events_fixtures import make_event

ROOT = Path(__file__).resolve().parent.parent
OTHER_PROJECTS = ("admin/", "accounts/", "i18n/", "^static", "static/", "favicon.ico")
FORM_TYPE = "application/x-www-form-urlencoded"
# Tables whose writes are bookkeeping, not changes a refusal must not make.
BOOKKEEPING = ("django_session", "cdm_cache", "allauth_", "resources_searchcount")

# Values that match a path converter's pattern (or not: then the resolver answers 404).
PATH_VALUES = {
    "id": ["0", "9" * 18],
    "int": ["0", "9" * 18],
    "slug": ["nowhere", "-", "a" * 300],
    "str": ["x", "' OR '1'='1", "\u202e\u200fA", "١٢", "A" * 10_000, "..%2F..%2Fetc"],
    "uuid": ["00000000-0000-0000-0000-000000000000"],
    "path": ["x"],
}
# Values for every query and form parameter.
FIELD_VALUES = [
    "",
    "x" * 10_000,
    "\u202e\u200f",
    "' OR 1=1 --",
    "-1",
    "9" * 25,
    "²",
    "１２",
    "<script>alert(1)</script>",
    ["a", "b"],
]


def parameter_names() -> list[str]:
    """Every query and form parameter our code reads, found in its source."""
    names = set()
    apps = [d for d in ROOT.iterdir() if d.is_dir() and d.name not in ("tests", "bench", ".venv")]
    for path in (path for app in apps for path in app.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        names |= set(re.findall(r"request\.(?:GET|POST)\.(?:get|getlist)\(\s*\"(\w+)\"", text))
        if path.name.endswith("forms.py"):
            names |= set(re.findall(r"^\s+(\w+) = (?:forms\.\w+|\w+Field)\(", text, re.M))
    return sorted(names)


PARAMETERS = parameter_names()


def our_patterns() -> list[tuple[str, URLPattern]]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not route.startswith(OTHER_PROJECTS):
                    yield from walk(pattern.url_patterns, route)
            elif not route.startswith(OTHER_PROJECTS):
                yield route, pattern

    return list(walk(get_resolver().url_patterns))


ROUTES = [route for route, _pattern in our_patterns()]
VIEWS = dict(our_patterns())
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


# --- the world the requests arrive in -------------------------------------------------------------


@dataclass
class World:
    mine: dict[str, str]  # a real value of each path parameter, at Alpha
    others: dict[str, str]  # the same, at Beta
    fields: dict[str, str]  # real ids for form and query fields, at Alpha


@pytest.fixture
def world(mfa_enrolled) -> World:
    centre = mfa_enrolled
    alpha_theme = centre.alpha.themes.get(letter="E")
    desk_one = make_desk(centre.alpha, "Desk 1", "E", "F", order=1)
    session = desk.open_desk(counsellor=centre.counsellor_a, desk=desk_one)
    held, _ = reception.check_in(site=centre.alpha, theme_id=alpha_theme.pk)
    waiting, _ = reception.check_in(site=centre.alpha, theme_id=alpha_theme.pk)
    desk.call_next(session_id=session.pk, counsellor=centre.counsellor_a)
    desk.start_interview(session_id=session.pk, counsellor=centre.counsellor_a, visit_id=held.pk)
    beta_visit, _ = reception.check_in(
        site=centre.beta, theme_id=centre.beta.themes.get(letter="E").pk
    )
    event = make_event(centre.alpha, capacity=10)
    beta_event = make_event(centre.beta, capacity=10)
    registration = Registration.objects.create(
        event=event, status=Registration.Status.CONFIRMED, pseudonym="Sam"
    )
    beta_registration = Registration.objects.create(
        event=beta_event, status=Registration.Status.CONFIRMED, pseudonym="Kim"
    )
    resource = Resource.objects.create(title="Guide", kind=Resource.Kind.BOOK)
    beta_desk = make_desk(centre.beta, "Desk B", "E", order=1)
    planned, beta_planned = (
        planning.plan_session(
            site=site,
            desk_id=planned_desk.pk,
            partner_id=centre.partner_a.pk,
            theme_ids=[site.themes.get(letter="E").pk],
            mode=PlanMode.WALK_IN,
            weekday=0,
            starts=dt.time(10),
            ends=dt.time(12),
            valid_from=dt.date(2026, 3, 2),
        )
        for site, planned_desk in ((centre.alpha, desk_one), (centre.beta, beta_desk))
    )
    closed, beta_closed = (
        planning.add_exception(
            site=site, day=dt.date(2026, 5, 1), kind=PlanException.Kind.SITE_CLOSED
        )
        for site in (centre.alpha, centre.beta)
    )
    # Appointment hours, a booked appointment (its secret link) and a free time to choose.
    bookable = plan_appointments(centre)
    secret = book_one(bookable)
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    common = {"year": str(last_month.year), "month": f"{last_month.month:02d}"}
    return World(
        mine={
            **common,
            "visit_id": str(waiting.pk),
            "desk_id": str(desk_one.pk),
            "event_id": str(event.pk),
            "registration_id": str(registration.pk),
            "resource_id": str(resource.pk),
            "site_slug": "alpha",
            "token": held.token,
            "code": "AAAA-BBBB",
            "table": "visits_by_theme",
            "session_id": str(planned.pk),
            "exception_id": str(closed.pk),
            "secret": secret,
        },
        fields={
            "visit": str(held.pk),
            "theme": str(alpha_theme.pk),
            "resource": str(resource.pk),
            "event": str(event.pk),
            "site": str(centre.alpha.pk),
            "checkin_key": str(uuid.uuid4()),
            "desk": str(desk_one.pk),
            "partner": str(centre.partner_a.pk),
            "themes": str(alpha_theme.pk),
            "counsellor": str(centre.counsellor_a.pk),
            "slot": slot_param(free_slots(bookable, "in_person")[0]),
        },
        others={
            **common,
            "visit_id": str(beta_visit.pk),
            "desk_id": str(beta_desk.pk),
            "event_id": str(beta_event.pk),
            "registration_id": str(beta_registration.pk),
            "site_slug": "beta",
            "token": beta_visit.token,
            "session_id": str(beta_planned.pk),
            "exception_id": str(beta_closed.pk),
        },
    )


PERSONAS = ["anonymous", "reception", "counsellor_a", "officer", "organiser", "manager"]


def client_for(centre, persona: str, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if persona != "anonymous":
        client.force_login(
            getattr(centre, persona), backend="citedesmetiers.auth_backends.ModelBackend"
        )
    return client


def fill(route: str, values: dict[str, str], fallback: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        kind, name = match.group(1) or "str", match.group(2)
        return values.get(name) or fallback.get(name) or PATH_VALUES.get(kind, ["x"])[0]

    return "/" + CONVERTER.sub(value, route)


# --- counting the rows a request changes ---------------------------------------------------------


class RowWrites:
    """Rows of our tables that statements inserted, updated or deleted."""

    def __init__(self):
        self.rows: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        verb = sql.lstrip().split(" ", 1)[0].upper()
        touched = context["cursor"].rowcount or 0
        ours = not any(table in sql for table in BOOKKEEPING)
        if verb in ("INSERT", "UPDATE", "DELETE") and ours and touched > 0:
            self.rows.append(sql[:160])
        return result


def _to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith("/accounts/login/")


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    storage = getattr(response.wsgi_request, "_messages", None)
    queued = getattr(storage, "_queued_messages", []) if storage is not None else []
    return any(message.level >= message_levels.WARNING for message in queued)


def send(client: Client, method: str, url: str, data, form=False) -> tuple[object, list[str]]:
    """`form`: a POST's body urlencoded, as a browser's form sends it (the test client's own is
    multipart: both give the view the same QueryDict, and urlencoded is far cheaper to parse)."""
    writes = RowWrites()
    with connection.execute_wrapper(writes):
        if method == "post" and form:
            response = client.post(url, urlencode(data, doseq=True), content_type=FORM_TYPE)
        else:
            response = getattr(client, method)(url, data)
    assert response.status_code < 500, (method, url, response.status_code)
    return response, writes.rows


def check(client, method, url, data=None, form=False):
    response, rows = send(client, method, url, data or {}, form)
    if refused(response):
        assert rows == [], (
            f"{method.upper()} {url} was refused ({response.status_code}) yet wrote {rows}"
        )
    return response


# --- the tests ------------------------------------------------------------------------------------


def malformed_path_values(world, centre, route):
    names = _names(route)
    for persona in PERSONAS:
        client = client_for(centre, persona)
        variants = [fill(route, {}, world.mine), fill(route, world.others, world.mine)]
        for kind, name in CONVERTER.findall(route):
            for value in PATH_VALUES.get(kind or "str", ["x"]):
                variants.append(fill(route, {name: value}, world.mine))
        for url in dict.fromkeys(variants) if names else [fill(route, {}, world.mine)]:
            for method in ("get", "post"):
                check(client, method, url)


def malformed_parameters(world, centre, route):
    """Every value in every parameter, as each persona the address lets in. Of the personas it
    turns away at the door (refused without reading a field: the access check), one per method:
    what the others' requests run is the same middleware and the same refusal."""
    url = fill(route, {}, world.mine)
    with ReadFields() as read:
        swept_at_the_door = set()  # (method, the door's answer)
        for persona in PERSONAS:
            client = client_for(centre, persona)
            for method in ("get", "post"):
                read.names.clear()
                baseline = check(client, method, url)
                turned_away = refused(baseline) or _to_login(baseline)
                if turned_away and not read.names - READ_BY_EVERY_REQUEST:
                    door = (method, "login" if _to_login(baseline) else baseline.status_code)
                    if door in swept_at_the_door:
                        continue
                    swept_at_the_door.add(door)
                for value in FIELD_VALUES:
                    check(client, method, url, dict.fromkeys(PARAMETERS, value), form=True)


def posts_without_their_csrf_token(world, centre, route):
    url = fill(route, {}, world.mine)
    for persona in PERSONAS:
        response = check(client_for(centre, persona, csrf=True), "post", url)
        # No view of ours is exempt: the CSRF check refuses before any view runs.
        assert response.status_code == 403, (persona, url, response.status_code)


# Path parameters naming an object of one site (World.others has Beta's).
SITE_BOUND = {
    "visit_id",
    "desk_id",
    "event_id",
    "registration_id",
    "site_slug",
    "place",
    "session_id",
    "exception_id",
}


def _names(route: str) -> set[str]:
    return {name for _kind, name in CONVERTER.findall(route)}


STAFF_ROUTES = [
    route
    for route in ROUTES
    if getattr(VIEWS[route].callback, "staff_roles", None) and _names(route) & SITE_BOUND
]


@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_another_sites_objects_are_refused_to_each_role_here(world, mfa_enrolled, route):
    others = fill(route, {**world.others, "place": "beta"}, world.mine)
    for persona in PERSONAS[1:]:
        client = client_for(mfa_enrolled, persona)
        for method in ("get", "post"):
            response = check(client, method, others, {**PLAUSIBLE, **world.fields})
            assert refused(response), (persona, method, others, response.status_code)


# --- one malformed field among plausible ones -----------------------------------------------------

# A plausible value of each parameter, so that a form gets past its other fields and the one
# malformed field is what the code has to deal with (ids come from the world).
PLAUSIBLE = {
    "pseudonym": "Sam",
    "email": "sam@example.org",
    "website": "",
    "channel": "in_person",
    "outcomes": "information",
    "reason": "child",
    "month": "2026-11",
    "q": "cv",
    "tq": "cv",
    "s": "alpha",
    "next": "/staff/",
    "from": "2026-12-01",
    "page": "1",
    "delta": "1",
    "attended": "1",
    "force": "1",
    "format": "csv",
    # the presence plan's forms (desk, partner, themes and counsellor come from the world)
    "week": "2026-03-02",
    "weekday": "1",
    "starts": "14:00",
    "ends": "16:00",
    "valid_from": "2026-03-02",
    "last_day": "2026-06-30",
    "mode": "walk_in",
    "kind": "extra_session",
    "day": "2026-03-05",
    "label": "Forum",
}
# (Long texts and the rest are sent to every field at once by the sweep above.)
SHORT_VALUES = ["", "9" * 25, "１２", ["a", "b"]]


# Fields read before any view runs, whoever asks: the CSRF check's token, the language switch.
READ_BY_EVERY_REQUEST = {"csrfmiddlewaretoken", "lang"}


class ReadFields:
    """The names of the query and form fields a request's code reads (recorded on QueryDict
    while inside `with ReadFields() as read:`)."""

    def __init__(self):
        self.names: set[str] = set()
        self._patch = pytest.MonkeyPatch()

    def __enter__(self):
        for method in ("get", "getlist", "__getitem__", "__contains__"):
            original = getattr(QueryDict, method)
            self._patch.setattr(QueryDict, method, self._recording(original))
        return self

    def __exit__(self, *exc):
        self._patch.undo()

    def _recording(self, original):
        def read(query, key, *args, **kwargs):
            # A QueryDict being built asks `key in self` of every key it is given: only the
            # reads of a finished (immutable) request's fields are the code's.
            if isinstance(key, str) and not query._mutable:
                self.names.add(key)
            return original(query, key, *args, **kwargs)

        return read


def one_malformed_field_among_plausible_ones(world, centre, route):
    url = fill(route, {}, world.mine)
    plausible = {**PLAUSIBLE, **world.fields}
    with ReadFields() as read:
        for persona in PERSONAS:
            client = client_for(centre, persona)
            for method in ("get", "post"):
                read.names.clear()
                baseline = check(client, method, url, plausible)
                if baseline.status_code in (403, 404, 405) or _to_login(baseline):
                    continue  # not this persona's page: its fields are never read
                for name in sorted(read.names - {"csrfmiddlewaretoken"}):
                    for value in SHORT_VALUES:
                        check(client, method, url, {**plausible, name: value})


SWEEPS = [
    malformed_path_values,
    malformed_parameters,
    one_malformed_field_among_plausible_ones,
    posts_without_their_csrf_token,
]


@pytest.mark.parametrize("route", ROUTES)
def test_the_address_refuses_bad_input_cleanly(world, mfa_enrolled, subtests, route):
    """Each sweep from the same world (what one wrote is undone before the next): the world
    costs more to build than most sweeps."""
    for sweep in SWEEPS:
        with subtests.test(sweep.__name__), transaction.atomic():
            try:
                sweep(world, mfa_enrolled, route)
            finally:
                transaction.set_rollback(True)


def test_the_walk_covers_every_address_and_parameter():
    assert len(ROUTES) >= 80
    assert len(STAFF_ROUTES) >= 15
    for name in ("visit", "theme", "site", "q", "pseudonym", "email", "next", "month"):
        assert name in PARAMETERS
