"""A whole check-in in a real browser: Alice taps a theme on the tablet; within two seconds the
waiting-room screen counts the new visitor and a second reception tablet lists the ticket; the
visitor's phone says they are next. Screenshots land in var/screenshots/ (artefacts for the README,
not assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from reception.models import Visit
from tests.browser import PHONE, TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WITHIN_TWO_POLLS = 2500  # ms: the pages poll every LIVE_POLL_SECONDS (1 s here)


def test_a_check_in_on_the_tablet_shows_on_the_display_the_overview_and_the_phone(
    new_page, centre, settings
):
    settings.LIVE_POLL_SECONDS = 1
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    tablet = new_page(TABLET)
    log_in(tablet, centre.reception.email)
    tablet.goto("/reception/")

    # A second tablet stays on the overview, to watch it update by itself.
    overview = new_page(TABLET)
    log_in(overview, centre.reception.email)
    overview.goto("/reception/")
    expect(overview.locator("#overview")).to_contain_text("Nobody is waiting.")

    display = new_page(TABLET)
    display.goto(f"/display/{centre.alpha.slug}/")
    jobs_on_display = display.locator(".theme-waits li", has_text="Find a job")
    expect(jobs_on_display).to_contain_text("0 waiting")

    tablet.get_by_role("button", name="Find a job").click()

    expect(tablet.locator("h1")).to_have_text("E-001")
    tablet.screenshot(path=str(SCREENSHOTS / "tablet-confirmation.png"))
    expect(jobs_on_display).to_contain_text("1 waiting", timeout=WITHIN_TWO_POLLS)
    expect(overview.locator("#overview .tickets")).to_contain_text(
        "E-001", timeout=WITHIN_TWO_POLLS
    )
    overview.screenshot(path=str(SCREENSHOTS / "tablet.png"))
    display.screenshot(path=str(SCREENSHOTS / "display.png"))

    visit = Visit.objects.get()
    phone = new_page(PHONE)
    phone.goto(f"/t/{visit.token}/")
    expect(phone.locator(".big-code")).to_have_text("E-001")
    expect(phone.locator(".position")).to_have_text("You are next.")
    expect(phone.get_by_role("button", name="Leave the queue")).to_be_visible()
    phone.screenshot(path=str(SCREENSHOTS / "phone.png"), full_page=True)

    for page in (tablet, overview, display, phone):
        assert page.js_errors == [], page.url
