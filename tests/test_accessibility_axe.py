"""axe-core on every screen, at the size it is used on — the public pages on a phone, the kiosk
and the staff screens on a tablet, the waiting-room display on the TV — in French and in
Italian, with the WCAG 2.0, 2.1 and 2.2 A and AA rules: no violation.

axe-core comes bundled with axe-playwright-python (nothing is fetched) and is put in the page
with Playwright's `page.evaluate`, which the page's Content-Security-Policy does not govern: the
pages run under their real CSP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from citedesmetiers.facts import key
from citedesmetiers.models import User
from citedesmetiers.roles import Role
from counselling import planning
from counselling import services as desk
from counselling.models import PlanMode
from events import keys
from events.models import Event
from figures.models import DailyStat, MonthlyReport
from reception import services as reception
from reception.proof import proof_code
from resources.models import Resource, ResourceOfTheWeek
from resources.search import refresh_terms
from tests.booking_fixtures import book_one, free_slots, plan_appointments, slot_param
from tests.browser import PHONE, TABLET, TV, sign_in
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session
from tests.display_fixtures import calls_over
from tests.events_fixtures import make_event, register
from tests.feedback_fixtures import served_visit
from tests.test_resources_search import add_resource, ensure_purposes

pytestmark = [pytest.mark.browser, pytest.mark.axe, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # formatted with the world's values
    who: str  # a persona of the centre, "anonymous", "kiosk", "feedback_kiosk" or "newcomer"
    viewport: dict

    def __repr__(self) -> str:
        return self.name


SCREENS = [
    # Staff, on the tablets.
    Screen("login", "/accounts/login/", "anonymous", TABLET),
    Screen("reception", "/reception/", "reception", TABLET),
    Screen("reception-checked-in", "/reception/visits/{visit}/", "reception", TABLET),
    Screen("reception-appointments", "/reception/appointments/", "reception", TABLET),
    Screen("desk-chooser", "/desk/", "newcomer", TABLET),
    Screen("desk-interview", "/desk/", "counsellor_a", TABLET),
    Screen("desk-called", "/desk/", "counsellor_b", TABLET),
    Screen("desk-my-day", "/desk/day/", "counsellor_a", TABLET),
    Screen("staff-menu", "/staff/?menu", "manager", TABLET),
    Screen("figures", "/manage/", "manager", TABLET),
    Screen("planning-week", "/manage/planning/", "manager", TABLET),
    Screen("planning-session-new", "/manage/planning/sessions/new/", "manager", TABLET),
    Screen("planning-exception-new", "/manage/planning/exceptions/new/", "manager", TABLET),
    Screen("coverage", "/manage/coverage/", "manager", TABLET),
    Screen("reports", "/manage/reports/", "manager", TABLET),
    Screen("desk-plan", "/desk/plan/", "counsellor_a", TABLET),
    Screen("organiser-events", "/events/manage/", "organiser", TABLET),
    Screen("organiser-event", "/events/manage/{event}/", "organiser", TABLET),
    Screen("organiser-event-new", "/events/manage/new/", "organiser", TABLET),
    Screen("organiser-event-edit", "/events/manage/{event}/edit/", "organiser", TABLET),
    Screen("organiser-series-new", "/events/manage/series/new/", "organiser", TABLET),
    Screen("organiser-door", "/events/manage/{event}/door/", "organiser", TABLET),
    Screen("organiser-registrants", "/events/manage/{event}/registrants/", "organiser", TABLET),
    Screen("officer-catalogue", "/catalogue/staff/", "officer", TABLET),
    Screen("officer-resource-new", "/catalogue/staff/new/", "officer", TABLET),
    Screen("officer-resource-edit", "/catalogue/staff/{record}/", "officer", TABLET),
    Screen("officer-import", "/catalogue/staff/import/", "officer", TABLET),
    # The catalogue kiosk, on its tablet.
    Screen("kiosk-setup", "/catalogue/kiosk/alpha/", "anonymous", TABLET),
    Screen("kiosk-home", "/catalogue/kiosk/alpha/", "kiosk", TABLET),
    Screen("kiosk-results", "/catalogue/?q=sant%C3%A9", "kiosk", TABLET),
    Screen("kiosk-leave", "/catalogue/leave-kiosk/", "kiosk", TABLET),
    # The exit kiosk's three questions, on its tablet.
    Screen("feedback-kiosk-setup", "/feedback/alpha/kiosk/", "anonymous", TABLET),
    Screen("feedback-kiosk", "/feedback/alpha/kiosk/", "feedback_kiosk", TABLET),
    # The waiting room's TV.
    Screen("display", "/display/alpha/", "anonymous", TV),
    Screen("display-between-calls", "/display/alpha/", "between-calls", TV),
    # The public, on a phone.
    Screen("home", "/", "anonymous", PHONE),
    Screen("visitor-phone", "/t/{token}/", "anonymous", PHONE),
    Screen("visitor-feedback", "/t/{done_token}/feedback/", "anonymous", PHONE),
    Screen("proof", "/verify/{proof}/", "anonymous", PHONE),
    Screen("proof-form", "/verify/", "anonymous", PHONE),
    Screen("events", "/events/", "anonymous", PHONE),
    Screen("event", "/events/{event}/", "anonymous", PHONE),
    Screen("event-registration", "/events/r/{registration}/", "anonymous", PHONE),
    Screen("booking-start", "/appointments/alpha/", "anonymous", PHONE),
    Screen("booking-details", "/appointments/alpha/?{details}", "anonymous", PHONE),
    Screen("booking-manage", "/appointments/manage/{appointment}/", "anonymous", PHONE),
    Screen("booking-move", "/appointments/manage/{appointment}/move/", "anonymous", PHONE),
    Screen("events-code", "/events/code/", "anonymous", PHONE),
    Screen("accessibility", "/accessibility/", "anonymous", PHONE),
    Screen("catalogue-home", "/catalogue/", "anonymous", PHONE),
    Screen("catalogue-results", "/catalogue/?q=sant%C3%A9", "anonymous", PHONE),
    Screen("catalogue-record", "/catalogue/{record}/", "anonymous", PHONE),
    Screen("site-page", "/s/alpha/", "anonymous", PHONE),
]
LOCALES = ["fr-FR", "it-IT"]


@dataclass(frozen=True)
class Refused:
    """A form sent through the browser with what its server refuses: the answer, with its
    summary of the problems at the top (templates/forms/_error_summary.html), is scanned."""

    name: str
    path: str
    who: str
    viewport: dict
    form: str  # the form's selector
    fill: tuple[tuple[str, str], ...] = ()  # (field's selector, value typed)
    upload: tuple[str, str] | None = None  # (file field's selector, the file's text)

    def __repr__(self) -> str:
        return self.name


REFUSED = [
    Refused(
        "event-registration-bad-email",
        "/events/{event}/",
        "anonymous",
        PHONE,
        ".registration-form",
        (("#id_pseudonym", "Sam"), ("#id_email", "sam@example")),
    ),
    Refused(
        "booking-details-empty",
        "/appointments/alpha/?{details}",
        "anonymous",
        PHONE,
        ".booking-form",
    ),
    Refused(
        "events-code-unknown",
        "/events/code/",
        "anonymous",
        PHONE,
        ".find-form",
        (("#id_code", "?"),),
    ),
    Refused("organiser-event-empty", "/events/manage/new/", "organiser", TABLET, ".event-form"),
    Refused(
        "organiser-series-empty", "/events/manage/series/new/", "organiser", TABLET, ".event-form"
    ),
    Refused(
        "planning-session-empty", "/manage/planning/sessions/new/", "manager", TABLET, ".plan-form"
    ),
    Refused(
        "planning-exception-empty",
        "/manage/planning/exceptions/new/",
        "manager",
        TABLET,
        ".plan-form",
    ),
    Refused(
        "officer-resource-bad-isbn",
        "/catalogue/staff/{record}/",
        "officer",
        TABLET,
        ".resource-form",
        (("#id_isbn", "12345"),),
    ),
    Refused(
        "officer-import-not-a-spreadsheet",
        "/catalogue/staff/import/",
        "officer",
        TABLET,
        "main form[enctype]",
        upload=("input[type=file]", "not a spreadsheet"),
    ),
]


@pytest.fixture
def world(mfa_enrolled, settings) -> dict[str, str]:
    """A day under way at Alpha: Bob in an interview at Desk 1, Carol's call on the TV, people
    waiting, an appointment booked, an event with a registration, a small catalogue and a few
    weeks of figures. Returns the values the screens' addresses need."""
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    centre = mfa_enrolled
    alpha = centre.alpha
    e, f = (alpha.themes.get(letter=letter) for letter in "EF")
    desk_1 = make_desk(alpha, "Desk 1", "E", "F", order=1)
    bob = open_session(centre.counsellor_a, desk_1)
    carol = open_session(centre.counsellor_b, make_desk(alpha, "Desk 2", "F", order=2))
    make_desk(alpha, "Desk 3", "A", order=3)  # free, for the newcomer's chooser
    make_staff("hana@alpha.test", Role.COUNSELLOR, alpha, centre.partner_a)
    for theme in (e, f, f, e):
        reception.check_in(site=alpha, theme_id=theme.pk, override_hours=True)
    in_interview = desk.call_next(session_id=bob.pk, counsellor=centre.counsellor_a)
    desk.start_interview(session_id=bob.pk, counsellor=centre.counsellor_a)
    desk.call_next(session_id=carol.pk, counsellor=centre.counsellor_b)
    waiting, _ = reception.check_in(site=alpha, theme_id=e.pk, override_hours=True)

    planned = plan_appointments(centre)
    for weekday in range(5):  # Bob's own mornings, for his plan and the coverage
        planning.plan_session(
            site=alpha,
            desk_id=desk_1.pk,
            partner_id=centre.partner_a.pk,
            theme_ids=[e.pk, f.pk],
            mode=PlanMode.WALK_IN,
            weekday=weekday,
            starts=dt.time(9),
            ends=dt.time(12),
            valid_from=alpha.local_date() - dt.timedelta(days=7),
            counsellor_id=centre.counsellor_a.pk,
        )
    appointment = book_one(planned)
    slot = free_slots(planned, "phone")[0]
    details = f"theme={planned.theme.pk}&channel=phone&slot={slot_param(slot)}"

    event = make_event(alpha, title="Atelier CV", capacity=12, place="Salle 2")
    registration = register(event, "Sam", "sam@example.org")
    make_event(alpha, title="Forum de l'alternance", starts_in=dt.timedelta(days=9))
    assert Event.objects.filter(status=Event.Status.PUBLISHED).count() == 2

    purposes = ensure_purposes()
    record = add_resource(
        "Les métiers de la santé",
        kind=Resource.Kind.BOOK,
        authors="Claire Martin",
        publisher="Onisep",
        year=2024,
        purposes=[purposes["learn-about-professions"]],
        summary="Infirmier, aide-soignant, sage-femme : qui fait quoi à l'hôpital.",
        holdings=[(alpha, "MET 610")],
    )
    add_resource(
        "Portail des métiers de la santé",
        kind=Resource.Kind.WEBSITE,
        purposes=[purposes["learn-about-professions"]],
        url="https://example.org/portail-des-metiers-de-la-sante",
        summary="Fiches métiers, vidéos et témoignages.",
    )
    refresh_terms()

    today = alpha.local_date()
    DailyStat.objects.bulk_create(
        DailyStat(
            site=alpha,
            day=today - dt.timedelta(days=back),
            source="reception",
            metric="visits",
            key=key(theme=theme.pk, hour=hour, channel="in_person"),
            value=6,
        )
        for back in range(1, 29)
        for hour in (9, 10, 14)
        for theme in (e, f)
    )
    now = timezone.now()
    for month, state in (
        (dt.date(2026, 1, 1), {"status": MonthlyReport.Status.DONE, "file": "reports/a.pdf"}),
        (dt.date(2026, 2, 1), {"status": MonthlyReport.Status.RUNNING, "progress": 40}),
        (
            dt.date(2026, 3, 1),
            {"status": MonthlyReport.Status.FAILED, "failure": MonthlyReport.Failure.ERROR},
        ),
    ):
        MonthlyReport.objects.create(
            site=alpha, month=month, requested_at=now, started_at=now, generated_at=now, **state
        )
    assert in_interview is not None
    # A visit over, for its feedback: seen by Ivy at Desk 7, for a theme nobody else waits for.
    ivy = make_staff("ivy@alpha.test", Role.COUNSELLOR, alpha, centre.partner_b)
    done = served_visit(alpha, ivy, letter="A", desk=make_desk(alpha, "Desk 7", "A", order=7))
    return {
        "done_token": done.token,
        "visit": str(waiting.pk),
        "token": waiting.token,
        "proof": proof_code(waiting),
        "event": str(event.pk),
        "registration": keys.issue(registration.pk, keys.MANAGE),
        "appointment": appointment,
        "details": details,
        "record": str(record.pk),
    }


