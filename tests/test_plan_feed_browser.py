"""A counsellor reads their plan on a phone and makes its calendar address: nothing wider than the
screen, the button on the first screen, the address shown once. Real login form, real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from counselling.models import PlanFeed
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.plan_fixtures import Plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def wider_than_its_window(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


def test_a_counsellor_reads_their_plan_on_a_phone_and_makes_its_address(new_page, centre):
    Plan(centre)
    phone = new_page(PHONE)
    log_in(phone, centre.counsellor_a.email)

    phone.goto("/desk/plan/")

    expect(phone.get_by_role("heading", level=1)).to_have_text("My plan")
    expect(phone.locator(".my-plan-session").first).to_contain_text("Desk 1")
    assert not wider_than_its_window(phone)
    create = phone.get_by_role("button", name="Create my calendar address")
    assert inside_viewport(create)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "desk-plan.png"))

    create.click()

    address = phone.get_by_label("Calendar address")
    expect(address).to_be_visible()
    assert address.input_value().endswith(".ics")
    assert PlanFeed.objects.filter(counsellor=centre.counsellor_a).exists()
    assert not wider_than_its_window(phone)
    phone.screenshot(path=str(SCREENSHOTS / "desk-plan-address.png"))
    assert phone.js_errors == []

    tablet = new_page(TABLET)
    log_in(tablet, centre.counsellor_a.email)
    tablet.goto("/desk/plan/")
    assert not wider_than_its_window(tablet)
    assert inside_viewport(tablet.get_by_role("button", name="Replace the address"))
    tablet.screenshot(path=str(SCREENSHOTS / "desk-plan-tablet.png"), full_page=True)
