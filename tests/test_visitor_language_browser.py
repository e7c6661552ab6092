"""The visitor's language in a real browser: the tablet's row of languages at 1024×768 with every
theme still on the first screen, Italiano chosen for one check-in, the ticket and the phone page
in Italian; the phone saying the call in the visitor's language with a voice of it; and the
README's screenshots (the tablet for an Italian staff member, the phone page in Spanish)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from citedesmetiers.models import Theme
from reception import services
from reception.models import Visit
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.counselling_actions import call_next
from tests.counselling_fixtures import make_desk, open_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WITHIN_TWO_POLLS = 2500  # ms, with LIVE_POLL_SECONDS = 1


def in_language(language: str, msgid: str) -> str:
    with translation.override(language):
        text = gettext(msgid)
    assert text != msgid, f"{msgid!r} has no {language} translation"
    return text


def six_themes(site) -> None:
    """The demo's six themes, one with a long name (as the tablet tests have them)."""
    for order, (letter, name) in enumerate(
        [
            ("O", "Choose a path"),
            ("C", "Change career, develop at work"),
            ("I", "Start, take over or hand on a business, an association or a self-employed job"),
        ],
        start=3,
    ):
        Theme.objects.create(site=site, letter=letter, name=name, order=order)


def assert_first_screen_and_tappable(locator) -> None:
    assert inside_viewport(locator), locator
    box = locator.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box


def test_reception_chooses_italiano_for_one_visitor(new_page, centre):
    six_themes(centre.alpha)
    tablet = new_page(TABLET)
    log_in(tablet, centre.reception.email)

    row = tablet.locator(".visitor-language")
    expect(row.locator("label.pill")).to_have_text(
        ["Français", "English", "Italiano", "Español", "Português"]
    )
    expect(row.get_by_role("radio", name="Français")).to_be_checked()  # the site's
    for i in range(5):
        assert_first_screen_and_tappable(row.locator("label.pill").nth(i))
    buttons = tablet.locator(".theme-buttons button.theme-button")
    expect(buttons).to_have_count(6)
    for i in range(6):
        assert_first_screen_and_tappable(buttons.nth(i))

    row.get_by_text("Italiano").click()
    tablet.get_by_role("button", name="Find a job").click()

    expect(tablet.locator("h1")).to_have_text("E-001")
    expect(tablet.get_by_role("link", name="Next visitor")).to_be_visible()  # reception's own
    visit = Visit.objects.get()
    assert visit.language == "it"
    with tablet.expect_popup() as popup:
        tablet.get_by_role("link", name="Print the ticket").click()
    ticket = popup.value
    expect(ticket.locator("html")).to_have_attribute("lang", "it")
    expect(ticket.locator(".hint").first).to_have_text(
        in_language("it", "Scan to follow your place in the queue on your phone.")
    )

    phone = new_page(PHONE, locale="en-GB")
    phone.goto(f"/t/{visit.token}/")
    expect(phone.locator("html")).to_have_attribute("lang", "it")
    expect(phone.locator(".position")).to_have_text(in_language("it", "You are next."))

    # The next visitor starts from the site's language again.
    tablet.get_by_role("link", name="Next visitor").click()
    expect(row.get_by_role("radio", name="Français")).to_be_checked()
    for page in (tablet, phone):
        assert page.js_errors == [], page.url


FAKE_SPEECH = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
Object.defineProperty(window, "speechSynthesis", { value: {
  getVoices: function () {
    return [{ name: "English", lang: "en-US" }, { name: "Castellano", lang: "es-ES" }];
  },
  speak: function (u) {
    window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null });
  },
} });
"""


def test_the_phone_says_the_call_in_the_visitors_language_once_sound_is_on(
    new_page, centre, settings
):
    settings.LIVE_POLL_SECONDS = 1
    desk = make_desk(centre.alpha, "Desk 2", "E")
    desk.spoken_name = "mesa dos"
    desk.save(update_fields=["spoken_name"])
    session = open_session(centre.counsellor_a, desk)
    visit, _created = services.check_in(
        site=centre.alpha, theme_id=centre.alpha.themes.get(letter="E").pk, language="es"
    )
    phone = new_page(PHONE, locale="en-GB")
    phone.add_init_script(FAKE_SPEECH)
    phone.goto(f"/t/{visit.token}/")

    toggle = phone.locator("[data-sound-toggle]")
    expect(toggle).to_have_text(in_language("es", "Turn sound on"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    call_next(session)

    expect(phone.locator(".your-turn")).to_be_visible(timeout=WITHIN_TWO_POLLS)
    phone.wait_for_function("() => window.__spoken.length === 1")
    (spoken,) = phone.evaluate("window.__spoken")
    with translation.override("es"):
        said = gettext("Ticket %(ticket)s, %(desk)s") % {"ticket": "E 1", "desk": "mesa dos"}
    assert spoken == {"text": said, "lang": "es", "voice": "Castellano"}
    assert phone.js_errors == []


def test_screenshots_of_the_tablet_in_italian_and_the_phone_in_spanish(new_page, centre):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    six_themes(centre.alpha)
    tablet = new_page(TABLET, locale="it-IT")
    log_in(tablet, centre.reception.email)
    expect(tablet.locator("html")).to_have_attribute("lang", "it")
    expect(tablet.locator(".visitor-language-title")).to_have_text(
        in_language("it", "Visitor's language")
    )
    tablet.goto("/reception/")  # without the sign-in message
    tablet.screenshot(path=str(SCREENSHOTS / "reception-it.png"))

    theme = centre.alpha.themes.get(letter="E")
    for _ in range(3):
        services.check_in(site=centre.alpha, theme_id=theme.pk, language="fr")
    visit, _created = services.check_in(site=centre.alpha, theme_id=theme.pk, language="es")
    phone = new_page(PHONE, locale="en-GB")
    phone.goto(f"/t/{visit.token}/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.screenshot(path=str(SCREENSHOTS / "visitor-es.png"))
    assert tablet.js_errors == [] and phone.js_errors == []
