"""Who may open what: one row per address, one expected answer per persona.

Personas (tests/conftest.py): Alice, reception agent at Alpha; Bob, counsellor at Alpha for partner
A; Dan, information officer; Erin, event organiser; Frank, manager at Alpha; Grace, manager at Beta
only; and an anonymous visitor. The managers have TOTP, so they are not sent to MFA enrolment.

To add an address: append one row `(address, method, {persona: expected})` to ACCESS. The address
is a template whose `{placeholders}` (also usable in POST_DATA) are made on demand, see
PLACEHOLDERS — or a function of the Centre that returns it. An expected answer is a status code,
LOGIN (sent to the login page and back), or Redirect(pattern). Every refusal — 403, 404, LOGIN,
Redirect(..., writes=False) — and every GET must leave visits and ticket counters as they were."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import transaction
from django.urls import get_resolver, resolve

from citedesmetiers.models import Partner
from counselling import plan_feed, planning
from counselling.models import Desk, PlanException, PlanMode
from reception import services
from reception.models import TicketCounter, Visit
from resources.models import Resource
from tests.booking_fixtures import book_one, plan_appointments
from tests.conftest import Centre
from tests.counselling_fixtures import AtDesk, DeskOf, make_desk
from tests.feedback_fixtures import desk_of, served_visit

PERSONAS = (
    "reception",
    "counsellor_a",
    "officer",
    "organiser",
    "manager",
    "beta_manager",
    "anonymous",
)
LOGIN = "login"  # 302 to /accounts/login/?next=<this address>


@dataclass(frozen=True)
class Redirect:
    """302 to an address matching `to` (shell-style: `*` for any id)."""

    to: str
    writes: bool = True  # False: a refusal shown as a message on the next page; nothing changed


def everyone(expected) -> dict:
    return dict.fromkeys(PERSONAS, expected)


def managers_only(*, manager, beta_manager) -> dict:
    """A manager's screen: every other role is refused, visitors are sent to log in."""
    return {**everyone(403), "manager": manager, "beta_manager": beta_manager, "anonymous": LOGIN}


def reception_staff(*, reception, manager, beta_manager, others=403) -> dict:
    """A reception screen: reception agents and managers work there, other roles do not."""
    return {
        "reception": reception,
        "counsellor_a": others,
        "officer": others,
        "organiser": others,
        "manager": manager,
        "beta_manager": beta_manager,
        "anonymous": LOGIN,
    }


def _visit(site) -> Visit:
    visit, _created = services.check_in(site=site, theme_id=site.themes.get(letter="E").pk)
    return visit


def _planned(site) -> int:
    """A weekly session of `site`'s plan (Mondays 10:00–12:00 from 2026)."""
    desk = Desk.objects.filter(site=site, name="Planned desk").first() or make_desk(
        site, "Planned desk", "E"
    )
    return planning.plan_session(
        site=site,
        desk_id=desk.pk,
        partner_id=Partner.objects.order_by("pk").first().pk,
        theme_ids=[site.themes.get(letter="E").pk],
        mode=PlanMode.WALK_IN,
        weekday=0,
        starts=dt.time(10),
        ends=dt.time(12),
        valid_from=dt.date(2026, 1, 5),
    ).pk


def _closed(site) -> int:
    return planning.add_exception(
        site=site, day=dt.date(2026, 5, 1), kind=PlanException.Kind.SITE_CLOSED
    ).pk


# What `{name}` stands for in ACCESS and POST_DATA, made once per test when first used.
def _held_at(site) -> Resource:
    resource = Resource.objects.create(title="Guide des métiers")
    resource.holdings.create(site=site, shelf_mark="MET 1")
    return resource


PLACEHOLDERS: dict[str, Callable[[Centre], object]] = {
    "alpha_visit": lambda c: _visit(c.alpha).pk,
    "beta_visit": lambda c: _visit(c.beta).pk,
    "alpha_token": lambda c: _visit(c.alpha).token,
    # At a desk of its own: the desk placeholders below make "Desk 1" themselves.
    "alpha_done_token": lambda c: (
        served_visit(c.alpha, c.counsellor_a, desk=desk_of(c.alpha, "Feedback desk")).token
    ),
    "alpha_theme_e": lambda c: c.alpha.themes.get(letter="E").pk,
    "alpha_theme_f": lambda c: c.alpha.themes.get(letter="F").pk,
    "new_key": lambda c: uuid.uuid4(),
    "alpha_session": lambda c: _planned(c.alpha),
    "beta_session": lambda c: _planned(c.beta),
    "alpha_exception": lambda c: _closed(c.alpha),
    "bob_feed": lambda c: plan_feed.create_plan_feed(counsellor=c.counsellor_a, language="en"),
    "unknown_feed": lambda c: secrets.token_urlsafe(plan_feed.SECRET_BYTES),
    "appointment_secret": lambda c: book_one(plan_appointments(c)),
    "alpha_resource": lambda c: _held_at(c.alpha).pk,
}

