"""A whole check-in in a real browser: Alice taps a theme on the tablet; within two seconds the
waiting-room screen counts the new visitor and a second reception tablet lists the ticket; the
visitor's phone says they are next. Then the tablet at its real size (1024×768): six themes on the
first screen, six check-ins without scrolling, late check-ins after hours, “Left” and its undo, and
a one-row staff header on every tablet screen. Screenshots land in var/screenshots/ (artefacts for
the README, not assertions)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from citedesmetiers.models import Theme
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import planning
from counselling.models import PlanMode
from reception import services
from reception.models import Visit
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.conftest import make_site, make_staff
from tests.counselling_fixtures import make_desk

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


# --- the tablet at its real size (1024×768) -------------------------------------------------------

LONG_NAME = (
    "Start, take over or hand on a business, an association or a self-employed job"  # 77 of 80
)


def six_themes(site, long_name: str = "Work abroad"):
    """The demo's six themes (one of them with a long name)."""
    for order, (letter, name) in enumerate(
        [("O", "Choose a path"), ("C", "Change career, develop at work"), ("I", long_name)],
        start=3,
    ):
        Theme.objects.create(site=site, letter=letter, name=name, order=order)
    return list(site.themes.filter(active=True))


def theme_buttons(page):
    return page.locator(".theme-buttons button.theme-button")


def assert_tappable_on_first_screen(locator):
    assert inside_viewport(locator), locator
    box = locator.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box


