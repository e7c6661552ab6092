"""What the waiting-room screen shows call by call and between calls (reception.board), through
the events' selector and HTTP: which events are listed, when the calls of the moment give the
screen back, and the poll that says when.

Personas (tests/conftest.py): the sites Alpha and Beta."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from citedesmetiers.live import current_mark
from citedesmetiers.qr import qr_svg
from citedesmetiers.roles import Role
from counselling import services
from events.availability import with_places
from events.models import Event
from reception import board
from resources.models import Resource, ResourceOfTheWeek
from tests.conftest import make_staff
from tests.counselling_fixtures import (
    in_english,  # noqa: F401  (fixture)
    make_desk,
    open_session,
    queue_visit,
)
from tests.display_fixtures import as_if_earlier
from tests.events_fixtures import make_event, register
from tests.test_resources_search import add_resource

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _site_in_english(centre):
    centre.alpha.language = "en"
    centre.alpha.save(update_fields=["language"])


def noon_in_three_days(site) -> dt.datetime:
    """A `now` for the selector: midday, three local days from today (so the events around it
    are still in the future for the real clock too)."""
    day = site.local_date() + dt.timedelta(days=3)
    return dt.datetime.combine(day, dt.time(12), site.zone)


def titles(events) -> list[str]:
    return [event.title for event in events]


# --- the events with places ---------------------------------------------------------------------


def test_it_lists_the_events_of_today_and_tomorrow_that_still_have_places(centre):
    alpha = centre.alpha
    now = noon_in_three_days(alpha)
    hours = dt.timedelta(hours=1)
    make_event(alpha, title="Tomorrow morning", starts_at=now + 21 * hours)
    make_event(alpha, title="This afternoon", starts_at=now + 2 * hours)
    make_event(alpha, title="Late tonight", starts_at=now + 11.5 * hours)
    make_event(alpha, title="Started an hour ago", starts_at=now - hours)
    make_event(alpha, title="The day after tomorrow", starts_at=now + 40 * hours)
    make_event(alpha, title="Yesterday", starts_at=now - 24 * hours)
    full = make_event(alpha, title="Full", starts_at=now + 3 * hours, capacity=1)
    register(full, "Sam")
    make_event(alpha, title="Open door", starts_at=now + 3 * hours, capacity=None)
    make_event(alpha, title="Draft", starts_at=now + 3 * hours, status=Event.Status.DRAFT)
    make_event(alpha, title="Cancelled", starts_at=now + 3 * hours, status=Event.Status.CANCELLED)
    make_event(centre.beta, title="At Beta", starts_at=now + 3 * hours)

    listed = with_places(alpha, now=now)

    assert titles(listed) == ["This afternoon", "Late tonight", "Tomorrow morning"]
    assert {event.availability for event in listed} == {"available"}


def test_it_says_only_a_few_places_are_left_and_lists_four_at_most(centre):
    alpha = centre.alpha
    now = noon_in_three_days(alpha)
    events = [
        make_event(alpha, title=f"Workshop {n}", starts_at=now + dt.timedelta(hours=n), capacity=10)
        for n in range(1, 6)
    ]
    for n in range(8):
        register(events[0], f"Visitor {n}")  # two places left of ten

    listed = with_places(alpha, now=now)

    assert titles(listed) == ["Workshop 1", "Workshop 2", "Workshop 3", "Workshop 4"]
    assert [event.availability for event in listed] == [
        "few",
        "available",
        "available",
        "available",
    ]


# --- the calls of the moment and the screen between them ----------------------------------------


def desk(centre, name: str) -> dict:
    """Bob's desk, open: the keyword arguments of the desk services."""
    session = open_session(centre.counsellor_a, make_desk(centre.alpha, name, "E"))
    return {"session_id": session.pk, "counsellor": centre.counsellor_a}


def test_a_fresh_call_fills_the_screen_until_its_time_is_over(centre, settings):
    settings.DISPLAY_CALL_SECONDS = 20
    queue_visit(centre.alpha, "E")
    visit = services.call_next(**desk(centre, "Desk 1"))
    call = visit.calls.get()

    during = board.of(centre.alpha, base_url="http://tv.test")
    assert [c.visit.code for c in during.cards] == [visit.code]
    assert during.called == [] and during.between is None
    assert during.due == call.at + dt.timedelta(seconds=20)

    after = board.of(centre.alpha, base_url="http://tv.test", now=during.due)
    assert after.cards == []
    assert [c.visit.code for c in after.called] == [visit.code]  # still waiting for them
    assert after.between is not None and after.queues


def test_five_calls_at_once_give_four_cards_and_the_oldest_on_the_line(centre):
    calls = []
    for n in range(5):
        queue_visit(centre.alpha, "E")
        counsellor = make_staff(f"c{n}@alpha.test", Role.COUNSELLOR, centre.alpha)
        session = open_session(counsellor, make_desk(centre.alpha, f"Desk {n}", "E"))
        calls.append(services.call_next(session_id=session.pk, counsellor=counsellor))

    screen = board.of(centre.alpha, base_url="http://tv.test")

    assert [c.visit.code for c in screen.cards] == [v.code for v in calls[1:]]  # oldest first
    assert [c.visit.code for c in screen.called] == [calls[0].code]
    # The layout changes when the oldest card's time is over.
    assert screen.due == screen.cards[0].at + dt.timedelta(seconds=20)


