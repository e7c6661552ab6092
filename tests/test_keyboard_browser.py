"""Keyboard only, in a real browser: the five journeys that matter — a check-in on the reception
tablet, a whole interview at the desk, an event registration and an appointment booking on a
phone, a catalogue search — done with Tab, Shift+Tab, Enter, Space and typing into the focused
field, never a click. On every page the first Tab lands on the skip link, shown once focused;
every element Tab reaches shows a focus ring; Tab always moves on (no trap). Then the live
regions that tell screen readers about a call, and the public pages at 320 px (400 % zoom)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from counselling import services as desk_services
from counselling.models import Interview
from events.models import Registration
from reception.models import Visit
from reception.proof import proof_code
from resources.models import Resource
from resources.search import refresh_terms
from tests.booking_fixtures import plan_appointments
from tests.browser import PASSWORD, PHONE, TABLET
from tests.counselling_fixtures import make_desk, make_topic, open_session, queue_visit
from tests.display_fixtures import calls_over
from tests.events_fixtures import (
    fixture_eager_celery,  # noqa: F401 (a fixture)
    make_event,
)
from tests.test_resources_search import add_resource, ensure_purposes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WITHIN_TWO_POLLS = 2500  # ms: the pages poll every LIVE_POLL_SECONDS (1 s here)

# What a report says of the focused element: enough to see where the focus went.
DESCRIBE = """() => { const el = document.activeElement;
  if (!el || el === document.body) return "body";
  const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || "")
    .replace(/\\s+/g, " ").trim().slice(0, 40);
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (text ? ` "${text}"` : ""); }"""
# A ring the eye can see: an outline at least 2 px wide, or a box shadow.
FOCUS_SHOWN = """() => { const s = getComputedStyle(document.activeElement);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  return outline || s.boxShadow !== "none"; }"""
# Marks the focused element, so the next key can tell whether the focus moved.
MARK = "() => { window.__focused = document.activeElement; }"
MOVED = "() => window.__focused !== document.activeElement"


def press(page, key: str) -> str:
    """Press a focus-moving key; the focus must move and show. Returns where it went."""
    page.evaluate(MARK)
    page.keyboard.press(key)
    where = page.evaluate(DESCRIBE)
    assert page.evaluate(MOVED), f"{key} left the focus on {where} (a trap)"
    if where != "body":  # past the last element, the focus leaves the page for the browser's own
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus ring on {where}"
    return where


def tab_to(page, predicate_js: str, limit: int = 60, key: str = "Tab") -> str:
    """Press Tab (or `key`) until the focused element matches `predicate_js` (a JS function of
    the element); fail with the elements visited on the way."""
    visited = []
    for _ in range(limit):
        visited.append(press(page, key))
        if page.evaluate(f"() => ({predicate_js})(document.activeElement)"):
            return visited[-1]
    pytest.fail(f"{key} never reached {predicate_js} in {limit} presses: {visited}")


def named(tag: str, text: str) -> str:
    """A predicate: a `tag` element whose text (or label) contains `text`."""
    return (
        f"el => el.matches({tag!r}) && ((el.getAttribute('aria-label') || '') + ' '"
        f" + (el.innerText || '') + ' ' + (el.value || '')).includes({text!r})"
    )


def labelled(text: str) -> str:
    """A predicate: a form field whose label contains `text`."""
    return f"el => !!el.labels && Array.from(el.labels).some(l => l.innerText.includes({text!r}))"


def skip_to_content(page) -> None:
    """The first Tab of a freshly loaded page lands on the skip link, hidden until then and
    shown once focused; Enter takes the focus to the main content."""
    link = page.locator(".skip-link")
    assert not on_screen(link), "the skip link shows before it has the focus"
    press(page, "Tab")
    assert page.evaluate("() => document.activeElement.matches('a.skip-link')"), page.evaluate(
        DESCRIBE
    )
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main"
    assert on_screen(link), "the focused skip link is not shown"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.locator("main").count() == 1


def on_screen(locator) -> bool:
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return r.width > 1 && r.height > 1 && r.bottom > 0 && r.top < innerHeight; }"""
    )


