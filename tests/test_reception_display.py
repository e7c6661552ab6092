"""What the waiting-room screen and the visitor's phone say, through HTTP: only the calls still
waiting for their visitor, one line per ticket; one wording for a wait estimate; the phone's
whole page as one live fragment, refreshed when the counsellor adds to the take-away list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from citedesmetiers.live import current_mark
from citedesmetiers.roles import Role
from counselling import services
from reception import board, queues
from reception import services as reception_services
from reception.models import UNDO_WINDOW
from resources.models import Resource
from tests.conftest import make_staff
from tests.counselling_fixtures import (
    in_english,  # noqa: F401  (fixture)
    make_desk,
    open_session,
    queue_visit,
)
from tests.display_fixtures import calls_over

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _site_in_english(centre):
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])


@pytest.fixture
def desk1(centre):
    return sit(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E", order=1))


@pytest.fixture
def desk2(centre):
    return sit(centre.counsellor_b, make_desk(centre.alpha, "Desk 2", "E", "F", order=2))


def sit(counsellor, desk) -> dict:
    session = open_session(counsellor, desk)
    return {"session_id": session.pk, "counsellor": counsellor}


def shown(centre) -> list[tuple[str, str, str]]:
    """The calls on Alpha's screen: (ticket, desk, kind), newest first."""
    calls = Client().get("/display/alpha/").context["calls"]
    return [(call.visit.code, call.desk.name, call.kind) for call in calls]


def poll(path: str, mark: str) -> str:
    response = Client().get(f"{path}live/?s=alpha&v={mark}")
    assert response.status_code == 200
    return response.content.decode()


# --- the calls on the screen ---------------------------------------------------------------------


def test_it_shows_a_call_until_the_visitor_reaches_the_desk(centre, desk1):
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    assert shown(centre) == [(visit.code, "Desk 1", "call")]

    services.start_interview(**desk1)

    assert shown(centre) == []


@pytest.mark.parametrize("end", ["no_show", "hand_back"])
def test_a_call_that_is_over_leaves_the_screen(centre, desk1, end):
    queue_visit(centre.alpha, "E")
    services.call_next(**desk1)

    getattr(services, {"no_show": "mark_no_show", "hand_back": "hand_back"}[end])(**desk1)

    assert shown(centre) == []


def test_a_finished_visit_is_not_listed(centre, desk1):
    queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.start_interview(**desk1)
    services.finish_interview(**desk1, outcomes=["information"])

    assert shown(centre) == []


def test_a_recall_shows_once_as_a_recall(centre, desk1):
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.recall(**desk1)
    services.recall(**desk1)

    assert shown(centre) == [(visit.code, "Desk 1", "recall")]
    assert Client().get("/display/alpha/").content.decode().count(visit.code) == 1


def test_a_referred_ticket_shows_once_at_its_new_desk(centre, desk1, desk2):
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.start_interview(**desk1)
    training = centre.alpha.themes.get(letter="F")
    services.finish_interview(
        **desk1,
        outcomes=["referred_desk"],
        refer_theme_id=training.pk,
        referral_reason="other_view",
    )
    services.call_next(**desk2)

    assert shown(centre) == [(visit.code, "Desk 2", "call")]


def test_a_visitor_put_back_and_called_again_by_the_same_desk_shows_once(centre, desk1):
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.mark_no_show(**desk1)
    services.put_back(site_id=centre.alpha.pk, visit_id=visit.pk)
    services.call_next(**desk1)

    assert shown(centre) == [(visit.code, "Desk 1", "call")]


def test_the_screen_lists_at_most_the_calls_it_has_room_for(centre):
    for n in range(queues.CALLS_SHOWN + 2):
        counsellor = make_staff(f"counsellor{n}@alpha.test", Role.COUNSELLOR, centre.alpha)
        queue_visit(centre.alpha, "E")
        services.call_next(**sit(counsellor, make_desk(centre.alpha, f"Desk {n}", "E", order=n)))

    calls = shown(centre)

    # Four side by side, three on the line of earlier calls, "and 1 more" of the eight read.
    assert len(calls) == board.CARDS_SHOWN + board.CALLED_SHOWN
    assert calls[0][1] == f"Desk {queues.CALLS_SHOWN + 1}"  # the newest first
    assert "and 1 more" in Client().get("/display/alpha/").content.decode()


# --- one wording for an estimate -----------------------------------------------------------------


def waits_on_screen() -> dict[str, str]:
    """The estimate the screen shows for each theme, by ticket letter."""
    page = Client().get("/display/alpha/").content.decode()
    rows = re.findall(
        r'class="theme-letter"[^>]*>(\w+)</span>.*?class="estimate">([^<]*)</span>', page, re.S
    )
    return dict(rows)


