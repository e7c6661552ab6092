"""A visitor books a phone appointment on their phone (390×844), in a real browser, from the site's
booking page to the confirmation: each step's main control on the first screen, nothing wider than
the screen, the automatic check solved by the page's own script under our CSP, and — their phone
set to another time zone — their own time beside the site's. Screenshots land in var/screenshots/
(booking-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from tests.booking_fixtures import free_slots, plan_appointments
from tests.browser import PHONE, inside_viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def wider_than_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        viewport=PHONE,
        locale="en-GB",
        timezone_id="America/New_York",  # not the site's: the page adds the visitor's time
        base_url=live_server.url,
    )
    context.set_default_timeout(15000)  # a loaded 2-core machine
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            page.js_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()


def stepper(phone, prefix: str):
    """A step of the booking: its main control shown, on the first screen, nothing wider than
    the phone; a screenshot `<prefix>-<name>.png`."""

    def step(name: str, main) -> None:
        expect(main).to_be_visible()
        phone.screenshot(path=str(SCREENSHOTS / f"{prefix}-{name}.png"), full_page=True)
        assert inside_viewport(main), name
        assert not wider_than_the_screen(phone), name

    return step


def to_the_times(phone, step, channel: str) -> None:
    """From the site's booking page to the times offered: Find a job, then `channel`."""
    phone.goto("/appointments/alpha/")
    expect(phone.locator("h1")).to_have_text("An appointment at Site Alpha")
    step("1-theme", phone.get_by_role("link", name="Find a job"))
    phone.get_by_role("link", name="Find a job").click()
    expect(phone.locator("h1")).to_have_text("How do you want to meet?")
    step("2-channel", phone.get_by_role("link", name=channel))
    phone.get_by_role("link", name=channel).click()


def test_a_visitor_books_a_phone_appointment_on_their_phone(phone, centre, settings):
    settings.EVENT_CHALLENGE_AFTER = 0  # everyone gets the automatic check: it must just work
    settings.EVENT_CHALLENGE_DIFFICULTY = 20_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    planned = plan_appointments(centre)
    offered = free_slots(planned, "phone")
    first = offered[0]
    site_time = timezone.localtime(first.starts, planned.site.zone)

    step = stepper(phone, "booking")
    to_the_times(phone, step, "By phone")

    expect(phone.locator("h1")).to_have_text("Choose a time")
    slot = phone.locator(".slot").first
    expect(slot.locator(".slot-time")).to_have_text(f"{site_time:%H:%M}")
    # New York is 5 or 6 hours behind Paris: the visitor's own time is added under the site's.
    expect(slot.locator(".slot-own-time")).to_be_visible()
    expect(phone.locator("[data-own-zone]")).to_contain_text("America/New_York")
    step("3-time", slot)
    slot.click()

    expect(phone.locator("h1")).to_have_text("Your details")
    submit = phone.get_by_role("button", name="Book this appointment")
    step("4-details", submit)
    expect(phone.locator(".honeypot input")).not_to_be_in_viewport()
    phone.get_by_label("First name or pseudonym").fill("Nadia")
    phone.get_by_label("Phone number to call").fill("06 12 34 56 78")
    submit.click()

    expect(phone.locator("h1")).to_have_text("Your appointment is booked", timeout=20000)
    appointment = Appointment.objects.get()
    assert (appointment.pseudonym, appointment.phone, appointment.channel) == (
        "Nadia",
        "0612345678",
        "phone",
    )
    assert appointment.starts == first.starts
    expect(phone.locator(".booking-code")).to_have_text(
        f"{appointment.code[:4]}-{appointment.code[4:]}"
    )
    expect(phone.get_by_text("A counsellor calls you at your time")).to_be_visible()
    step("5-confirmation", phone.get_by_role("button", name="Cancel the appointment"))

    # Another time, then no appointment after all: both from the same page.
    phone.get_by_role("link", name="Move to another time").click()
    expect(phone.locator("h1")).to_have_text("Move my appointment")
    later = phone.locator(".slot").nth(1)
    step("6-move", later)
    later.click()
    step("7-move-confirm", phone.get_by_role("button", name="Move it to this time"))
    phone.get_by_role("button", name="Move it to this time").click()
    expect(phone.get_by_text("Your appointment is moved to")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.starts == offered[2].starts  # the second of those left free
    phone.once("dialog", lambda dialog: dialog.accept())  # "Cancel this appointment?"
    phone.get_by_role("button", name="Cancel the appointment").click()
    expect(phone.locator("h1")).to_have_text("This appointment is cancelled")
    step("8-cancelled", phone.get_by_role("link", name="Book another appointment"))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert phone.js_errors == []