def prepare(centre, screen: Screen | Refused) -> None:
    """What a screen needs beyond the world, made once for its scans in every language."""
    if screen.who == "between-calls":
        # The TV once Carol's call has had its time: a workshop tomorrow, the resource of the week.
        alpha = centre.alpha
        day = alpha.local_date() + dt.timedelta(days=1)
        make_event(
            alpha,
            title="Atelier lettre",
            starts_at=dt.datetime.combine(day, dt.time(10), alpha.zone),
        )
        record = Resource.objects.get(title="Les métiers de la santé")
        ResourceOfTheWeek.objects.create(site=alpha, resource=record)
        calls_over(alpha)


def open_as(new_page, centre, screen: Screen | Refused, locale: str):
    """A page in `locale`, as the screen's person (signed in: the login has its own scan)."""
    page = new_page(screen.viewport, locale=locale)
    page.set_default_timeout(15000)  # a loaded 2-core machine
    if screen.who == "kiosk":
        page.goto("/catalogue/kiosk/alpha/")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/catalogue/kiosk/alpha/")
    elif screen.who == "feedback_kiosk":
        sign_in(page, centre.reception)
        page.goto("/feedback/alpha/kiosk/")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/feedback/alpha/kiosk/")
    elif screen.who == "newcomer":
        sign_in(page, User.objects.get(email="hana@alpha.test"))
    elif screen.who not in ("anonymous", "between-calls"):
        sign_in(page, centre.persona(screen.who))
    return page