def test_the_six_themes_are_on_the_first_screen_right_after_login(new_page, centre):
    six_themes(centre.alpha, LONG_NAME)
    tablet = new_page(TABLET)

    log_in(tablet, centre.reception.email)

    expect(tablet).to_have_url(re.compile(r"/reception/$"))
    expect(tablet.locator(".messages .message")).to_be_visible()  # “Successfully signed in”
    buttons = theme_buttons(tablet)
    expect(buttons).to_have_count(6)
    for i in range(6):
        assert_tappable_on_first_screen(buttons.nth(i))
    # Two or three columns, not one.
    lefts = {round(buttons.nth(i).bounding_box()["x"]) for i in range(6)}
    assert len(lefts) in (2, 3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tablet.screenshot(path=str(SCREENSHOTS / "tablet-after-login.png"))
    assert tablet.js_errors == []


def test_six_check_ins_in_a_row_without_scrolling(new_page, centre):
    themes = six_themes(centre.alpha)
    tablet = new_page(TABLET)
    log_in(tablet, centre.reception.email)

    for i, theme in enumerate(themes):
        button = tablet.get_by_role("button", name=theme.name, exact=True)
        assert_tappable_on_first_screen(button)
        button.click()
        expect(tablet.locator("h1")).to_have_text(f"{theme.letter}-001")
        next_visitor = tablet.get_by_role("link", name="Next visitor")
        assert_tappable_on_first_screen(next_visitor)
        next_visitor.click()
        expect(tablet.locator("#overview .tickets li")).to_have_count(i + 1)
        assert tablet.evaluate("window.scrollY") == 0
    assert Visit.objects.count() == 6
    assert tablet.js_errors == []


def test_late_check_ins_stay_on_across_check_ins_once_asked_for(new_page, db):
    gamma = make_site("gamma", always_open=False)  # closed at every hour
    agent = make_staff("zoe@gamma.test", Role.RECEPTION, gamma)
    tablet = new_page(TABLET)
    log_in(tablet, agent.email)
    expect(tablet.locator(".late-check-ins")).to_have_text(re.compile("Site Gamma is closed now."))

    # A tap while closed is not lost: one warning, and this visitor one more tap away.
    tablet.get_by_role("button", name="Find a job", exact=True).click()
    expect(tablet.locator(".late-check-ins.refused")).to_contain_text(
        "This visitor is not checked in yet."
    )
    expect(tablet.get_by_text("closed now")).to_have_count(1)
    expect(tablet.locator(".messages")).to_have_count(0)
    anyway = tablet.get_by_role("button", name="Check in anyway: Find a job")
    assert_tappable_on_first_screen(anyway)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tablet.screenshot(path=str(SCREENSHOTS / "tablet-refused-after-hours.png"))
    anyway.click()
    expect(tablet.locator("h1")).to_have_text("E-001")

    # From now on every tap goes through, on this tablet and the others, and says so.
    for letter, name in (("F", "Find a training"), ("A", "Create a business")):
        tablet.get_by_role("link", name="Next visitor").click()
        state = tablet.locator(".late-check-ins.on")
        expect(state).to_contain_text("Late check-ins on for the rest of today")
        assert inside_viewport(state)
        tablet.get_by_role("button", name=name, exact=True).click()
        expect(tablet.locator("h1")).to_have_text(f"{letter}-001")

    tablet.get_by_role("link", name="Next visitor").click()
    tablet.screenshot(path=str(SCREENSHOTS / "tablet-late-check-ins.png"))
    tablet.get_by_role("button", name="Turn off late check-ins").click()
    expect(tablet.locator(".late-check-ins")).to_contain_text("Site Gamma is closed now.")
    assert Visit.objects.count() == 3
    assert tablet.js_errors == []


def test_left_then_put_back_at_its_place(new_page, centre):
    theme = centre.alpha.themes.get(letter="E")
    first, second = (services.check_in(site=centre.alpha, theme_id=theme.pk)[0] for _ in range(2))
    tablet = new_page(TABLET)
    log_in(tablet, centre.reception.email)
    waiting = tablet.locator("#overview .tickets:not(.recently-left) .ticket-code")
    expect(waiting).to_have_text(["E-001", "E-002"])

    tablet.get_by_role("button", name="Ticket E-001 has left").click()

    expect(waiting).to_have_text(["E-002"])
    put_back = tablet.get_by_role("button", name="Put back in the queue: ticket E-001")
    expect(put_back).to_be_visible()
    put_back.click()
    expect(tablet.locator(".messages")).to_contain_text(
        "Ticket E-001 is back in the queue at its place."
    )
    expect(waiting).to_have_text(["E-001", "E-002"])
    expect(tablet.locator(".recently-left")).to_have_count(0)
    first.refresh_from_db()
    assert first.status == Visit.Status.WAITING
    assert tablet.js_errors == []


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


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR", "it-IT", "es-ES", "pt-PT"])
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
    language = page.get_by_role("combobox", name=re.compile("Language|Langue|Lingua|Idioma"))
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


def test_the_plan_on_the_tablet_keeps_the_six_themes_on_the_first_screen(new_page, centre):
    """Every theme button with a last check-in line (one passed), and the overview saying when
    the themes without a desk are next served."""
    themes = six_themes(centre.alpha, LONG_NAME)
    alpha, now = centre.alpha, timezone.localtime(timezone.now(), centre.alpha.zone)
    desk = make_desk(alpha, "Desk 2", *(t.letter for t in themes))
    ends = min(now + dt.timedelta(minutes=10), now.replace(hour=23, minute=59))
    for theme in themes:
        theme.last_check_in_minutes = 30 if theme.letter == "E" else 0
        theme.save(update_fields=["last_check_in_minutes"])
    planning.plan_session(
        site=alpha,
        desk_id=desk.pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[t.pk for t in themes],
        mode=PlanMode.WALK_IN,
        weekday=now.weekday(),
        starts=dt.time(0),
        ends=ends.time().replace(second=0, microsecond=0),
        valid_from=now.date(),
    )
    tablet = new_page(TABLET)
    log_in(tablet, centre.reception.email)

    buttons = theme_buttons(tablet)
    expect(buttons).to_have_count(6)
    expect(tablet.locator(".theme-button.closed")).to_have_count(1)  # E: 30 min before the end
    for i in range(6):
        assert_tappable_on_first_screen(buttons.nth(i))
    expect(tablet.locator(".overview").get_by_text("desk opening soon").first).to_be_visible()
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tablet.screenshot(path=str(SCREENSHOTS / "tablet-plan.png"))
    assert tablet.js_errors == []
