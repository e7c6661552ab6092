"""A video appointment from end to end, in real browsers at their sizes: a visitor books it on their
phone (390×844), from the site's booking page to the confirmation, and gets the room link by
e-mail; at its time the counsellor of the appointments desk (1024×768) starts it from the desk,
sees the room link there, and records the interview. The e-mail is read from the locmem outbox
(the live server runs in this process; Celery is eager and the request's commit fires the
on-commit hook). Screenshots land in var/screenshots/ (booking-video-*.png,
desk-video-appointment.png)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from counselling.models import Interview
from tests.booking_fixtures import free_slots, plan_appointments
from tests.browser import TABLET, inside_viewport, log_in
from tests.events_fixtures import fixture_eager_celery  # noqa: F401  (a fixture)
from tests.test_booking_browser import (  # noqa: F401  (phone: a fixture)
    phone,
    stepper,
    to_the_times,
    wider_than_the_screen,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery"),
]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
ROOMS = "https://visio.example.org/cdm-{room}"  # the template plan_appointments gives Alpha


def test_a_visitor_books_a_video_appointment_and_the_desk_takes_it(
    phone,  # noqa: F811
    new_page,
    centre,
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    planned = plan_appointments(centre)  # Desk 4, for the Guidance centre (partner_b), with video
    assert planned.site.video_room_template == ROOMS
    first = free_slots(planned, "video")[0]
    site_time = timezone.localtime(first.starts, planned.site.zone)

    step = stepper(phone, "booking-video")

    # --- the visitor, on their phone ------------------------------------------------------------
    to_the_times(phone, step, "By video")

    expect(phone.locator("h1")).to_have_text("Choose a time")
    slot = phone.locator(".slot").first
    expect(slot.locator(".slot-time")).to_have_text(f"{site_time:%H:%M}")
    step("3-time", slot)
    slot.click()

    expect(phone.locator("h1")).to_have_text("Your details")
    submit = phone.get_by_role("button", name="Book this appointment")
    step("4-details", submit)
    # Video asks for an e-mail address only: the link goes there; no phone number.
    expect(phone.get_by_label("Phone number to call")).to_have_count(0)
    phone.get_by_label("First name or pseudonym").fill("Inès")
    phone.get_by_label("E-mail address for the video link").fill("ines@example.org")
    submit.click()

    expect(phone.locator("h1")).to_have_text("Your appointment is booked", timeout=20000)
    appointment = Appointment.objects.get()
    assert (appointment.pseudonym, appointment.email, appointment.phone) == (
        "Inès",
        "ines@example.org",
        "",
    )
    assert appointment.channel == "video"
    assert (appointment.desk_id, appointment.starts) == (planned.desk.pk, first.starts)
    assert appointment.room  # an unguessable room name, the site's template around it
    room_url = appointment.room_url
    assert room_url == ROOMS.replace("{room}", appointment.room)
    expect(phone.locator(".booking-code")).to_have_text(
        f"{appointment.code[:4]}-{appointment.code[4:]}"
    )
    expect(
        phone.get_by_text("You will receive the link of the video call by e-mail.")
    ).to_be_visible()
    step("5-confirmation", phone.get_by_role("button", name="Cancel the appointment"))

    (confirmation,) = mail.outbox
    assert confirmation.to == ["ines@example.org"]
    assert f"join the counsellor at this address: {room_url}" in confirmation.body
    ((html, _mimetype),) = confirmation.alternatives
    assert f'<a href="{room_url}">' in html

    # --- its time comes -------------------------------------------------------------------------
    # Booking is only offered from BOOKING_LEAD ahead: moving this appointment to a few minutes
    # from now stands for the time passing until its slot (the desk runs on the real clock).
    now = timezone.now().replace(microsecond=0)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts=now + dt.timedelta(minutes=3), ends=now + dt.timedelta(minutes=48)
    )

    # --- the counsellor of the appointments desk (Carol, delegated by the Guidance centre) -----
    desk = new_page(TABLET)
    log_in(desk, centre.counsellor_b.email)
    desk.goto("/desk/")
    desk.get_by_role("button", name="Open Desk 4").click()
    listing = desk.locator(".desk-appointments")
    expect(listing).to_contain_text("Inès")
    start = desk.get_by_role("button", name="Start: Inès")
    expect(start).to_be_visible()
    assert inside_viewport(start)
    start.click()

    expect(desk.locator(".appointment-note")).to_contain_text("Inès")
    room_link = desk.get_by_role("link", name="Open the video room")
    expect(room_link).to_have_attribute("href", room_url)
    expect(room_link).to_have_attribute("target", "_blank")
    assert inside_viewport(room_link)
    assert room_link.bounding_box()["height"] >= 44  # the one control of a video appointment
    assert not wider_than_the_screen(desk)
    desk.screenshot(path=str(SCREENSHOTS / "desk-video-appointment.png"))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ATTENDED
    interview = Interview.objects.get(visit__appointment=appointment)
    assert (interview.channel, interview.by_appointment, interview.partner) == (
        "video",
        True,
        centre.partner_b,
    )
    assert interview.ended_at is None

    desk.get_by_role("button", name="Finish the interview").click()
    expect(desk.locator(".messages")).to_contain_text("Interview recorded.")
    interview.refresh_from_db()
    assert interview.ended_at is not None
    assert phone.js_errors == [] and desk.js_errors == []