def scan(page) -> list[dict]:
    results = AXE.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return results.response["violations"]


def report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("screen", SCREENS, ids=repr)
def test_the_screen_has_no_wcag_violation(new_page, mfa_enrolled, world, screen):
    prepare(mfa_enrolled, screen)
    alpha = mfa_enrolled.alpha
    for locale in LOCALES:
        language = locale[:2]
        alpha.language = language  # the TV speaks the site's language
        alpha.save(update_fields=["language"])
        page = open_as(new_page, mfa_enrolled, screen, locale)

        response = page.goto(screen.path.format(**world))

        assert response.status == 200, (screen.path, locale, response.status, page.url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        violations = scan(page)
        assert not violations, f"{screen.name} in {locale}:\n{report(violations)}"
        assert page.js_errors == [], locale


@pytest.mark.parametrize("refused", REFUSED, ids=repr)
def test_a_refused_form_has_no_wcag_violation(new_page, mfa_enrolled, world, refused):
    for locale in LOCALES:
        page = open_as(new_page, mfa_enrolled, refused, locale)
        page.goto(refused.path.format(**world))
        form = page.locator(refused.form)
        for selector, value in refused.fill:
            form.locator(selector).fill(value)
        if refused.upload:
            selector, text = refused.upload
            form.locator(selector).set_input_files(
                {"name": "catalogue.csv", "mimeType": "text/csv", "buffer": text.encode()}
            )

        with page.expect_navigation():
            form.locator("button[type=submit]").last.click()

        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", locale[:2])
        violations = scan(page)
        assert not violations, f"{refused.name} in {locale}:\n{report(violations)}"
        assert page.js_errors == [], locale


@pytest.mark.parametrize("locale", LOCALES)
def test_the_kiosk_idle_warning_has_no_wcag_violation(new_page, mfa_enrolled, settings, locale):
    settings.KIOSK_IDLE_SECONDS = 30
    settings.KIOSK_WARNING_SECONDS = 20
    page = open_as(new_page, mfa_enrolled, Screen("kiosk", "", "kiosk", TABLET), locale)
    page.clock.install()
    page.goto("/catalogue/kiosk/alpha/")

    page.clock.fast_forward("00:31")

    expect(page.get_by_role("alertdialog")).to_be_visible()
    violations = scan(page)
    assert not violations, f"kiosk idle warning in {locale}:\n{report(violations)}"
    assert page.js_errors == []
