"""The desk screen: who may use it, its live poll, the counsellor's day, the interview screen
and what the screen costs."""

from __future__ import annotations

import pytest
from django.test import Client

from citedesmetiers.live import current_mark
from citedesmetiers.roles import Role
from counselling import services
from counselling.models import DeskSession
from reception.models import Call, Visit
from resources.models import Resource
from tests.conftest import make_staff
from tests.counselling_fixtures import (
    in_english,  # noqa: F401  (fixture)
    make_desk,
    make_topic,
    open_session,
    queue_visit,
    refresh,
    theme,
)
from tests.counselling_pages import (
    call_and_start,
    desk_1,
    desk_2,
    finish_data,
    messages_of,
    post,
    seated,
)

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture
def desk(centre):
    return desk_1(centre)


@pytest.fixture
def other_desk(centre):
    return desk_2(centre)


@pytest.fixture
def bob(centre, login, desk) -> Client:
    """Bob, counsellor of partner A, sitting at Desk 1."""
    return seated(centre, login, desk)


# --- who may ------------------------------------------------------------------------------------


def test_a_counsellor_of_another_site_cannot_open_alphas_desk(centre, login, desk):
    beta_desk = make_desk(centre.beta, "Beta desk", "E")
    hugo = make_staff("hugo@beta.test", Role.COUNSELLOR, centre.beta)
    client = login(hugo)

    assert client.post(f"/desk/open/{desk.pk}/").status_code == 404
    assert not DeskSession.objects.exists()

    content = client.get("/desk/").content.decode()
    assert "Beta desk" in content and "Desk 1" not in content
    assert client.post(f"/desk/open/{beta_desk.pk}/").status_code == 302
    assert DeskSession.objects.get().desk == beta_desk


def test_a_counsellor_of_another_site_cannot_call_alphas_visitors(centre, login):
    """Beta's desk serves Beta's themes: Alpha's queue is out of its reach."""
    alpha_visit = queue_visit(centre.alpha, "E")
    hugo = make_staff("hugo@beta.test", Role.COUNSELLOR, centre.beta)
    open_session(hugo, make_desk(centre.beta, "Beta desk", "E"))
    client = login(hugo)
    response = post(client, "/desk/call-next/")
    assert messages_of(response) == ["Nobody is waiting for your desk's themes right now."]
    response = post(client, "/desk/call-ticket/", {"visit": alpha_visit.pk, "reason": "other"})
    assert messages_of(response) == ["This ticket is no longer waiting; another desk may have it."]
    assert refresh(alpha_visit).status == Visit.Status.WAITING


@pytest.mark.parametrize("path", ["/desk/", "/desk/day/", "/desk/live/?s=alpha"])
def test_a_reception_agent_is_refused_the_desk(centre, login, desk, path):
    assert login(centre.reception).get(path).status_code == 403