# --- through HTTP -------------------------------------------------------------------------------


def page(path: str = "/display/alpha/") -> str:
    response = Client().get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_between_calls_the_screen_shows_the_events_the_resource_and_the_page_with_qr_codes(
    centre,
):
    alpha = centre.alpha
    tomorrow = dt.datetime.combine(
        alpha.local_date() + dt.timedelta(days=1), dt.time(10), alpha.zone
    )
    workshop = make_event(alpha, title="Atelier CV", starts_at=tomorrow)
    guide = add_resource("Guide des métiers", kind=Resource.Kind.BOOK, holdings=[(alpha, "M 1")])
    ResourceOfTheWeek.objects.create(site=alpha, resource=guide)

    html = page()

    assert 'class="board between"' in html
    assert "Tomorrow 10:00" in html and "Atelier CV" in html and "Places available" in html
    for path in (f"/events/{workshop.pk}/", f"/catalogue/{guide.pk}/", "/s/alpha/"):
        assert qr_svg(f"http://testserver{path}", fit=True) in html
    assert "Resource of the week" in html and "Guide des métiers" in html
    assert "Our page" in html


def test_each_block_goes_when_it_has_nothing_to_show(centre):
    alpha = centre.alpha
    withdrawn = add_resource("Old guide", withdrawn=True, holdings=[(alpha, "M 1")])
    ResourceOfTheWeek.objects.create(site=alpha, resource=withdrawn)
    make_event(centre.beta, title="At Beta", starts_in=dt.timedelta(hours=2))

    html = page()

    assert 'class="offers"' not in html and "Workshops" not in html
    assert "Resource of the week" not in html and "Old guide" not in html
    assert 'class="called-line"' not in html
    assert "Our page" in html  # the site's page, always


def test_a_resource_no_longer_held_here_leaves_the_screen(centre):
    alpha = centre.alpha
    guide = add_resource("Guide des métiers", holdings=[(alpha, "M 1")])
    ResourceOfTheWeek.objects.create(site=alpha, resource=guide)
    assert "Guide des métiers" in page()

    guide.holdings.filter(site=alpha).delete()
    guide.holdings.create(site=centre.beta)

    assert "Guide des métiers" not in page()


def test_an_online_resource_no_site_holds_is_shown(centre):
    online = add_resource("Un site de fiches métiers", kind=Resource.Kind.WEBSITE)
    ResourceOfTheWeek.objects.create(site=centre.alpha, resource=online)

    assert "Un site de fiches métiers" in page()


def test_during_a_call_the_screen_shows_the_call_alone(centre):
    tomorrow = timezone.now() + dt.timedelta(days=1)
    make_event(centre.alpha, title="Atelier CV", starts_at=tomorrow)
    queue_visit(centre.alpha, "E")
    visit = services.call_next(**desk(centre, "Desk 1"))

    html = page()

    assert 'class="board calling"' in html
    assert re.search(
        rf'class="call-card newest"[^>]*>\s*<span class="call-ticket">{visit.code}', html
    )
    assert "Atelier CV" not in html and "theme-waits" not in html


def test_the_poll_says_when_the_layout_ends_and_is_answered_then(centre, settings):
    settings.DISPLAY_CALL_SECONDS = 20
    queue_visit(centre.alpha, "E")
    services.call_next(**desk(centre, "Desk 1"))
    client = Client()
    fragment = client.get("/display/alpha/live/").content.decode()
    mark = current_mark("alpha")
    due = int(re.search(r"due=(\d+)", fragment).group(1))
    due_in = float(re.search(r'data-due-in="([0-9.]+)"', fragment).group(1))
    assert 19 <= due_in <= 21 and abs(due - timezone.now().timestamp() - due_in) <= 1.5

    # Unchanged and not yet due: nothing to send.
    assert client.get(f"/display/alpha/live/?v={mark}&due={due}").status_code == 204
    # Once due (the call older than its time), the same mark gets the screen between calls.
    as_if_earlier(centre.alpha, 21)
    past = int(timezone.now().timestamp()) - 1
    response = client.get(f"/display/alpha/live/?v={mark}&due={past}")
    assert response.status_code == 200
    assert 'class="board between with-called"' in response.content.decode()


@pytest.mark.parametrize("due", ["", "soon", "-5", "1e9", "9" * 30, "١٢"])
def test_a_poll_with_a_malformed_due_is_an_ordinary_poll(centre, due):
    page()  # makes the mark
    mark = current_mark("alpha")
    response = Client().get("/display/alpha/live/", {"v": mark, "due": due})
    assert response.status_code == 204


def test_between_calls_the_screen_asks_again_within_a_minute_and_at_an_events_start(centre):
    alpha = centre.alpha
    now = timezone.now()
    soon = make_event(alpha, title="Starting soon", starts_at=now + dt.timedelta(seconds=30))

    screen = board.of(alpha, base_url="http://tv.test", now=now)

    assert [offer.title for offer in screen.between.offers] == [soon.title]
    assert screen.due <= soon.starts_at
    later = board.of(alpha, base_url="http://tv.test", now=now + dt.timedelta(minutes=5))
    assert later.between.offers == []  # started: gone from the list
    assert later.due <= now + dt.timedelta(minutes=6)


def test_without_javascript_the_screen_reloads_itself(centre):
    html = page()
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
