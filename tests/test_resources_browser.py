"""The public catalogue in a real browser: search as you type (and without JavaScript), a kiosk that
forgets the search when left alone and shows web addresses as QR codes. Screenshots land in
var/screenshots/catalogue-*.png (artefacts for the README, not assertions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from citedesmetiers.models import Site
from citedesmetiers.roles import Role
from resources.models import Resource
from resources.search import refresh_terms
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.conftest import make_site, make_staff
from tests.test_resources_search import add_resource, ensure_purposes

# Transactional (the live server's thread sees the data); the `catalogue` fixture makes the
# purposes it needs, whatever an earlier transactional test's flush left.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
LINK = "https://example.org/portail-des-metiers-de-la-sante"
WITHIN = 2000  # ms


def become_kiosk(page) -> None:
    """Set the browser up as the kiosk of site Alpha, as staff do at a terminal."""
    page.goto("/catalogue/kiosk/alpha/")
    page.get_by_role("button", name="Use this browser as the kiosk of Site Alpha").click()
    page.wait_for_url("**/catalogue/kiosk/alpha/")


def session_cookie(page) -> str | None:
    cookies = page.context.cookies()
    return next((c["value"] for c in cookies if c["name"] == "sessionid"), None)


@pytest.fixture
def centre_staff(catalogue):
    """An information officer of Alpha (no MFA asked of that role)."""
    return make_staff("dan@alpha.test", Role.INFORMATION_OFFICER, Site.objects.get(slug="alpha"))


@pytest.fixture
def catalogue(transactional_db) -> dict[str, Resource]:
    purposes = ensure_purposes()
    alpha = make_site("alpha")
    professions, training = purposes["learn-about-professions"], purposes["find-a-training"]
    resources = {
        "book": add_resource(
            "Les métiers de la santé",
            kind=Resource.Kind.BOOK,
            authors="Claire Martin",
            publisher="Onisep",
            year=2024,
            purposes=[professions],
            summary="Infirmier, aide-soignant, sage-femme : qui fait quoi à l'hôpital.",
            holdings=[(alpha, "MET 610")],
        ),
        "website": add_resource(
            "Portail des métiers de la santé",
            kind=Resource.Kind.WEBSITE,
            purposes=[professions],
            url=LINK,
            summary="Fiches métiers, vidéos et témoignages.",
        ),
    }
    for n in range(24):
        add_resource(
            f"Guide des formations {n + 1:02d}",
            kind=[Resource.Kind.BOOK, Resource.Kind.LEAFLET, Resource.Kind.VIDEO][n % 3],
            purposes=[training],
            summary="Diplômes, alternance et financement.",
            holdings=[(alpha, f"FOR {100 + n}")],
        )
    refresh_terms()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return resources


def mark_document(page) -> None:
    """Leave a mark on this document: it survives an htmx swap, not a page load."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_search_as_you_type_updates_the_results_without_loading_a_page(new_page, catalogue):
    page = new_page()
    page.goto("/catalogue/?q=sante")
    count = page.locator(".result-count")
    expect(count).to_contain_text("2")
    mark_document(page)

    page.locator("#catalogue-q").fill("formations")
    expect(count).to_contain_text("24", timeout=WITHIN)
    expect(page.locator(".hit-list .hit")).to_have_count(20)
    expect(page.get_by_role("link", name="Guide des formations 01")).to_be_visible()
    assert same_document(page)
    assert "q=formations" in page.url  # pushed, so Back and a reload show the same results
    assert page.js_errors == []


def test_typing_on_the_home_page_shows_results_as_you_type(new_page, catalogue):
    page = new_page()
    page.goto("/catalogue/")
    mark_document(page)
    page.locator("#catalogue-q").fill("metiers")
    expect(page.locator(".result-count")).to_contain_text("2", timeout=WITHIN)
    expect(page.get_by_role("link", name="Les métiers de la santé")).to_be_visible()
    assert page.js_errors == []


def test_a_normal_submit_works_without_javascript(browser, live_server, catalogue):
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, viewport=TABLET, locale="en-GB"
    )
    context.set_default_timeout(5000)
    try:
        page = context.new_page()
        page.goto("/catalogue/")
        page.locator("#catalogue-q").fill("métiers")
        page.locator(".search-form button[type=submit]").click()
        page.wait_for_url("**/catalogue/?q=*")
        expect(page.locator(".hit-list .hit")).to_have_count(2)
        expect(page.get_by_role("link", name="Les métiers de la santé")).to_be_visible()

        # Facets and pages are plain links too.
        page.locator("#catalogue-q").fill("formation")
        page.locator(".search-form button[type=submit]").click()
        page.wait_for_url("**q=formation*")
        page.locator(".pagination a").last.click()
        page.wait_for_url("**page=2*")
        expect(page.locator(".hit-list .hit")).to_have_count(4)
    finally:
        context.close()