ADMIN_LOGIN = Redirect("/admin/login/?next=/admin/", writes=False)
TABLET = Redirect("/reception/")
REFUSED_ON_TABLET = Redirect("/reception/", writes=False)

ACCESS: list[tuple[str | Callable[[Centre], str], str, dict]] = [
    # Staff with one screen go straight to it; with several (their screen and the
    # administration, or a manager's many), they get a menu.
    (
        "/staff/",
        "GET",
        {
            "reception": Redirect("/reception/"),
            "counsellor_a": Redirect("/desk/"),
            "officer": Redirect("/catalogue/staff/"),
            "organiser": Redirect("/events/manage/"),
            "manager": 200,
            "beta_manager": 200,
            "anonymous": LOGIN,
        },
    ),
    # Django's admin lets in `is_staff` accounts only, and has its own login page.
    (
        "/admin/",
        "GET",
        {
            "reception": ADMIN_LOGIN,
            "counsellor_a": ADMIN_LOGIN,
            "officer": 200,
            "organiser": 200,
            "manager": 200,
            "beta_manager": 200,
            "anonymous": ADMIN_LOGIN,
        },
    ),
    # Grace works at Beta only: her tablet is Beta's (see the test below).
    ("/reception/", "GET", reception_staff(reception=200, manager=200, beta_manager=200)),
    (
        "/reception/live/?s=alpha",
        "GET",
        reception_staff(reception=200, manager=200, beta_manager=200),
    ),
    (
        "/reception/check-in/",
        "POST",
        # Grace checks in at Beta, where Alpha's theme does not exist: refused with a message.
        reception_staff(
            reception=Redirect("/reception/visits/*/"),
            manager=Redirect("/reception/visits/*/"),
            beta_manager=REFUSED_ON_TABLET,
        ),
    ),
    # An Alpha ticket is not found from Beta: 404, which says nothing about Alpha.
    (
        "/reception/visits/{alpha_visit}/",
        "GET",
        reception_staff(reception=200, manager=200, beta_manager=404),
    ),
    (
        "/reception/visits/{alpha_visit}/ticket/",
        "GET",
        reception_staff(reception=200, manager=200, beta_manager=404),
    ),
    (
        "/reception/visits/{beta_visit}/",
        "GET",
        reception_staff(reception=404, manager=404, beta_manager=200),
    ),
    # Writes on another site's ticket are refused by the service with “This ticket does not
    # exist.” on the tablet (a redirect, not a 404), and change nothing.
    (
        "/reception/visits/{alpha_visit}/theme/",
        "POST",
        reception_staff(reception=TABLET, manager=TABLET, beta_manager=REFUSED_ON_TABLET),
    ),
    (
        "/reception/visits/{alpha_visit}/left/",
        "POST",
        reception_staff(reception=TABLET, manager=TABLET, beta_manager=REFUSED_ON_TABLET),
    ),
    # A waiting ticket has nothing to undo: refused on the tablet, for every one of them.
    (
        "/reception/visits/{alpha_visit}/back/",
        "POST",
        reception_staff(
            reception=REFUSED_ON_TABLET, manager=REFUSED_ON_TABLET, beta_manager=REFUSED_ON_TABLET
        ),
    ),
    # Late check-ins are turned on at the site the person works at (Beta for Grace).
    (
        "/reception/late-check-ins/",
        "POST",
        reception_staff(reception=TABLET, manager=TABLET, beta_manager=TABLET),
    ),
    # Appointments at reception: the day's list, check-in by code, booking for someone. A post
    # without a code or a time is refused with a message on the list.
    (
        "/reception/appointments/",
        "GET",
        reception_staff(reception=200, manager=200, beta_manager=200),
    ),
    (
        "/reception/appointments/check-in/",
        "POST",
        reception_staff(
            reception=Redirect("/reception/appointments/", writes=False),
            manager=Redirect("/reception/appointments/", writes=False),
            beta_manager=Redirect("/reception/appointments/", writes=False),
        ),
    ),
    (
        "/reception/appointments/book/",
        "POST",
        reception_staff(
            reception=Redirect("/reception/appointments/?*", writes=False),
            manager=Redirect("/reception/appointments/?*", writes=False),
            beta_manager=Redirect("/reception/appointments/?*", writes=False),
        ),
    ),
    # Public screens: no login, only ticket codes, desk names and counts.
    ("/display/alpha/", "GET", everyone(200)),
    ("/display/alpha/live/", "GET", everyone(200)),
    ("/display/nowhere/", "GET", everyone(404)),
    ("/t/{alpha_token}/", "GET", everyone(200)),
    ("/t/{alpha_token}/live/?s=alpha", "GET", everyone(200)),
    ("/t/{alpha_token}/leave/", "POST", everyone(Redirect("/t/*/"))),
    ("/t/not-a-ticket/", "GET", everyone(404)),
    # Feedback: the questions wait for the end of the visit (409 until then), once per visit.
    ("/t/{alpha_token}/feedback/", "GET", everyone(200)),
    ("/t/{alpha_token}/feedback/", "POST", everyone(409)),
    ("/t/{alpha_done_token}/feedback/", "GET", everyone(200)),
    ("/t/{alpha_done_token}/feedback/", "POST", everyone(Redirect("/t/*/feedback/"))),
    ("/t/not-a-ticket/feedback/", "GET", everyone(404)),
    # The exit kiosk: an ordinary browser gets the page that sets it up, and cannot answer;
    # reception and managers of the site set it up (and are logged out of it).
    ("/feedback/alpha/kiosk/", "GET", everyone(200)),
    ("/feedback/alpha/kiosk/", "POST", everyone(403)),
    ("/feedback/nowhere/kiosk/", "GET", everyone(404)),
    ("/feedback/alpha/kiosk/setup/", "GET", everyone(405)),
    (
        "/feedback/alpha/kiosk/setup/",
        "POST",
        reception_staff(
            reception=Redirect("/feedback/alpha/kiosk/"),
            manager=Redirect("/feedback/alpha/kiosk/"),
            beta_manager=403,
        ),
    ),
    # The accessibility statement: public.
    ("/accessibility/", "GET", everyone(200)),
    # A kiosk's idle restart: in a browser that is not a kiosk it changes nothing.
    ("/catalogue/restart-kiosk/", "POST", everyone(Redirect("/catalogue/"))),
    ("/verify/", "GET", everyone(200)),
    ("/verify/not-a-code/", "GET", everyone(404)),
    # A site's public page and its poster: no login, counts and estimates only (test_sitepage).
    ("/s/alpha/", "GET", everyone(200)),
    ("/s/alpha/poster.pdf", "GET", everyone(200)),
    ("/s/alpha/poster.pdf?size=a5", "GET", everyone(404)),
    ("/s/nowhere/", "GET", everyone(404)),
    # Booking an appointment: public, no login; an appointment's page is at its secret link.
    ("/appointments/alpha/", "GET", everyone(200)),
    ("/appointments/nowhere/", "GET", everyone(404)),
    # Posted without a theme or a time: back to the first step with a message, nothing booked.
    ("/appointments/alpha/book/", "POST", everyone(Redirect("/appointments/alpha/", writes=False))),
    ("/appointments/nowhere/book/", "POST", everyone(404)),
    ("/appointments/manage/{appointment_secret}/", "GET", everyone(200)),
    ("/appointments/manage/{appointment_secret}/move/", "GET", everyone(200)),
    ("/appointments/manage/{appointment_secret}/appointment.ics", "GET", everyone(200)),
    (
        "/appointments/manage/{appointment_secret}/cancel/",
        "POST",
        everyone(Redirect("/appointments/manage/*/")),
    ),
    # "I am here" for an appointment by phone, or not today: refused with a message.
    (
        "/appointments/manage/{appointment_secret}/here/",
        "POST",
        everyone(Redirect("/appointments/manage/*/", writes=False)),
    ),
    ("/appointments/manage/not-a-secret/", "GET", everyone(404)),
    ("/appointments/manage/not-a-secret/move/", "GET", everyone(404)),
    ("/appointments/manage/not-a-secret/appointment.ics", "GET", everyone(404)),
    ("/appointments/manage/not-a-secret/cancel/", "POST", everyone(404)),
    # The counsellor's desk: counsellors only (Bob), at their own site; a desk of Beta is not
    # found from Alpha. Without an open desk, actions are refused with a message on /desk/.
    ("/desk/", "GET", {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN}),
    (
        AtDesk("/desk/", "in_interview"),
        "GET",
        {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN},
    ),
    ("/desk/day/", "GET", {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN}),
    # Bob's own plan, and his calendar address: made (the page shows it once), and without one
    # nothing to replace or turn off (refused with a message).
    ("/desk/plan/", "GET", {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN}),
    (
        "/desk/plan/address/create/",
        "POST",
        {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN},
    ),
    (
        "/desk/plan/address/replace/",
        "POST",
        {
            **everyone(403),
            "counsellor_a": Redirect("/desk/plan/", writes=False),
            "anonymous": LOGIN,
        },
    ),
    (
        "/desk/plan/address/turn-off/",
        "POST",
        {
            **everyone(403),
            "counsellor_a": Redirect("/desk/plan/", writes=False),
            "anonymous": LOGIN,
        },
    ),
    # The calendar address needs no login (calendar apps cannot log in): the secret is the key.
    ("/desk/plan/feed/{bob_feed}.ics", "GET", everyone(200)),
    ("/desk/plan/feed/{unknown_feed}.ics", "GET", everyone(404)),
    # htmx's "stop polling" (286) when the counsellor has no desk open.
    ("/desk/live/?s=alpha", "GET", {**everyone(403), "counsellor_a": 286, "anonymous": LOGIN}),
    (
        AtDesk("/desk/live/?s=alpha", "called"),
        "GET",
        {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN},
    ),
    (
        DeskOf("alpha"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (DeskOf("beta"), "POST", {**everyone(403), "counsellor_a": 404, "anonymous": LOGIN}),
    (
        AtDesk("/desk/call-next/"),
        "POST",
        # Back at the visitor it called.
        {**everyone(403), "counsellor_a": Redirect("/desk/#visit-*"), "anonymous": LOGIN},
    ),
    (
        "/desk/call-next/",
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    # Posted without a ticket and a reason: refused with a message.
    (
        AtDesk("/desk/call-ticket/"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/recall/", "called"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/no-show/", "called"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        "/desk/put-back/",
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    # A phone or video appointment started from the desk: without one named, nothing happens.
    (
        AtDesk("/desk/start-appointment/"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/start/", "called"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    # Posted without answers: refused as "not valid choices", nothing saved.
    (
        AtDesk("/desk/finish/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/hand-back/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/pause/"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/resume/"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/close/"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/"), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/take-away/search/?tq=cv", "in_interview"),
        "GET",
        {**everyone(403), "counsellor_a": 200, "anonymous": LOGIN},
    ),
    # No document posted: refused ("not in the catalogue"), nothing changed.
    (
        AtDesk("/desk/take-away/add/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/take-away/remove/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    # No event posted: refused ("not open any more"), nothing changed.
    (
        AtDesk("/desk/take-away/add-event/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    (
        AtDesk("/desk/take-away/remove-event/", "in_interview"),
        "POST",
        {**everyone(403), "counsellor_a": Redirect("/desk/", writes=False), "anonymous": LOGIN},
    ),
    # The resource of the week on the waiting-room screen: information officers and managers,
    # for their own site (Grace's is Beta, which does not hold Alpha's record: refused).
    (
        "/catalogue/staff/{alpha_resource}/resource-of-the-week/",
        "POST",
        {
            **everyone(403),
            "officer": Redirect("/catalogue/staff/*/"),
            "manager": Redirect("/catalogue/staff/*/"),
            "beta_manager": Redirect("/catalogue/staff/*/", writes=False),
            "anonymous": LOGIN,
        },
    ),
    # Nothing chosen: nothing to take off, said with a message.
    (
        "/catalogue/staff/resource-of-the-week/clear/",
        "POST",
        {
            **everyone(403),
            "officer": Redirect("/catalogue/staff/", writes=False),
            "manager": Redirect("/catalogue/staff/", writes=False),
            "beta_manager": Redirect("/catalogue/staff/", writes=False),
            "anonymous": LOGIN,
        },
    ),
    # Managers' dashboard, exports and monthly reports: managers only, each at their own sites
    # (Frank at Alpha, Grace at Beta). See test_dashboard and test_reports for what they show.
    ("/manage/", "GET", {**everyone(403), "manager": 200, "beta_manager": 200, "anonymous": LOGIN}),
    # The plan's coverage, of the manager's own site (Beta's for Grace), and its print.
    (
        "/manage/coverage/?day=2",
        "GET",
        {**everyone(403), "manager": 200, "beta_manager": 200, "anonymous": LOGIN},
    ),
    (
        "/manage/coverage.pdf?day=4",
        "GET",
        {**everyone(403), "manager": 200, "beta_manager": 200, "anonymous": LOGIN},
    ),
    (
        "/manage/coverage.pdf?day=x",
        "GET",
        {**everyone(403), "manager": 404, "beta_manager": 404, "anonymous": LOGIN},
    ),
    (
        "/manage/?site=beta",
        "GET",
        {**everyone(403), "manager": 403, "beta_manager": 200, "anonymous": LOGIN},
    ),
    (
        "/manage/export/visits_by_theme.csv",
        "GET",
        {**everyone(403), "manager": 200, "beta_manager": 200, "anonymous": LOGIN},
    ),
    (
        "/manage/export/nothing.csv",
        "GET",
        {**everyone(403), "manager": 404, "beta_manager": 404, "anonymous": LOGIN},
    ),
    (
        "/manage/reports/",
        "GET",
        {**everyone(403), "manager": 200, "beta_manager": 200, "anonymous": LOGIN},
    ),
    # Posted without a month: refused with a message on the list, nothing queued.
    (
        "/manage/reports/request/",
        "POST",
        {
            **everyone(403),
            "manager": Redirect("/manage/reports/", writes=False),
            "beta_manager": Redirect("/manage/reports/", writes=False),
            "anonymous": LOGIN,
        },
    ),
    # Alpha did not exist in 2020: its manager is told so (400); nobody else may ask.
    (
        "/manage/reports/alpha/2020-01.pdf",
        "GET",
        {**everyone(403), "manager": 400, "beta_manager": 403, "anonymous": LOGIN},
    ),
    (
        "/manage/reports/alpha/2020.pdf",
        "GET",
        {**everyone(403), "manager": 400, "beta_manager": 403, "anonymous": LOGIN},
    ),
    # The network report is for network managers (works_at_all_sites) only.
    ("/manage/reports/network/2020-01.pdf", "GET", {**everyone(403), "anonymous": LOGIN}),
    ("/manage/reports/network/2020.pdf", "GET", {**everyone(403), "anonymous": LOGIN}),
    (
        "/manage/reports/nowhere/2020-01.pdf",
        "GET",
        {**everyone(403), "manager": 404, "beta_manager": 404, "anonymous": LOGIN},
    ),
    # The presence plan: managers only, each their own site's (Grace sees Beta's); a session or
    # an exception of Alpha is not found from Beta. A form posted empty comes back (200) with
    # its errors, nothing changed; see test_plan_views for what each one does.
    *[
        (address, "GET", managers_only(manager=200, beta_manager=200))
        for address in (
            "/manage/planning/",
            "/manage/planning/?week=2026-03-04",
            "/manage/planning/?week=2026-02-30",
            "/manage/planning/sessions/new/",
            "/manage/planning/exceptions/new/",
        )
    ],
    ("/manage/planning/sessions/new/", "POST", managers_only(manager=200, beta_manager=200)),
    (
        "/manage/planning/sessions/{alpha_session}/",
        "GET",
        managers_only(manager=200, beta_manager=404),
    ),
    (
        "/manage/planning/sessions/{beta_session}/",
        "GET",
        managers_only(manager=404, beta_manager=200),
    ),
    (
        "/manage/planning/sessions/{alpha_session}/",
        "POST",
        managers_only(manager=200, beta_manager=404),
    ),
    (
        "/manage/planning/sessions/{alpha_session}/end/",
        "POST",
        managers_only(manager=Redirect("/manage/planning/?week=2029-12-31"), beta_manager=404),
    ),
    (
        "/manage/planning/exceptions/new/",
        "POST",
        managers_only(
            manager=Redirect("/manage/planning/?week=2030-01-07"),
            beta_manager=Redirect("/manage/planning/?week=2030-01-07"),
        ),
    ),
    (
        "/manage/planning/exceptions/{alpha_exception}/remove/",
        "POST",
        managers_only(manager=Redirect("/manage/planning/?week=2026-04-27"), beta_manager=404),
    ),
]

POST_DATA = {
    "/reception/check-in/": {"theme": "{alpha_theme_e}", "checkin_key": "{new_key}"},
    "/reception/visits/{alpha_visit}/theme/": {"theme": "{alpha_theme_f}"},
    "/reception/late-check-ins/": {"late": "on"},
    "/t/{alpha_token}/feedback/": {"wait": "fine"},
    "/t/{alpha_done_token}/feedback/": {"got_what": "yes", "wait": "fine"},
    "/feedback/alpha/kiosk/": {"wait": "fine"},
    "/manage/planning/sessions/{alpha_session}/end/": {"last_day": "2030-01-01"},
    "/manage/planning/exceptions/new/": {"kind": "site_closed", "day": "2030-01-07"},
}

# Addresses checked elsewhere rather than here, and why.
NOT_IN_THE_MATRIX = {
    "reception:proof": "public like the visitor page; see test_reception_proof (PDFs are slow)",
    "reception:take_away_pdf": "public like the visitor page; rendered by the counselling tests",
}


class Placeholders(dict):
    def __init__(self, centre: Centre):
        super().__init__()
        self.centre = centre

    def __missing__(self, key: str):
        self[key] = value = PLACEHOLDERS[key](self.centre)
        return value


def build(template: str | Callable[[Centre], str], values: Placeholders) -> str:
    return template(values.centre) if callable(template) else template.format_map(values)


def database() -> tuple[list, list]:
    return (
        list(Visit.objects.order_by("pk").values()),
        list(TicketCounter.objects.order_by("pk").values()),
    )


def answer(client, method: str, url: str, data: dict, expected) -> None:
    before = database()

    response = client.post(url, data) if method == "POST" else client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url == "/accounts/login/?" + urlencode({"next": url}, safe="/")
    elif isinstance(expected, Redirect):
        assert response.status_code == 302
        assert fnmatchcase(response.url, expected.to), response.url
    else:
        assert response.status_code == expected
    refused = expected in (LOGIN, 403, 404) or (
        isinstance(expected, Redirect) and not expected.writes
    )
    if refused or method == "GET":
        assert database() == before


@pytest.mark.parametrize(
    ("template", "method", "expected"),
    [pytest.param(*row, id=f"{row[1]} {row[0]}") for row in ACCESS],
)
def test_access(mfa_enrolled, login, subtests, template, method, expected):
    values = Placeholders(mfa_enrolled)
    url = build(template, values)
    data = {k: build(v, values) for k, v in POST_DATA.get(template, {}).items()}
    for persona in PERSONAS:
        with subtests.test(persona=persona), transaction.atomic():
            # Each persona starts from the same database: what the previous one wrote is undone.
            try:
                answer(login(mfa_enrolled.persona(persona)), method, url, data, expected[persona])
            finally:
                transaction.set_rollback(True)


def test_every_row_decides_for_every_persona():
    for template, method, expected in ACCESS:
        assert set(expected) == set(PERSONAS), f"{method} {template}"
        assert method in ("GET", "POST")


class AnyId(dict):
    def __missing__(self, key: str) -> str:
        return "1"  # fits every path converter: only the address's shape matters here


@pytest.mark.parametrize("namespace", ["reception", "planning", "booking", "feedback"])
def test_every_address_of_these_screens_is_in_the_matrix(mfa_enrolled, namespace):
    covered = {
        resolve(urlsplit(t(mfa_enrolled) if callable(t) else t.format_map(AnyId())).path).view_name
        for t, _m, _e in ACCESS
    }
    patterns = get_resolver().namespace_dict[namespace][1]
    names = {f"{namespace}:{p.name}" for p in patterns.url_patterns}
    elsewhere = {name for name in NOT_IN_THE_MATRIX if name.startswith(f"{namespace}:")}

    assert names - covered - elsewhere == set()
    assert elsewhere <= names


def test_a_manager_of_another_site_gets_the_tablet_of_her_own_site(mfa_enrolled, login):
    response = login(mfa_enrolled.beta_manager).get("/reception/")
    assert response.context["site"] == mfa_enrolled.beta

    response = login(mfa_enrolled.beta_manager).get("/reception/live/?s=alpha")
    assert "s=beta" in response.content.decode()


def test_only_reception_agents_and_managers_of_the_site_check_visitors_in(mfa_enrolled, login):
    theme = mfa_enrolled.alpha.themes.get(letter="E")
    for persona in PERSONAS:
        login(mfa_enrolled.persona(persona)).post(
            "/reception/check-in/", {"theme": theme.pk, "checkin_key": uuid.uuid4()}
        )
    assert Visit.objects.filter(site=mfa_enrolled.alpha).count() == 2  # Alice and Frank
    assert not Visit.objects.filter(site=mfa_enrolled.beta).exists()