def test_the_screen_says_no_desk_no_wait_or_about_n_minutes(centre, desk1):
    # Desk 1 serves jobs (E) and is free; nobody serves training (F) or business (A).
    queue_visit(centre.alpha, "A")
    assert waits_on_screen() == {"E": "no wait", "F": "no desk open now", "A": "no desk open now"}

    queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    calls_over(centre.alpha)  # the queues are back on screen
    # Nobody waits for jobs, but the desk has just called somebody: a newcomer waits for their
    # interview (the default 20 minutes).
    assert waits_on_screen()["E"] == "about 20 min"

    queue_visit(centre.alpha, "E")
    # Two default interviews: the one called to the desk, then the visitor waiting.
    assert waits_on_screen()["E"] == "about 40 min"


def test_the_phone_says_it_the_same_way(centre, desk1):
    first = queue_visit(centre.alpha, "E")
    lost = queue_visit(centre.alpha, "F")
    assert "no wait" in Client().get(f"/t/{first.token}/").content.decode()
    assert "no desk open now" in Client().get(f"/t/{lost.token}/").content.decode()

    services.call_next(**desk1)
    second = queue_visit(centre.alpha, "E")
    # Next, behind the visitor just called to the desk: their interview.
    assert "about 20 min" in Client().get(f"/t/{second.token}/").content.decode()


def test_the_reception_overview_says_it_the_same_way(centre, desk1, login):
    queue_visit(centre.alpha, "E")
    queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    page = login(centre.reception).get("/reception/").content.decode()
    overview = page[page.index("<table") :]
    # One waits behind the visitor just called: a newcomer waits two interviews; nobody serves
    # training.
    assert "about 40 min" in overview
    assert "no desk open now" in overview
    assert "~" not in overview


# --- the phone: one live fragment ----------------------------------------------------------------


def test_a_document_added_to_the_list_reaches_the_phone_at_its_next_poll(
    centre, desk1, django_capture_on_commit_callbacks
):
    guide = Resource.objects.create(title="Succeed at a job interview", kind=Resource.Kind.BOOK)
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.start_interview(**desk1)
    path = f"/t/{visit.token}/"
    seen = current_mark("alpha")
    assert guide.title not in poll(path, "first")

    with django_capture_on_commit_callbacks(execute=True):
        services.add_to_take_away(**desk1, resource_id=guide.pk)

    assert current_mark("alpha") != seen
    fragment = poll(path, seen)
    assert fragment.lstrip().startswith('<div id="visitor-live"')
    assert guide.title in fragment and "Print my list (PDF)" in fragment
    assert f"v={current_mark('alpha')}" in fragment


def test_the_leave_button_is_there_only_while_waiting(centre, desk1):
    visit = queue_visit(centre.alpha, "E")
    path = f"/t/{visit.token}/"
    assert "Leave the queue" in poll(path, "first")
    assert "While you wait" in poll(path, "first")

    services.call_next(**desk1)
    called = poll(path, "first")
    assert "your turn: Desk 1" in called
    assert "Leave the queue" not in called and "While you wait" not in called

    services.start_interview(**desk1)
    seen = poll(path, "first")
    assert "Leave the queue" not in seen and "While you wait" not in seen
    assert "To go further" in seen

    services.finish_interview(**desk1, outcomes=["information"])
    over = Client().get(path).content.decode()
    assert "Your visit is over." in over
    assert "Leave the queue" not in over and "While you wait" not in over
    assert 'hx-trigger="every' not in over  # a visit that is over stops polling
    # It loads the feedback questions once instead (feedback's page, by name).
    assert 'hx-trigger="load"' in over


def test_the_phone_follows_a_ticket_that_may_still_be_put_back(centre, desk1):
    # Missed at the desk, or marked "Left" by reception: for 10 minutes the ticket may be put
    # back at its place, so the phone keeps polling and shows it waiting again by itself.
    missed = queue_visit(centre.alpha, "E")
    walked_out = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)
    services.mark_no_show(**desk1)
    reception_services.mark_left(site=centre.alpha, visit_id=walked_out.pk)
    for visit in (missed, walked_out):
        assert "hx-get" in Client().get(f"/t/{visit.token}/").content.decode()

    later = timezone.now() + UNDO_WINDOW + dt.timedelta(seconds=1)
    for visit in (missed, walked_out):
        visit.refresh_from_db()
        assert visit.may_come_back() and not visit.may_come_back(later)

    services.put_back(site_id=centre.alpha.pk, visit_id=missed.pk)
    assert "Leave the queue" in poll(f"/t/{missed.token}/", "first")


def test_leaving_on_a_called_ticket_changes_nothing(centre, desk1):
    visit = queue_visit(centre.alpha, "E")
    services.call_next(**desk1)

    response = Client().post(f"/t/{visit.token}/leave/", follow=True)

    visit.refresh_from_db()
    assert visit.status == "called"
    assert "is not waiting any more; nothing was changed" in response.content.decode()