def kiosk_tablet(new_page, settings, *, idle: int, warning: int):
    """A tablet whose clock the test moves, on a kiosk idle `idle` s, then warning `warning` s."""
    settings.KIOSK_IDLE_SECONDS = idle
    settings.KIOSK_WARNING_SECONDS = warning
    page = new_page(TABLET)
    page.clock.install()
    return page


def search_on_a_kiosk(page, words: str) -> None:
    become_kiosk(page)
    expect(page.locator("body.kiosk")).to_have_count(1)
    page.locator("#catalogue-q").fill(words)
    page.locator(".search-form button[type=submit]").click()
    page.wait_for_url(f"**q={words}*")
    expect(page.locator(".hit-list .hit")).to_have_count(20)


def test_a_kiosk_left_alone_returns_home_and_forgets_the_search(
    new_page, catalogue, centre_staff, settings
):
    page = kiosk_tablet(new_page, settings, idle=10, warning=20)  # the shortest allowed
    # Someone logged in on the terminal and walked away: the restart forgets that too.
    log_in(page, centre_staff.email)
    page.screenshot(path=str(SCREENSHOTS / "catalogue-kiosk-home.png"))
    search_on_a_kiosk(page, "formation")
    page.screenshot(path=str(SCREENSHOTS / "catalogue-kiosk-results.png"))
    session = session_cookie(page)
    assert Session.objects.filter(session_key=session).exists()

    # Someone still reading: each touch restarts the countdown (a tap, then a key; a scroll
    # would too, but its event comes at a rendering step of its own, out of the clock's step).
    page.clock.fast_forward("00:08")
    page.locator("#catalogue-q").click()
    page.clock.fast_forward("00:08")
    page.locator("#catalogue-q").press("End")
    page.clock.fast_forward("00:08")
    assert "q=formation" in page.url
    expect(page.get_by_role("alertdialog")).to_have_count(0)

    # Then nobody: first a warning, then back to the home page of the kiosk's own site.
    page.clock.fast_forward("00:03")
    expect(page.get_by_role("alertdialog", name="Are you still there?")).to_be_visible()
    with page.expect_response("**/catalogue/restart-kiosk/") as restart:
        page.clock.fast_forward("00:21")
    assert restart.value.request.method == "POST"
    assert restart.value.status == 302
    page.wait_for_url(lambda url: url.endswith("/catalogue/kiosk/alpha/"), timeout=WITHIN)
    expect(page.locator(".purpose-tiles")).to_be_visible()
    expect(page.locator("#catalogue-q")).to_have_value("")
    expect(page.locator("body.kiosk")).to_have_count(1)  # still a kiosk
    # The server no longer holds anything of that person's time at the terminal.
    assert not Session.objects.filter(session_key=session).exists()
    assert session_cookie(page) is None
    # And the Back gesture does not bring the search back.
    page.go_back()
    assert "q=formation" not in page.url
    assert page.js_errors == []


def test_a_kiosk_search_as_you_type_leaves_nothing_for_the_back_button(
    new_page, catalogue, settings
):
    page = kiosk_tablet(new_page, settings, idle=10, warning=20)
    become_kiosk(page)
    entries = page.evaluate("history.length")
    for words in ("sante", "formations"):
        page.locator("#catalogue-q").fill(words)
        page.clock.run_for(400)  # the typing pause the search waits for
        # The address follows (a reload still shows the results), in place.
        expect(page).to_have_url(re.compile(f"q={words}"), timeout=WITHIN)
        expect(page.locator(".result-count")).to_be_visible()
    assert page.evaluate("history.length") == entries

    page.clock.fast_forward("00:11")
    expect(page.get_by_role("alertdialog")).to_be_visible()
    page.clock.fast_forward("00:21")
    page.wait_for_url(lambda url: url.endswith("/catalogue/kiosk/alpha/"), timeout=WITHIN)
    page.go_back()
    assert "q=" not in page.url
    assert page.js_errors == []


