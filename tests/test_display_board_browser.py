"""The waiting-room TV between calls and during them, at 1280×720 and 1920×1080, in a real
browser (reception.board).

Between calls: the events of today and tomorrow that still have places, each with its QR code,
the resource of the week and the site's page, beside the queues, all in one screen. A call takes
the screen over; three at once are side by side; each stays at least DISPLAY_CALL_SECONDS (a
small value here), then the screen goes back by itself, at that moment rather than at a later
poll. Screenshots land in var/screenshots/ (artefacts, not assertions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db.models import F
from playwright.sync_api import expect

from citedesmetiers.models import Theme
from citedesmetiers.roles import Role
from counselling import services
from reception.models import Call, Visit
from resources.models import Resource, ResourceOfTheWeek
from tests.browser import TV, TV_FULL_HD, overflows
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session, queue_visit
from tests.display_fixtures import calls_over
from tests.events_fixtures import make_event, register
from tests.test_resources_search import add_resource

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
SIZES = pytest.mark.parametrize("size", [TV, TV_FULL_HD], ids=["1280x720", "1920x1080"])
LONG_THEMES = [
    ("C", "Change career or develop at work, at any age"),
    ("O", "Choose a path after school, college or university"),
    ("W", "Work abroad: Europe, Canada and the rest of the world"),
]


@pytest.fixture(autouse=True)
def _english(settings, centre):
    settings.LIVE_POLL_SECONDS = 1
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])


def desk(centre, n: int, *letters: str) -> dict:
    counsellor = make_staff(f"counsellor{n}@alpha.test", Role.COUNSELLOR, centre.alpha)
    session = open_session(counsellor, make_desk(centre.alpha, f"Desk {n}", *letters, order=n))
    return {"session_id": session.pk, "counsellor": counsellor}


def tomorrow_at(site, hour: int, minute: int = 0) -> dt.datetime:
    day = site.local_date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), site.zone)


def busy_between_calls(centre) -> dict:
    """Six themes with people waiting, four desks whose calls are older than a call's time on
    screen, five events with places tomorrow (the screen lists four), one full, and a resource
    of the week."""
    alpha = centre.alpha
    for order, (letter, name) in enumerate(LONG_THEMES, start=3):
        Theme.objects.create(site=alpha, letter=letter, name=name, order=order)
    letters = ["E", "F", "A", "C", "O", "W"]
    for n in range(4):
        queue_visit(alpha, letters[n])
        services.call_next(**desk(centre, n + 1, letters[n]))
    for letter in letters:
        queue_visit(alpha, letter)
    calls_over(alpha)
    titles = [
        "Write a CV that gets you an interview, step by step, with a counsellor",
        "Job dating: hospitality and catering",
        "Discover the trades of the energy transition",
        "Create your business: the first steps",
        "Apprenticeship: how it works",  # the fifth: no room for it
    ]
    events = [
        make_event(alpha, title=title, starts_at=tomorrow_at(alpha, 9 + n), capacity=10)
        for n, title in enumerate(titles)
    ]
    for n in range(8):  # the CV workshop nearly full
        register(events[0], f"Visitor {n}")
    full = make_event(alpha, title="Full workshop", starts_at=tomorrow_at(alpha, 8), capacity=1)
    register(full, "Someone")
    guide = add_resource(
        "Le guide des métiers qui recrutent, édition 2026, toutes les fiches",
        kind=Resource.Kind.BOOK,
        holdings=[(alpha, "MET 1")],
    )
    ResourceOfTheWeek.objects.create(site=alpha, resource=guide)
    return {"events": events, "guide": guide}


def wholly_on_screen(locator, size: dict, above: float | None = None) -> None:
    for element in locator.all():
        box = element.bounding_box()
        assert box is not None and box["width"] > 0
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5
        assert box["y"] >= 0 and box["y"] + box["height"] <= (above or size["height"]) + 0.5


@SIZES
def test_between_calls_the_tv_shows_what_to_do_while_waiting_in_one_screen(new_page, centre, size):
    made = busy_between_calls(centre)

    tv = new_page(size)
    tv.goto("/display/alpha/")

    board = tv.locator("main.board")
    expect(board).to_have_class("board between with-called")
    offers = tv.locator(".offer")
    expect(offers).to_have_count(4)
    expect(offers.first).to_contain_text("Tomorrow 09:00")
    expect(offers.first).to_contain_text("Only a few places left")
    expect(offers.nth(1)).to_contain_text("Places available")
    expect(tv.locator(".offers")).not_to_contain_text("Full workshop")
    expect(tv.locator(".offers")).not_to_contain_text(made["events"][4].title)
    expect(offers.locator(".qr svg")).to_have_count(4)
    week = tv.locator(".feature", has_text="Resource of the week")
    expect(week).to_contain_text(made["guide"].title)
    expect(week.locator(".qr svg")).to_have_count(1)
    expect(tv.locator(".feature", has_text="Our page").locator(".qr svg")).to_have_count(1)
    expect(tv.locator(".theme-waits li")).to_have_count(6)
    expect(tv.locator(".called-list .call")).to_have_count(3)
    expect(tv.locator(".called-more")).to_have_text("and 1 more")
    expect(tv.locator(".call-card")).to_have_count(0)

    assert not overflows(tv)
    footer = tv.locator(".display-footer").bounding_box()
    for blocks in (
        offers,
        tv.locator(".feature"),
        tv.locator(".theme-waits li"),
        tv.locator(".called-list .call"),
    ):
        wholly_on_screen(blocks, size, above=footer["y"])
    # Every QR code is a square big enough to scan from a step away.
    for qr in tv.locator(".between-calls .qr").all():
        box = qr.bounding_box()
        assert abs(box["width"] - box["height"]) < 1 and box["height"] >= 0.09 * size["height"]
    # Long titles end in an ellipsis on screen, never in the text.
    title = offers.first.locator(".offer-title")
    assert title.inner_text() == made["events"][0].title
    assert title.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    for line in tv.locator(".offer-when, .offer-places, .theme-wait, .call-desk").all():
        assert line.evaluate("el => el.scrollWidth <= el.clientWidth"), line.inner_text()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tv.screenshot(path=str(SCREENSHOTS / f"display-between-{size['width']}x{size['height']}.png"))
    assert tv.js_errors == []


def test_between_calls_each_block_goes_when_it_has_nothing_to_show(new_page, centre):
    tv = new_page(TV)
    tv.goto("/display/alpha/")

    expect(tv.locator("main.board")).to_have_class("board between")
    expect(tv.locator(".offers")).to_have_count(0)
    expect(tv.locator(".called-line")).to_have_count(0)
    expect(tv.locator(".feature")).to_have_count(1)  # the site's page, always
    expect(tv.locator(".feature")).to_contain_text("Our page")
    assert not overflows(tv)
    tv.screenshot(path=str(SCREENSHOTS / "display-between-empty.png"))
    assert tv.js_errors == []


@SIZES
def test_a_call_takes_the_screen_over_and_three_calls_are_side_by_side(new_page, centre, size):
    busy_between_calls(centre)
    desks = [desk(centre, n, "E") for n in (11, 12, 13)]
    for _ in desks:
        queue_visit(centre.alpha, "E")

    tv = new_page(size)
    tv.emulate_media(reduced_motion="reduce")  # the newest card's pulse moves it a little
    tv.goto("/display/alpha/")
    expect(tv.locator(".offer")).to_have_count(4)

    first = services.call_next(**desks[0])
    cards = tv.locator(".call-card")
    expect(cards).to_have_count(1, timeout=2500)
    expect(cards.first).to_contain_text(first.code)
    expect(cards.first).to_contain_text("Desk 11")
    # The call has the whole screen: the events, the resource and the queues are gone.
    expect(tv.locator(".between-calls")).to_have_count(0)
    expect(tv.locator(".theme-waits")).to_have_count(0)
    expect(tv.locator(".called-list .call")).to_have_count(3)  # the earlier calls, one line
    tv.screenshot(path=str(SCREENSHOTS / f"display-one-call-{size['width']}x{size['height']}.png"))

    second, third = (services.call_next(**d) for d in desks[1:])
    expect(cards).to_have_count(3, timeout=2500)
    # Side by side, in the order of the calls (a new one joins at the end), all wholly seen.
    boxes = [card.bounding_box() for card in cards.all()]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert len({round(box["y"]) for box in boxes}) == 1
    for card, visit in zip(cards.all(), (first, second, third), strict=True):
        expect(card.locator(".call-ticket")).to_have_text(visit.code)
        ticket = card.locator(".call-ticket")
        assert ticket.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    footer = tv.locator(".display-footer").bounding_box()
    wholly_on_screen(cards, size, above=footer["y"])
    wholly_on_screen(tv.locator(".called-list .call"), size, above=footer["y"])
    assert not overflows(tv)
    tv.screenshot(
        path=str(SCREENSHOTS / f"display-three-calls-{size['width']}x{size['height']}.png")
    )
    assert tv.js_errors == []


def test_more_calls_at_once_than_fit_side_by_side_leave_the_oldest_on_one_line(new_page, centre):
    desks = [desk(centre, n, "E") for n in range(1, 7)]
    called = []
    for d in desks:
        queue_visit(centre.alpha, "E")
        called.append(services.call_next(**d))

    tv = new_page(TV)
    tv.goto("/display/alpha/")

    cards = tv.locator(".call-card")
    expect(cards).to_have_count(4)
    expect(cards.last).to_contain_text(called[-1].code)  # the newest at the end
    line = tv.locator(".called-list .call")
    expect(line).to_have_count(2)
    expect(line.first).to_contain_text(called[1].code)
    expect(line.last).to_contain_text(called[0].code)
    expect(tv.locator(".called-line h2")).to_have_text("Also called")
    footer = tv.locator(".display-footer").bounding_box()
    wholly_on_screen(cards, TV, above=footer["y"])
    wholly_on_screen(line, TV, above=footer["y"])
    assert not overflows(tv)
    tv.screenshot(path=str(SCREENSHOTS / "display-six-calls-1280x720.png"))
    assert tv.js_errors == []


# Records, at each change of the page, the time and the tickets on the cards.
WATCH_CARDS = """() => {
  window.cardsSeen = [];
  const note = () => window.cardsSeen.push([Date.now() / 1000,
    [...document.querySelectorAll('.call-card .call-ticket')].map(el => el.textContent)]);
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""


def first_seen_without(tv, ticket: str) -> float:
    """When the screen first showed no card for `ticket` (seconds since the epoch)."""
    return next(at for at, tickets in tv.evaluate("window.cardsSeen") if ticket not in tickets)


def test_each_call_stays_its_time_then_the_screen_goes_back_by_itself(new_page, centre, settings):
    settings.DISPLAY_CALL_SECONDS = 6
    settings.LIVE_POLL_SECONDS = 60  # no poll meanwhile: the screen asks when its layout ends
    first_desk, second_desk = desk(centre, 1, "E"), desk(centre, 2, "E")
    queue_visit(centre.alpha, "E")
    queue_visit(centre.alpha, "E")
    first = services.call_next(**first_desk)
    second = services.call_next(**second_desk)
    # The first call was made three seconds before the second.
    earlier = dt.timedelta(seconds=3)
    Call.objects.filter(visit=first).update(at=F("at") - earlier)
    Visit.objects.filter(pk=first.pk).update(called_at=F("called_at") - earlier)
    first_at, second_at = (Call.objects.get(visit=v).at.timestamp() for v in (first, second))

    tv = new_page(TV)
    tv.goto("/display/alpha/")
    cards = tv.locator(".call-card")
    expect(cards).to_have_count(2)  # side by side: the second did not replace the first
    tv.evaluate(WATCH_CARDS)

    # The first card leaves once its own time is over, not before; the second stays.
    expect(cards).to_have_count(1, timeout=8000)
    expect(cards.first).to_contain_text(second.code)
    expect(tv.locator(".called-list .call").first).to_contain_text(first.code)
    gone = first_seen_without(tv, first.code)
    assert gone - first_at >= settings.DISPLAY_CALL_SECONDS
    assert gone - first_at < settings.DISPLAY_CALL_SECONDS + 3  # then, not at a later poll

    # Then the second; the screen is back between calls, both tickets on the line.
    expect(tv.locator("main.board")).to_have_class("board between with-called", timeout=8000)
    gone = first_seen_without(tv, second.code)
    assert gone - second_at >= settings.DISPLAY_CALL_SECONDS
    assert gone - second_at < settings.DISPLAY_CALL_SECONDS + 3
    expect(tv.locator(".called-list .call")).to_have_count(2)
    expect(tv.locator(".theme-waits li")).not_to_have_count(0)
    assert tv.js_errors == []
