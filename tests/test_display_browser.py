"""The waiting-room TV and the visitor's phone at their real sizes, in a real browser.

A busy morning: six themes (three of them with long names), eight desks each holding a visitor
they called a while ago. Between calls the TV shows the newest four of them on one line and six
queues in one screen at 1280×720 and 1920×1080; calls that are over leave it (the calls of the
moment, side by side, are tests/test_display_board_browser.py). The visitor's phone follows the
visit as a whole: the leave button while waiting only, the documents the counsellor adds within
two seconds.
Screenshots land in var/screenshots/ (artefacts, not assertions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from citedesmetiers.models import Theme
from citedesmetiers.roles import Role
from counselling import planning, services
from counselling.models import PlanMode
from reception.models import Visit
from resources.models import Resource, ResourceOfTheWeek
from tests.browser import PHONE, TV, TV_FULL_HD, overflows
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session, queue_visit
from tests.display_fixtures import calls_over
from tests.events_fixtures import make_event, register
from tests.test_resources_search import add_resource

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WITHIN_TWO_POLLS = 2500  # ms: the pages poll every LIVE_POLL_SECONDS (1 s here)
LONG_THEMES = [
    ("C", "Change career or develop at work, at any age"),
    ("O", "Choose a path after school, college or university"),
    ("W", "Work abroad: Europe, Canada and the rest of the world"),
]


@pytest.fixture(autouse=True)
def _english(settings, centre):
    settings.LIVE_POLL_SECONDS = 1
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])


def at_desk(centre, name: str, *letters: str, n: int):
    """An open desk of Alpha with its own counsellor: the keyword arguments of the desk services."""
    counsellor = make_staff(f"counsellor{n}@alpha.test", Role.COUNSELLOR, centre.alpha)
    session = open_session(counsellor, make_desk(centre.alpha, name, *letters, order=n))
    return {"session_id": session.pk, "counsellor": counsellor}


def busy_morning(centre) -> list[Visit]:
    """Six themes, eight desks that have each called a visitor, people waiting in every theme
    (one of them served by no desk)."""
    for order, (letter, name) in enumerate(LONG_THEMES, start=3):
        Theme.objects.create(site=centre.alpha, letter=letter, name=name, order=order)
    letters = ["E", "F", "A", "C", "O", "W"]
    called = []
    for n in range(8):
        letter = letters[n % 5]  # no desk serves work abroad (W)
        desk = at_desk(centre, f"Desk {n + 1}", letter, n=n)
        queue_visit(centre.alpha, letter)
        called.append(services.call_next(**desk))
    for letter in letters:
        queue_visit(centre.alpha, letter)
    return called


@pytest.mark.parametrize("size", [TV, TV_FULL_HD], ids=["1280x720", "1920x1080"])
def test_between_calls_the_tv_shows_the_calls_and_six_themes_in_one_screen(new_page, centre, size):
    called = busy_morning(centre)
    calls_over(centre.alpha)

    tv = new_page(size)
    tv.goto("/display/alpha/")

    calls = tv.locator(".called-list li.call")
    expect(calls).to_have_count(3)
    expect(calls.first).to_contain_text(called[-1].code)  # the newest first
    expect(tv.locator(".called-more")).to_have_text("and 5 more")
    expect(tv.locator(".theme-waits li")).to_have_count(6)
    assert not overflows(tv)
    # Every call and every theme is wholly on screen, on one line.
    for row in [*calls.all(), *tv.locator(".theme-waits li").all()]:
        box = row.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
    # The line giving the site's page is on screen too, under every call and every theme.
    footer = tv.locator(".display-footer")
    expect(footer).to_contain_text("/s/alpha/")
    foot = footer.bounding_box()
    assert foot["y"] + foot["height"] <= size["height"]
    for row in [*calls.all(), *tv.locator(".theme-waits li").all()]:
        box = row.bounding_box()
        assert box["y"] + box["height"] <= foot["y"]
    assert footer.evaluate("el => el.scrollWidth <= el.clientWidth")
    # The estimates are never cut, the longest ("no desk open now") included.
    abroad_queue = tv.locator(".theme-waits li", has_text="Work abroad")
    expect(abroad_queue).to_contain_text("no desk open now")
    for wait in tv.locator(".theme-wait").all():
        assert wait.evaluate("el => el.scrollWidth <= el.clientWidth")
    for line in [*calls.all(), *tv.locator(".theme-name").all()]:
        assert line.evaluate(
            "el => el.getClientRects().length === 1 && el.scrollHeight <= el.clientHeight + 1"
        )
    # A long name is cut on screen, never in the page's text (read aloud) nor in its title.
    abroad = tv.locator(".theme-name", has_text="Work abroad")
    assert abroad.inner_text() == LONG_THEMES[2][1]
    assert abroad.get_attribute("title") == LONG_THEMES[2][1]
    assert abroad.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tv.screenshot(path=str(SCREENSHOTS / f"display-{size['width']}x{size['height']}.png"))
    assert tv.js_errors == []


@pytest.mark.parametrize("size", [TV, TV_FULL_HD], ids=["1280x720", "1920x1080"])
def test_when_the_plan_says_when_a_theme_is_next_served_it_fits_too(new_page, centre, size):
    busy_morning(centre)
    calls_over(centre.alpha)
    alpha = centre.alpha
    # Work abroad (no desk now) next on a Wednesday, the longest weekday name, two to eight
    # days ahead (never "tomorrow").
    today = alpha.local_date()
    wednesday = next(
        today + dt.timedelta(days=n) for n in range(2, 9) if (today.weekday() + n) % 7 == 2
    )
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 9", "W").pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[alpha.themes.get(letter="W").pk],
        mode=PlanMode.WALK_IN,
        weekday=2,
        starts=dt.time(14),
        ends=dt.time(17),
        valid_from=wednesday,
    )
    label = (
        "next: Wednesday 14:00"
        if (wednesday - today).days < 7
        else (f"next: {wednesday.day} {wednesday:%B} 14:00")
    )

    tv = new_page(size)
    tv.goto("/display/alpha/")

    expect(tv.locator(".theme-waits li", has_text="Work abroad")).to_contain_text(label)
    assert not overflows(tv)
    for wait in tv.locator(".theme-wait").all():
        assert wait.evaluate("el => el.scrollWidth <= el.clientWidth")
    tv.screenshot(path=str(SCREENSHOTS / f"display-plan-{size['width']}x{size['height']}.png"))
    assert tv.js_errors == []


@pytest.mark.parametrize("language", ["fr", "it", "es", "pt"])
def test_the_tv_fits_in_every_language_of_the_network(new_page, centre, language):
    """The same busy morning between calls, a theme next served in a week, a workshop nearly
    full and a resource of the week, in the site's language: the longest words of each language
    still fit the 1280×720 screen, nothing cut."""
    busy_morning(centre)
    calls_over(centre.alpha)
    alpha = centre.alpha
    tomorrow = dt.datetime.combine(
        alpha.local_date() + dt.timedelta(days=1), dt.time(14), alpha.zone
    )
    workshop = make_event(alpha, title="Atelier CV", starts_at=tomorrow, capacity=2)
    register(workshop, "Sam")
    guide = add_resource("Guide des métiers", holdings=[(alpha, "MET 1")])
    ResourceOfTheWeek.objects.create(site=alpha, resource=guide)
    alpha.language = language
    alpha.save(update_fields=["language"])
    in_a_week = alpha.local_date() + dt.timedelta(days=7)
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 9", "W").pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[alpha.themes.get(letter="W").pk],
        mode=PlanMode.WALK_IN,
        weekday=in_a_week.weekday(),
        starts=dt.time(14),
        ends=dt.time(17),
        valid_from=in_a_week,
    )

    tv = new_page(TV)
    tv.goto("/display/alpha/")

    assert tv.locator("html").get_attribute("lang") == language
    expect(tv.locator("li.call")).to_have_count(3)
    expect(tv.locator(".offer")).to_have_count(1)
    expect(tv.locator(".feature")).to_have_count(2)
    assert not overflows(tv)
    rows = [*tv.locator("li.call").all(), *tv.locator(".theme-waits li, .offer, .feature").all()]
    for row in rows:
        box = row.bounding_box()
        assert box["y"] + box["height"] <= TV["height"] and box["x"] + box["width"] <= TV["width"]
    tv.screenshot(path=str(SCREENSHOTS / f"display-{language}.png"))
    lines = tv.locator(
        ".theme-wait, .offer-when, .offer-places, .called-line h2, .call-desk, .called-more"
    )
    for cut in [*lines.all(), tv.locator(".display-footer")]:
        assert cut.evaluate("el => el.scrollWidth <= el.clientWidth"), cut.inner_text()
    tv.screenshot(path=str(SCREENSHOTS / f"display-{language}.png"))
    assert tv.js_errors == []


def test_the_tv_lists_only_the_calls_still_waiting_for_their_visitor(new_page, centre):
    desk1 = at_desk(centre, "Desk 1", "E", n=1)
    desk2 = at_desk(centre, "Desk 2", "E", n=2)
    desk3 = at_desk(centre, "Desk 3", "F", n=3)
    missed, referred, walking = (queue_visit(centre.alpha, "E") for _n in range(3))
    services.call_next(**desk1)
    services.mark_no_show(**desk1)  # `missed` did not come
    services.call_next(**desk2)
    services.start_interview(**desk2)  # `referred` reached Desk 2, which refers them to training
    services.finish_interview(
        **desk2,
        outcomes=["referred_desk"],
        refer_theme_id=centre.alpha.themes.get(letter="F").pk,
        referral_reason="other_view",
    )
    services.call_next(**desk3)  # Desk 3 calls the referred visitor
    services.call_next(**desk1)  # Desk 1 calls `walking`, and calls again
    services.recall(**desk1)

    tv = new_page(TV)
    tv.goto("/display/alpha/")

    # Both calls are of the moment: side by side, in the order they were made.
    calls = tv.locator("[data-call-id]")
    expect(calls).to_have_count(2)
    referred_call, newest = calls.nth(0), calls.nth(1)
    expect(newest.locator(".call-ticket")).to_have_text(walking.code)
    expect(newest.locator(".call-desk")).to_have_text("Desk 1")
    expect(newest.locator(".badge")).to_have_text("again")  # the recall, not a second line
    expect(referred_call.locator(".call-ticket")).to_have_text(referred.code)
    expect(referred_call.locator(".call-desk")).to_have_text("Desk 3")  # once, at its new desk
    expect(tv.locator("main.board")).not_to_contain_text(missed.code)

    # The visitor reaches Desk 1: their call leaves the screen by itself.
    services.start_interview(**desk1)
    expect(calls).to_have_count(1, timeout=WITHIN_TWO_POLLS)
    expect(calls.first).to_contain_text(referred.code)
    assert tv.js_errors == []


def test_the_sound_button_says_when_the_sound_is_on(new_page, centre):
    tv = new_page(TV)
    tv.goto("/display/alpha/")
    button = tv.locator("[data-sound-toggle]")
    expect(button).to_have_text("Turn sound on")
    expect(button).to_have_attribute("aria-pressed", "false")

    button.click()
    expect(button).to_have_text("Sound on · turn off")
    expect(button).to_have_attribute("aria-pressed", "true")

    button.click()
    expect(button).to_have_text("Turn sound on")
    expect(button).to_have_attribute("aria-pressed", "false")
    assert tv.js_errors == []


def test_the_phone_follows_the_visit_and_shows_a_document_added_within_two_seconds(
    new_page, centre
):
    guide = Resource.objects.create(title="Succeed at a job interview", kind=Resource.Kind.BOOK)
    desk = at_desk(centre, "Desk 3", "E", n=3)
    visit = queue_visit(centre.alpha, "E")

    phone = new_page(PHONE)
    phone.goto(f"/t/{visit.token}/")
    expect(phone.get_by_role("button", name="Leave the queue")).to_be_visible()
    expect(phone.get_by_role("heading", name="While you wait")).to_be_visible()
    phone.screenshot(path=str(SCREENSHOTS / "phone-waiting.png"), full_page=True)

    services.call_next(**desk)
    expect(phone.locator(".your-turn")).to_have_text(
        "It's your turn: Desk 3", timeout=WITHIN_TWO_POLLS
    )
    expect(phone.get_by_role("button", name="Leave the queue")).to_have_count(0)
    expect(phone.get_by_text("While you wait")).to_have_count(0)
    phone.screenshot(path=str(SCREENSHOTS / "phone-called.png"), full_page=True)

    services.start_interview(**desk)
    expect(phone.locator("#status")).to_contain_text(
        "You are being seen at Desk 3.", timeout=WITHIN_TWO_POLLS
    )
    services.add_to_take_away(**desk, resource_id=guide.pk)
    expect(phone.get_by_role("link", name=guide.title)).to_be_visible(timeout=2000)
    expect(phone.get_by_role("button", name="Leave the queue")).to_have_count(0)
    phone.screenshot(path=str(SCREENSHOTS / "phone-list.png"), full_page=True)

    services.finish_interview(**desk, outcomes=["resources"])
    expect(phone.locator("#status")).to_contain_text(
        "Your visit is over.", timeout=WITHIN_TWO_POLLS
    )
    expect(phone.get_by_role("link", name=guide.title)).to_be_visible()  # the list stays
    expect(phone.get_by_role("heading", name="To go further")).to_be_visible()
    expect(phone.get_by_text("While you wait")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.js_errors == []


def test_after_leaving_the_queue_the_phone_no_longer_says_while_you_wait(new_page, centre):
    visit = queue_visit(centre.alpha, "E")
    phone = new_page(PHONE)
    phone.goto(f"/t/{visit.token}/")
    phone.on("dialog", lambda dialog: dialog.accept())

    phone.get_by_role("button", name="Leave the queue").click()

    expect(phone.locator("#status")).to_contain_text("You have left the queue.")
    expect(phone.get_by_role("button", name="Leave the queue")).to_have_count(0)
    expect(phone.get_by_text("While you wait")).to_have_count(0)
    expect(phone.get_by_role("heading", name="To go further")).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.LEFT
    assert phone.js_errors == []