def test_a_kiosk_warns_before_restarting_and_continue_keeps_the_search(
    new_page, catalogue, settings
):
    page = kiosk_tablet(new_page, settings, idle=30, warning=20)
    search_on_a_kiosk(page, "formation")
    page.locator(".hit-list .hit a").first.focus()

    page.clock.fast_forward("00:31")
    dialog = page.get_by_role("alertdialog", name="Are you still there?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("In 20 seconds, the catalogue starts again")
    proceed = dialog.get_by_role("button", name="Continue")
    expect(proceed).to_be_focused()
    box = proceed.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert inside_viewport(proceed)
    page.screenshot(path=str(SCREENSHOTS / "catalogue-kiosk-warning.png"))

    # Continue: the search stays, and the countdown starts over from the beginning.
    page.clock.fast_forward("00:15")
    proceed.click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".hit-list .hit a").first).to_be_focused()  # back where they were
    page.clock.fast_forward("00:25")
    assert "q=formation" in page.url
    expect(page.locator(".hit-list .hit")).to_have_count(20)
    expect(dialog).to_have_count(0)

    # Any key while it asks is someone there too (here Escape, by keyboard alone).
    page.clock.fast_forward("00:06")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("00:29")
    assert "q=formation" in page.url
    expect(page.locator("#catalogue-q")).to_have_value("formation")
    assert page.js_errors == []


def test_the_kiosk_address_opens_on_its_purpose_tiles_all_in_view(new_page, catalogue):
    page = new_page(TABLET)
    become_kiosk(page)
    tiles = page.locator(".purpose-tiles .tile")
    expect(tiles).to_have_count(5)
    page.screenshot(path=str(SCREENSHOTS / "catalogue-kiosk-tiles.png"))
    # The search and every purpose on the first screen of a 1024×768 terminal, large enough.
    for control in [
        page.locator("#catalogue-q"),
        page.locator(".search-form button"),
        *tiles.all(),
    ]:
        assert inside_viewport(control), control
        assert control.bounding_box()["height"] >= 44, control
    expect(page.locator(".result-count")).to_have_count(0)
    expect(page.locator("#language-select")).to_have_count(0)
    expect(page.get_by_role("button", name="Change language")).to_have_count(0)

    # A purpose lists what this site holds for it.
    tiles.filter(has_text="Trouver une formation").click()
    page.wait_for_url("**purpose=find-a-training*")
    assert "site=alpha" in page.url
    expect(page.locator(".hit-list .hit").first).to_be_visible()
    assert page.js_errors == []


def test_just_browsing_a_sites_catalogue_opens_its_purpose_tiles(new_page, catalogue):
    page = new_page(TABLET)
    page.goto("/catalogue/kiosk/alpha/")
    page.get_by_role("link", name="Just browse the catalogue").click()
    page.wait_for_url("**/catalogue/?site=alpha")
    expect(page.locator(".purpose-tiles .tile")).to_have_count(5)
    assert inside_viewport(page.locator(".purpose-tiles .tile").last)
    expect(page.locator(".result-count")).to_have_count(0)
    expect(page.locator("body.kiosk")).to_have_count(0)  # browsing is not setting a kiosk up


def test_a_kiosk_shows_a_web_address_as_a_qr_code_not_a_link(new_page, catalogue):
    page = new_page(TABLET)
    become_kiosk(page)
    page.goto(catalogue["website"].get_absolute_url())
    expect(page.locator(".qr-block svg")).to_have_count(2)
    expect(page.get_by_text(LINK)).to_be_visible()  # readable, to type it on one's phone
    expect(page.locator('a[href^="http"]')).to_have_count(0)
    expect(page.locator(".staff-nav")).to_have_count(0)
    expect(page.locator('a[href*="/accounts/"]')).to_have_count(0)
    assert page.js_errors == []

    # The same browser, no longer a kiosk: a link.
    page.goto("/catalogue/leave-kiosk/")
    page.get_by_role("button", name="Turn it back into an ordinary browser").click()
    page.wait_for_url("**/catalogue/")
    page.goto(catalogue["website"].get_absolute_url())
    expect(page.locator(f'a[href="{LINK}"]')).to_be_visible()
    expect(page.locator(".qr-block svg")).to_have_count(1)


def test_the_catalogue_on_a_phone(new_page, catalogue):
    page = new_page(PHONE)
    page.goto("/catalogue/?q=sante")
    expect(page.locator(".hit-list .hit")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "catalogue-phone-results.png"), full_page=True)

    page.get_by_role("link", name="Les métiers de la santé").click()
    page.wait_for_url(f"**{catalogue['book'].get_absolute_url()}")
    expect(page.get_by_text("MET 610")).to_be_visible()
    expect(page.locator(".qr-block svg")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "catalogue-phone-detail.png"), full_page=True)
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.js_errors == []
