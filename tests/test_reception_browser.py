"""A whole check-in in a real browser: Alice taps a theme on the tablet; within two seconds the
waiting-room screen counts the new visitor and a second reception tablet lists the ticket; the
visitor's phone says they are next. Screenshots land in var/screenshots/ (artefacts for the README,
not assertions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
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


# --- the staff header, one row on every tablet screen ---------------------------------------------


def header_layout(page) -> dict:
    """The rows the header's visible items take, and the items cut or off screen."""
    return page.evaluate(
        """() => {
          const items = [...document.querySelectorAll(
            '.site-header > a, .site-header nav > *, .language-switch > select, '
            + '.language-switch > button')].filter(el => el.getClientRects().length);
          const rects = items.map(el => el.getBoundingClientRect());
          const cut = items.filter((el, i) => rects[i].left < 0 || rects[i].right > innerWidth
                                           || el.scrollWidth > el.clientWidth + 1);
          const firstBottom = Math.min(...rects.map(r => r.bottom));
          return {rows: rects.every(r => r.top < firstBottom) ? 1 : 2, items: items.length,
                  cut: cut.map(el => el.textContent.trim())};
        }"""
    )


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("reception", "/reception/"),
        ("counsellor_a", "/desk/"),
        ("officer", "/catalogue/staff/"),
        ("organiser", "/events/manage/"),
    ],
)
def test_the_staff_header_is_one_row_on_a_tablet(new_page, centre, persona, path, locale):
    page = new_page(TABLET, locale=locale)
    log_in(page, centre.persona(persona).email)
    page.goto(path)

    layout = header_layout(page)
    assert (layout["rows"], layout["cut"]) == (1, []), layout
    assert layout["items"] >= 5  # brand, site, my screens, log out, language
    language = page.get_by_role("combobox", name=re.compile("Language|Langue"))
    expect(language).to_be_visible()
    # The select submits by itself: its button is for pages without JavaScript.
    expect(page.locator(".language-switch button")).to_be_hidden()
    assert page.js_errors == []


def test_the_language_select_changes_the_language_by_itself(new_page, centre):
    page = new_page(TABLET)
    log_in(page, centre.reception.email)

    page.get_by_role("combobox", name="Language").select_option("fr")

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(r"/reception/$"))


def test_without_javascript_the_language_button_is_there(browser, live_server, centre):
    context = browser.new_context(
        viewport=TABLET, base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        log_in(page, centre.reception.email)
        page.goto("/reception/")
        page.get_by_role("combobox", name="Language").select_option("fr")
        page.get_by_role("button", name="Change language").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    finally:
        context.close()


def test_the_site_select_switches_by_itself_on_one_row(new_page, centre):
    grant_role(user=centre.reception, role=Role.RECEPTION, site=centre.beta)
    page = new_page(TABLET)
    log_in(page, centre.reception.email)
    page.goto("/reception/")
    layout = header_layout(page)
    assert (layout["rows"], layout["cut"]) == (1, []), layout
    expect(page.get_by_role("button", name="Switch site")).to_be_hidden()

    page.get_by_role("combobox", name="Site").select_option(label="Site Beta")

    expect(page.get_by_role("combobox", name="Site")).to_have_value(str(centre.beta.pk))
    expect(page).to_have_url(re.compile(r"/reception/$"))
    assert page.js_errors == []