def keyboard_log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    skip_to_content(page)
    tab_to(page, "el => el.name === 'login'")
    page.keyboard.type(email)
    tab_to(page, "el => el.name === 'password'")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_check_in_on_the_reception_tablet(new_page, centre):
    tablet = new_page(TABLET)
    keyboard_log_in(tablet, centre.reception.email)
    tablet.goto("/reception/")

    skip_to_content(tablet)
    tab_to(tablet, named("button.theme-button", "Find a job"))
    # Shift+Tab goes back to the theme before, and Tab returns.
    press(tablet, "Shift+Tab")
    assert tablet.evaluate("() => document.activeElement.matches('button.theme-button')") is False
    tab_to(tablet, named("button.theme-button", "Find a job"), limit=3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tablet.screenshot(path=str(SCREENSHOTS / "keyboard-tablet-focus.png"))
    tablet.keyboard.press("Enter")

    expect(tablet.locator("h1")).to_have_text("E-001")
    visit = Visit.objects.get()
    assert (visit.theme.letter, visit.status) == ("E", Visit.Status.WAITING)
    # The next visitor is one Enter away (the button has the focus, and shows it). The browser
    # runs `autofocus` at the page's first rendering, after the heading can already be read.
    expect(tablet.get_by_role("link", name="Next visitor")).to_be_focused()
    assert tablet.evaluate(DESCRIBE) == 'a "Next visitor"'
    tablet.keyboard.press("Enter")
    expect(tablet.locator("h1")).to_have_text("Welcome a visitor")
    assert tablet.js_errors == []


def test_at_the_desk_call_next_then_start_then_finish(new_page, centre):
    desk = make_desk(centre.alpha, "Desk 1", "E", order=1)
    make_topic(centre.alpha, "E", "Interview practice")
    waiting = queue_visit(centre.alpha, "E")
    bob = new_page(TABLET)
    keyboard_log_in(bob, centre.counsellor_a.email)
    bob.goto("/desk/")

    skip_to_content(bob)
    tab_to(bob, named("button", "Open Desk 1"))
    bob.keyboard.press("Enter")
    expect(bob.get_by_role("heading", level=1)).to_contain_text("Desk 1")

    skip_to_content(bob)
    tab_to(bob, named("button", "Call next"))
    bob.keyboard.press("Enter")
    expect(bob.locator(".big-code")).to_have_text(waiting.code)

    # The desk's answer names the visitor it holds (/desk/#visit-<id>): Tab starts from the
    # ticket, so the first Tab is the next step; the skip link is still there, behind it.
    assert bob.url.endswith(f"#visit-{waiting.pk}")
    assert press(bob, "Tab") == 'button "Start the interview"'
    tab_to(bob, "el => el.matches('a.skip-link')", key="Shift+Tab")
    tab_to(bob, named("button", "Start the interview"))
    bob.keyboard.press("Enter")
    expect(bob.get_by_role("button", name="Finish the interview")).to_be_visible()

    tab_to(bob, labelled("Interview practice"))
    bob.keyboard.press("Space")  # ticks the topic
    tab_to(bob, named("button", "Finish the interview"))
    bob.keyboard.press("Enter")
    expect(bob.locator(".messages")).to_contain_text("Interview recorded.")

    interview = Interview.objects.get(desk=desk)
    assert interview.ended_at is not None
    assert [t.name for t in interview.topics.all()] == ["Interview practice"]
    assert bob.js_errors == []


@pytest.mark.usefixtures("eager_celery")
def test_an_event_registration_on_a_phone(new_page, centre, settings):
    settings.EVENT_CHALLENGE_AFTER = 1000  # no automatic check: this test is about the keyboard
    starts = (centre.alpha.local_now() + dt.timedelta(days=3)).replace(hour=14, minute=0)
    event = make_event(centre.alpha, title="Atelier CV", starts_at=starts, capacity=12)
    phone = new_page(PHONE)
    phone.goto("/events/")

    skip_to_content(phone)
    tab_to(phone, named("a", "Atelier CV"))
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text("Atelier CV")

    skip_to_content(phone)
    tab_to(phone, labelled("First name or pseudonym"))
    phone.keyboard.type("Nadia")
    tab_to(phone, labelled("E-mail address"))
    phone.keyboard.type("nadia@example.org")
    tab_to(phone, named("button", "Register"))
    phone.keyboard.press("Enter")

    expect(phone.locator("h1")).not_to_have_text("Atelier CV")
    registration = Registration.objects.get(event=event)
    assert registration.pseudonym == "Nadia"
    assert phone.js_errors == []


def test_an_appointment_booking_on_a_phone(new_page, centre, settings):
    settings.EVENT_CHALLENGE_AFTER = 0  # the page's own script solves the automatic check
    settings.EVENT_CHALLENGE_DIFFICULTY = 20_000
    plan_appointments(centre)
    phone = new_page(PHONE)
    phone.goto("/appointments/alpha/")

    skip_to_content(phone)
    tab_to(phone, named("a", "Find a job"))
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text("How do you want to meet?")

    skip_to_content(phone)
    tab_to(phone, named("a", "By phone"))
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text("Choose a time")

    skip_to_content(phone)
    slot = tab_to(phone, "el => el.matches('a.slot')")
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text("Your details")

    skip_to_content(phone)
    tab_to(phone, labelled("First name or pseudonym"))
    phone.keyboard.type("Nadia")
    tab_to(phone, labelled("Phone number to call"))
    phone.keyboard.type("06 12 34 56 78")
    tab_to(phone, named("button", "Book this appointment"))
    phone.keyboard.press("Enter")

    phone.context.set_default_timeout(20000)  # the check's proof of work on a loaded machine
    expect(phone.locator("h1")).to_have_text("Your appointment is booked")
    appointment = Appointment.objects.get()
    assert (appointment.pseudonym, appointment.channel) == ("Nadia", "phone")
    assert f"{timezone_hhmm(appointment)}" in slot
    assert phone.js_errors == []


def timezone_hhmm(appointment) -> str:
    return appointment.starts.astimezone(appointment.site.zone).strftime("%H:%M")


@pytest.fixture
def catalogue(transactional_db, centre):
    professions = ensure_purposes()["learn-about-professions"]
    book = add_resource(
        "Les métiers de la santé",
        kind=Resource.Kind.BOOK,
        purposes=[professions],
        summary="Infirmier, aide-soignant, sage-femme : qui fait quoi à l'hôpital.",
        holdings=[(centre.alpha, "MET 610")],
    )
    refresh_terms()
    return book


def test_a_catalogue_search(new_page, catalogue):
    page = new_page(TABLET)
    page.goto("/catalogue/")

    skip_to_content(page)
    tab_to(page, "el => el.matches('input[type=search]')")
    page.keyboard.type("sante")
    page.keyboard.press("Enter")
    expect(page.locator(".result-count")).to_contain_text("1")

    skip_to_content(page)
    tab_to(page, named("a", "Les métiers de la santé"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Les métiers de la santé")
    assert page.url.endswith(catalogue.get_absolute_url())
    # The record page too: its first Tab is the skip link, and Tab runs through it to the end.
    skip_to_content(page)
    tab_to(page, "el => el === document.body || !el.closest('main')")
    assert page.js_errors == []


# --- screen readers hear a call --------------------------------------------------------------


@pytest.fixture
def english_site(settings, centre):
    settings.LIVE_POLL_SECONDS = 1
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])
    return centre.alpha


def test_the_display_and_the_phone_tell_screen_readers_of_a_call(new_page, centre, english_site):
    desk = make_desk(english_site, "Desk 3", "E", order=3)
    session = open_session(centre.counsellor_a, desk)
    visit = queue_visit(english_site, "E")

    tv = new_page(TABLET)
    tv.goto(f"/display/{english_site.slug}/")
    phone = new_page(PHONE)
    phone.goto(f"/t/{visit.token}/")
    # Both regions are in the page as it loads (a region added with its text is not read out),
    # outside the fragments the polls replace, and empty until a call.
    tv_news = tv.locator("[data-call-news]")
    phone_news = phone.locator("[data-call-news]")
    expect(tv_news).to_have_attribute("aria-live", "polite")
    expect(phone_news).to_have_attribute("aria-live", "assertive")
    for page, region in ((tv, tv_news), (phone, phone_news)):
        expect(region).to_have_text("")
        assert region.evaluate("el => !el.closest('[hx-get]')"), page.url
        page.evaluate("() => { window.__region = document.querySelector('[data-call-news]'); }")

    desk_services.call_next(session_id=session.pk, counsellor=centre.counsellor_a)

    expect(tv_news).to_have_text(f"Ticket {visit.spoken_code}, Desk 3", timeout=WITHIN_TWO_POLLS)
    expect(phone_news).to_have_text("It's your turn: Desk 3", timeout=WITHIN_TWO_POLLS)
    for page in (tv, phone):
        # The same element, its text changed: what a screen reader announces.
        assert page.evaluate("() => window.__region === document.querySelector('[data-call-news]')")
        assert page.js_errors == []
    # Nothing else on the display is a live region the polls would replace (no double reading).
    assert tv.locator("main [aria-live]").count() == 0


# --- 400 % zoom: the public pages at 320 px ----------------------------------------------------


def test_the_public_pages_reflow_at_320_px_without_scrolling_sideways(
    new_page, centre, catalogue, settings
):
    settings.EVENT_CHALLENGE_AFTER = 1000
    site = centre.alpha
    starts = (site.local_now() + dt.timedelta(days=3)).replace(hour=14, minute=0)
    event = make_event(
        site, title="Atelier CV : se présenter en une page", starts_at=starts, capacity=12
    )
    plan_appointments(centre)
    visit = queue_visit(site, "E")
    proof = proof_code(visit)
    pages = [
        f"/s/{site.slug}/",
        "/events/",
        f"/events/{event.pk}/",
        f"/appointments/{site.slug}/",
        ("a.choice", "Find a job"),  # the booking's steps, each from a link of the one before
        ("a.choice", "By phone"),
        ("a.slot", ""),
        "/catalogue/",
        "/catalogue/?q=sante",
        catalogue.get_absolute_url(),
        f"/t/{visit.token}/",
        "/verify/",
        f"/verify/{proof}/",
        f"/display/{site.slug}/",
    ]
    page = new_page({"width": 320, "height": 640})
    wide = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n, url in enumerate(pages):
        if isinstance(url, tuple):
            url = page.locator(url[0], has_text=url[1]).first.evaluate("a => a.href")
        response = page.goto(url)
        assert response.status == 200, url
        page.screenshot(path=str(SCREENSHOTS / f"reflow-320-{n}.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 320:
            wide[url] = width
    assert wide == {}
    assert page.js_errors == []


# --- less motion, forced colours ---------------------------------------------------------------


def test_the_display_keeps_still_for_reduced_motion_and_outlined_in_forced_colours(
    new_page, centre, english_site
):
    desk = make_desk(english_site, "Desk 3", "E", order=3)
    session = open_session(centre.counsellor_a, desk)
    queue_visit(english_site, "E")
    desk_services.call_next(session_id=session.pk, counsellor=centre.counsellor_a)
    tv = new_page(TABLET)
    tv.goto(f"/display/{english_site.slug}/")
    newest = tv.locator(".call-card.newest")  # the call of the moment fills the screen

    def style(locator, prop: str) -> str:
        return locator.evaluate(f"el => getComputedStyle(el).{prop}")

    assert style(newest, "animationName") == "pulse"
    tv.emulate_media(reduced_motion="reduce")
    assert style(newest, "animationName") == "none"
    assert style(tv.locator("html"), "scrollBehavior") == "auto"
    # A high-contrast theme drops backgrounds: the calls and the theme letters keep a border.
    tv.emulate_media(forced_colors="active")
    assert style(newest, "borderTopStyle") == "solid"
    assert float(style(newest, "borderTopWidth").removesuffix("px")) >= 2
    # Between calls: the queues' letters and the line of earlier calls.
    tv.emulate_media(forced_colors="none")
    calls_over(english_site)
    tv.reload()
    letter, called = tv.locator(".theme-letter").first, tv.locator(".called-list .call").first
    assert style(letter, "borderTopStyle") == "none"
    tv.emulate_media(forced_colors="active")
    for element in (letter, called):
        assert style(element, "borderTopStyle") == "solid"
        assert float(style(element, "borderTopWidth").removesuffix("px")) >= 2
    assert tv.js_errors == []