def test_a_reception_agent_cannot_call(centre, login, desk):
    queue_visit(centre.alpha, "E")
    open_session(centre.counsellor_a, desk)
    assert login(centre.reception).post("/desk/call-next/").status_code == 403
    assert not Call.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(centre, login):
    response = login(None).get("/desk/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- the live poll ------------------------------------------------------------------------------


def test_an_unchanged_live_poll_costs_no_query(centre, bob, django_assert_num_queries):
    mark = current_mark("alpha")
    with django_assert_num_queries(0):
        response = bob.get(f"/desk/live/?s=alpha&v={mark}")
    assert response.status_code == 204
    assert response.content == b""


def test_a_changed_live_poll_sends_the_queue_with_the_new_mark(centre, bob):
    queue_visit(centre.alpha, "E")
    response = bob.get("/desk/live/?s=alpha&v=an-old-mark")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="desk-queue"' in content
    assert f"v={current_mark('alpha')}" in content
    assert "<html" not in content  # only the fragment
    assert '<td class="num">1</td>' in content  # one waiting for "Find a job"


def test_the_live_poll_stops_once_the_desk_is_closed(centre, login):
    response = login(centre.counsellor_a).get("/desk/live/?s=alpha&v=an-old-mark")
    assert response.status_code == 286  # htmx: stop polling


# --- the counsellor's day -----------------------------------------------------------------------


def test_the_day_lists_interviews_without_anything_that_identifies_a_visitor(centre, bob):
    visits = [queue_visit(centre.alpha, "E"), queue_visit(centre.alpha, "F")]
    post(bob, "/desk/call-next/")
    post(bob, "/desk/start/", {"visit": visits[0].pk})
    post(
        bob,
        "/desk/finish/",
        finish_data(
            visits[0],
            outcomes=["information", "referred_desk"],
            refer_theme=theme(centre.alpha, "A").pk,
            referral_reason="other_view",
        ),
    )
    post(bob, "/desk/call-next/")
    post(bob, "/desk/start/", {"visit": visits[1].pk})

    response = bob.get("/desk/day/")
    assert response.status_code == 200
    assert len(response.context["interviews"]) == 2
    content = response.content.decode()
    for shown in ("Desk 1", "Find a job", "information given", "referred to another desk"):
        assert shown in content
    assert "Create a business" in content  # where the visitor was referred to
    assert "in progress" in content
    for visit in visits:
        refresh(visit)
        assert visit.code not in content
        assert visit.token not in content
        assert f"{visit.letter}-" not in content


def test_the_day_shows_only_my_interviews(centre, login, desk, other_desk):
    visit = queue_visit(centre.alpha, "E")
    carol = open_session(centre.counsellor_b, other_desk)

    services.call_next(session_id=carol.pk, counsellor=centre.counsellor_b)
    services.start_interview(session_id=carol.pk, counsellor=centre.counsellor_b)
    response = login(centre.counsellor_a).get("/desk/day/")
    assert response.context["interviews"] == []
    assert "No interview yet today." in response.content.decode()
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW


# --- the interview screen ---------------------------------------------------------------------


def test_the_interview_screen_puts_the_finish_buttons_in_the_action_bar(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    content = bob.get("/desk/").content.decode()
    # Outside the form, in the bar, they still submit it (form="finish-form"), without JS.
    assert 'id="finish-form"' in content
    assert '<button type="submit" form="finish-form">Finish the interview</button>' in content
    assert 'form="finish-form" name="then" value="call_next"' in content
    # The referral menu starts empty with "—", like the others, not Django's "---------".
    assert "---------" not in content
    assert '<option value="" selected>—</option>' in content
    # The take-away search: folded, with a label of its own (not only a placeholder).
    assert '<details class="take-away-search">' in content
    assert '<label for="take-away-q">Search the catalogue</label>' in content


def test_the_take_away_search_comes_back_open_after_adding_from_it(centre, bob):
    guide = Resource.objects.create(title="Réussir son entretien", kind=Resource.Kind.BOOK)
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    assert (
        '<details class="take-away-search" open>' in bob.get("/desk/?tq=entretien").content.decode()
    )

    response = bob.post(
        "/desk/take-away/add/", {"resource": guide.pk, "visit": visit.pk, "tq": "entretien"}
    )
    assert response.url == "/desk/?tq=entretien"
    assert visit.take_away.get().resource == guide


def test_a_refused_take_away_change_sent_by_htmx_reloads_the_page(centre, bob):
    """The page's htmx swaps only the list: a refusal reloads the whole page to show why."""
    guide = Resource.objects.create(title="Réussir son entretien", kind=Resource.Kind.BOOK)
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    response = bob.post(
        "/desk/take-away/add/",
        {"resource": guide.pk, "visit": visit.pk + 1},  # a stale page
        headers={"HX-Request": "true"},
    )
    assert response["HX-Refresh"] == "true"
    assert not visit.take_away.exists()
    assert messages_of(bob.get("/desk/")) == ["Your page was out of date; nothing was changed."]


# --- cost of the desk screen --------------------------------------------------------------------


def test_the_desk_screen_with_an_interview_open_stays_cheap(
    centre, bob, django_assert_max_num_queries
):
    for name in ("CV", "Interview practice", "Job boards"):
        make_topic(centre.alpha, "E", name)
    visit = queue_visit(centre.alpha, "E")
    for _ in range(5):
        queue_visit(centre.alpha, "F")
    call_and_start(bob, visit)
    with django_assert_max_num_queries(25):
        response = bob.get("/desk/")
    assert response.status_code == 200
    assert "Finish the interview" in response.content.decode()


def test_the_desk_screen_costs_the_same_with_many_visitors_waiting(
    centre, bob, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bob.get("/desk/").status_code == 200
        return len(captured)

    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    post(bob, "/desk/no-show/", {"visit": visit.pk})  # one missed visitor listed too
    queue_visit(centre.alpha, "E")
    few = queries()
    for n in range(25):
        queue_visit(centre.alpha, "EF"[n % 2])
    assert queries() == few
    with django_assert_max_num_queries(25):
        bob.get("/desk/")


def test_the_desk_choice_costs_the_same_with_many_desks(centre, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(centre.counsellor_a)
    make_desk(centre.alpha, "Desk 1", "E")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/desk/").status_code == 200
        return len(captured)

    queries()  # the first page of a login records the MFA check in the session
    few = queries()
    for n in range(2, 12):
        make_desk(centre.alpha, f"Desk {n}", "E", "F")
    assert queries() == few


def test_the_desk_screen_never_names_the_partner(centre, bob):
    """Mutual anonymity: the counsellor's institution is recorded, never shown on screens."""
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    assert centre.partner_a.name not in bob.get("/desk/").content.decode()
    display = Client().get("/display/alpha/").content.decode()
    assert visit.code in display and "Desk 1" in display
    assert centre.partner_a.name not in display
    assert "bob@alpha.test" not in display


def test_a_visitor_sees_the_desk_that_called_them(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    content = Client().get(f"/t/{visit.token}/").content.decode()
    assert "Desk 1" in content
    assert centre.partner_a.name not in content


def test_the_desk_comes_back_at_the_visitor_it_holds(centre, bob):
    first, second = queue_visit(centre.alpha, "E"), queue_visit(centre.alpha, "E")

    called = bob.post("/desk/call-next/")
    started = bob.post("/desk/start/", {"visit": first.pk})
    finished = bob.post("/desk/finish/", finish_data(first, then="call_next"))

    assert called.url == started.url == f"/desk/#visit-{first.pk}"
    assert finished.url == f"/desk/#visit-{second.pk}"
    page = bob.get("/desk/").content.decode()
    assert f'id="visit-{second.pk}"' in page
