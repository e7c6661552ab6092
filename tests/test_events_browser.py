"""A whole registration in a real browser: Nadia finds the workshop on the list, registers on her
phone through the detail page, gets the confirmation e-mail, follows its link and cancels. The
e-mail is read from the locmem outbox (the live server runs in this process; Celery is eager and
the request's commit fires the on-commit hook). Screenshots land in var/screenshots/ (artefacts
for the README, not assertions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from events.models import Registration
from tests.browser import PHONE, TABLET, inside_viewport
from tests.events_fixtures import (
    fixture_eager_celery,  # noqa: F401 (a fixture)
    link_after,
    make_event,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery"),
]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def test_register_on_a_phone_then_cancel_from_the_email(new_page, live_server, centre, settings):
    settings.SITE_URL = live_server.url  # so the links of the e-mail open on the test server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    in_three_days = centre.alpha.local_now() + dt.timedelta(days=3)
    afternoon = in_three_days.replace(hour=14, minute=0, second=0, microsecond=0)
    event = make_event(
        centre.alpha,
        starts_at=afternoon,
        title="Atelier CV : se présenter en une page",
        capacity=12,
        place="Salle 2",
        description="Deux heures pour un CV clair, avec une conseillère.",
    )
    make_event(
        centre.beta,
        title="Club des créateurs",
        kind="club",
        capacity=20,
        starts_at=afternoon + dt.timedelta(days=3, hours=4),
        hours=1.5,
    )
    make_event(
        centre.alpha,
        title="Forum du numérique",
        kind="information_day",
        capacity=None,
        starts_at=afternoon + dt.timedelta(days=1, hours=-4),
        hours=4,
    )

    tablet = new_page(TABLET)
    tablet.goto("/events/")
    expect(tablet.get_by_role("link", name="Atelier CV : se présenter en une page")).to_be_visible()
    expect(tablet.locator(".event-hit")).to_have_count(3)
    tablet.screenshot(path=str(SCREENSHOTS / "events-list.png"), full_page=True)

    phone = new_page(PHONE)
    phone.goto(f"/events/{event.pk}/")
    expect(phone.locator("h1")).to_have_text("Atelier CV : se présenter en une page")
    expect(phone.get_by_text("Places are available.")).to_be_visible()
    expect(phone.locator(".honeypot input")).not_to_be_in_viewport()
    phone.screenshot(path=str(SCREENSHOTS / "events-detail-phone.png"), full_page=True)

    phone.get_by_label("First name or pseudonym").fill("Nadia")
    phone.get_by_label("E-mail address (optional)").fill("nadia@example.org")
    phone.get_by_role("button", name="Register", exact=True).click()

    # The same answer whether the address was registered already or not: check the mailbox.
    expect(phone.locator("h1")).to_have_text("Check your mailbox")
    registration = Registration.objects.get()
    assert (registration.pseudonym, registration.email, registration.language) == (
        "Nadia",
        "nadia@example.org",
        "en",
    )

    (confirmation,) = mail.outbox
    assert confirmation.to == ["nadia@example.org"]
    assert confirmation.subject == "Your place is booked: Atelier CV : se présenter en une page"
    link = link_after(confirmation.body, "See or cancel my registration:")
    assert link.startswith(live_server.url)

    phone.goto(link)
    expect(phone.locator(".registration-status")).to_contain_text("Your place is booked.")
    expect(phone.locator(".reg-code")).to_have_text(registration.code)
    phone.screenshot(path=str(SCREENSHOTS / "events-registration.png"), full_page=True)
    phone.once("dialog", lambda dialog: dialog.accept())  # "Cancel this registration?"
    phone.get_by_role("button", name="Cancel my registration").click()

    # A page that says so, with nothing to add to a calendar; the event has a place free again.
    expect(phone.locator("h1")).to_have_text("Your registration is cancelled.")
    expect(phone.get_by_role("link", name="Add to my calendar (.ics)")).to_have_count(0)
    phone.get_by_role("link", name="About the event").click()
    expect(phone.locator("h1")).to_have_text("Atelier CV : se présenter en une page")
    expect(phone.get_by_text("Places are available.")).to_be_visible()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert len(mail.outbox) == 1  # nobody was waiting: no other e-mail
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("This link is not valid")

    for page in (tablet, phone):
        assert page.js_errors == [], page.url


def test_the_check_of_a_nearly_full_event_runs_by_itself_under_the_csp(
    new_page, live_server, centre, settings
):
    settings.EVENT_CHALLENGE_DIFFICULTY = 100_000  # the default a phone gets
    event = make_event(centre.alpha, title="Job dating", capacity=10)
    for n in range(9):
        Registration.objects.create(event=event, pseudonym=f"V{n}", status="confirmed")

    phone = new_page(PHONE)
    phone.goto(f"/events/{event.pk}/")
    status = phone.locator("[data-challenge-status]")
    expect(status).to_have_attribute("role", "status")
    # The explanation for people without JavaScript is out of the way once the script runs.
    expect(phone.locator("[data-challenge-fallback]")).to_be_hidden()
    phone.get_by_label("First name or pseudonym").fill("Karim")
    # Pressed at once, with the keyboard: the form waits for the check, then goes by itself.
    phone.get_by_role("button", name="Register", exact=True).focus()
    phone.keyboard.press("Enter")

    expect(phone.locator(".registration-status")).to_contain_text(
        "Your place is booked.", timeout=20000
    )
    assert Registration.objects.get(pseudonym="Karim").status == Registration.Status.CONFIRMED
    assert phone.js_errors == []


def test_without_javascript_the_check_says_what_to_do_instead(browser, live_server, centre):
    event = make_event(centre.alpha, title="Job dating", capacity=10)
    for n in range(9):
        Registration.objects.create(event=event, pseudonym=f"V{n}", status="confirmed")
    context = browser.new_context(
        viewport=PHONE, locale="en-GB", base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"/events/{event.pk}/")
        fallback = page.locator("[data-challenge-fallback]")
        expect(fallback).to_be_visible()
        expect(fallback).to_contain_text("register at the reception of Site Alpha")
        page.get_by_label("First name or pseudonym").fill("Karim")
        page.get_by_role("button", name="Register", exact=True).click()

        expect(page.get_by_text("Your registration is not sent yet")).to_be_visible()
        expect(page.locator("[data-challenge-fallback]")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "events-check-without-js.png"), full_page=True)
        assert not Registration.objects.filter(pseudonym="Karim").exists()
    finally:
        context.close()


def test_on_a_phone_the_first_event_is_on_the_first_screen(new_page, centre):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    soon = centre.alpha.local_now().replace(hour=14, minute=0, second=0, microsecond=0)
    full = make_event(
        centre.alpha,
        title="Réussir son entretien d'embauche",
        capacity=2,
        starts_at=soon + dt.timedelta(days=1),
        place="Salle Jules Verne",
    )
    for n in range(2):
        Registration.objects.create(event=full, pseudonym=f"V{n}", status="confirmed")
    make_event(
        centre.alpha,
        title="Atelier CV : se présenter en une page",
        capacity=12,
        starts_at=soon + dt.timedelta(days=2),
    )

    phone = new_page(PHONE)
    phone.goto("/events/")

    first = phone.locator(".event-hit").first
    expect(first).to_contain_text("Réussir son entretien d'embauche")
    assert inside_viewport(first)
    expect(first.locator(".availability")).to_have_text("Full: waiting list")
    expect(phone.locator(".event-hit").nth(1).locator(".availability")).to_have_text(
        "Places available"
    )
    # The four filters are folded behind one button, and open on a tap.
    filters = phone.get_by_text("Filters", exact=True)
    assert inside_viewport(filters)
    assert filters.bounding_box()["height"] >= 44
    expect(phone.get_by_label("Kind")).to_be_hidden()
    phone.screenshot(path=str(SCREENSHOTS / "events-list-phone.png"))
    filters.click()
    phone.get_by_label("Kind").select_option("workshop")
    phone.get_by_role("button", name="Show").click()

    # A filter in use (or a site's link with its place): the events still come first, and the
    # folded filters say how many are in use.
    expect(phone.locator("summary")).to_contain_text("(1 active)")
    expect(phone.get_by_label("Kind")).to_be_hidden()
    assert inside_viewport(phone.locator(".event-hit").first)
    assert phone.js_errors == []


def test_on_a_phone_an_event_page_offers_its_registration_on_the_first_screen(new_page, centre):
    event = make_event(
        centre.alpha,
        title="Atelier CV",
        description="Deux heures pour écrire un CV d'une page. " * 12,  # a long description
    )
    phone = new_page(PHONE)
    phone.goto(f"/events/{event.pk}/")

    go = phone.get_by_role("link", name="Go to registration")
    assert inside_viewport(go)
    assert go.bounding_box()["height"] >= 44
    go.click()
    expect(phone.get_by_label("First name or pseudonym")).to_be_in_viewport()


def test_on_a_phone_a_code_finds_the_place_and_cancels_it(new_page, centre):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    event = make_event(centre.alpha, title="Club des créateurs", capacity=1)
    nadia = Registration.objects.create(event=event, pseudonym="Nadia", status="confirmed")
    karim = Registration.objects.create(event=event, pseudonym="Karim", status="waiting")

    phone = new_page(PHONE)
    phone.goto("/events/")
    phone.get_by_role("link", name="Registered already? Find my registration with its code").click()
    phone.get_by_label("Registration code").fill(f"{nadia.code[:4].lower()} {nadia.code[4:]}")
    phone.screenshot(path=str(SCREENSHOTS / "events-code-phone.png"))
    phone.get_by_role("button", name="Find my registration").click()

    expect(phone.locator(".registration-status")).to_contain_text("Your place is booked.")
    expect(phone.locator(".reg-code")).to_have_text(nadia.code)
    phone.once("dialog", lambda dialog: dialog.accept())  # "Cancel this registration?"
    phone.get_by_role("button", name="Cancel my registration").click()

    expect(phone.locator("h1")).to_have_text("Your registration is cancelled.")
    expect(phone.get_by_role("link", name="Add to my calendar (.ics)")).to_have_count(0)
    nadia.refresh_from_db()
    karim.refresh_from_db()
    assert (nadia.status, karim.status) == ("cancelled", "confirmed")

    # The code is spent: typed again, the same answer as any unknown code.
    phone.goto("/events/code/")
    phone.get_by_label("Registration code").fill(nadia.code)
    phone.get_by_role("button", name="Find my registration").click()
    expect(phone.get_by_role("alert")).to_contain_text(
        "We find no registration in progress with this code."
    )
    assert phone.js_errors == []
