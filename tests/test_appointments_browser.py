"""Appointments in real browsers at their sizes: reception (1024×768) checks an on-site visitor in
with their booking code; the appointment desk (1024×768) sees them here, calls them at their time
with "Call next" while a walk-in who came earlier keeps waiting for the walk-in desk; the same desk
starts a phone appointment during its slot and sees the number to call."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from reception.models import Visit
from tests.browser import TABLET, inside_viewport, log_in
from tests.counselling_fixtures import queue_visit
from tests.test_appointment_screens import soon, today_plan  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def test_an_on_site_appointment_checked_in_at_reception_is_called_at_its_time(
    new_page,
    centre,
    today_plan,  # noqa: F811
):
    appointment = soon(today_plan, minutes=3, pseudonym="Zoé")
    phone = soon(today_plan, channel="phone", minutes=4, phone="0601020304", pseudonym="Ana")
    walk_in = queue_visit(centre.alpha, "E")  # came before, waits for a walk-in desk

    reception = new_page(TABLET)
    log_in(reception, centre.reception.email)
    reception.get_by_role("link", name="Appointments").click()
    code = reception.get_by_label("Booking code")
    assert inside_viewport(code)
    code.fill(appointment.code[:4].lower() + " " + appointment.code[4:])
    reception.get_by_role("button", name="Check in", exact=True).click()
    expect(reception.locator(".messages")).to_contain_text("Zoé checked in: ticket E-002")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reception.screenshot(path=str(SCREENSHOTS / "reception-appointments.png"))
    assert reception.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    desk = new_page(TABLET)
    log_in(desk, centre.counsellor_b.email)
    desk.goto("/desk/")
    desk.get_by_role("button", name="Open Desk 4").click()
    listing = desk.locator(".desk-appointments")
    expect(listing).to_contain_text("Zoé")
    expect(listing).to_contain_text("here since")
    expect(desk.get_by_role("button", name="Start: Ana")).to_be_visible()
    assert inside_viewport(desk.get_by_role("button", name="Call next"))
    desk.screenshot(path=str(SCREENSHOTS / "desk-appointments.png"))

    desk.get_by_role("button", name="Call next").click()
    expect(desk.locator(".big-code")).to_have_text("E-002")
    expect(desk.locator(".appointment-note")).to_contain_text("Zoé")
    walk_in.refresh_from_db()
    assert walk_in.status == Visit.Status.WAITING  # not overtaken: never at this desk's turn
    desk.get_by_role("button", name="Start the interview").click()
    desk.get_by_role("button", name="Finish the interview").click()
    expect(desk.locator(".messages")).to_contain_text("Interview recorded.")

    desk.get_by_role("button", name="Start: Ana").click()
    expect(desk.locator(".appointment-note")).to_contain_text("0601020304")
    assert desk.locator('a[href="tel:0601020304"]').count() == 1
    desk.screenshot(path=str(SCREENSHOTS / "desk-phone-appointment.png"))
    phone.refresh_from_db()
    assert phone.status == Appointment.Status.ATTENDED
    assert reception.js_errors == [] and desk.js_errors == []
