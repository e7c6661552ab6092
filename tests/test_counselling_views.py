"""The desk through HTTP: pick a desk, call, start, finish, refer, pause and close; stale pages
and double posts."""

from __future__ import annotations

import pytest
from django.test import Client

from citedesmetiers.access import SESSION_SITE_KEY
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling.models import DeskSession, Interview, Outcome
from reception.models import Call, Visit
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
    referral_data,
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


# --- the whole way through ------------------------------------------------------------------------


def test_a_counsellor_picks_a_desk_calls_starts_and_finishes(centre, login, desk, other_desk):
    client = login(centre.counsellor_a)
    open_session(centre.counsellor_b, other_desk)

    page = client.get("/desk/")
    assert page.status_code == 200
    assert page.templates[0].name == "counselling/choose_desk.html"
    content = page.content.decode()
    assert "Open Desk 1" in content
    assert "Open Desk 2" not in content and "open for a colleague" in content

    response = post(client, f"/desk/open/{desk.pk}/")
    assert response.templates[0].name == "counselling/desk.html"
    assert DeskSession.objects.get(counsellor=centre.counsellor_a, closed_at=None).desk == desk
    assert "Call next" in response.content.decode()

    response = post(client, "/desk/call-next/")
    assert messages_of(response) == ["Nobody is waiting for your desk's themes right now."]
    assert not Call.objects.exists()

    visit = queue_visit(centre.alpha, "F")
    response = post(client, "/desk/call-next/")
    content = response.content.decode()
    assert visit.code in content and "Start the interview" in content
    assert refresh(visit).status == Visit.Status.CALLED

    response = post(client, "/desk/start/", {"visit": visit.pk})
    assert "Finish the interview" in response.content.decode()
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW

    response = post(
        client, "/desk/finish/", finish_data(visit, outcomes=["information", "resources"])
    )
    assert messages_of(response) == ["Interview recorded."]
    assert refresh(visit).status == Visit.Status.DONE
    interview = Interview.objects.get(visit=visit)
    assert interview.ended_at is not None
    assert interview.counsellor == centre.counsellor_a and interview.partner == centre.partner_a
    assert "1 interview today" in response.content.decode()


@pytest.mark.parametrize("channel", ["phone", "video", "in_person"])
def test_the_finish_form_starts_from_the_channel_the_visitor_came_by(centre, bob, channel):
    visit = queue_visit(centre.alpha, "E")
    Visit.objects.filter(pk=visit.pk).update(channel=channel)
    post(bob, "/desk/call-next/")
    page = post(bob, "/desk/start/", {"visit": visit.pk})
    assert page.context["finish_form"]["channel"].value() == channel
    assert f'<option value="{channel}" selected>' in page.content.decode()


def test_posting_the_same_finish_twice_is_refused_and_changes_nothing(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    data = finish_data(visit)
    post(bob, "/desk/finish/", data)
    interview = Interview.objects.get(visit=visit)
    before = (refresh(visit).status, visit.ended_at, list(Outcome.objects.values_list("code")))

    response = post(bob, "/desk/finish/", {**data, "outcomes": ["come_back"]})

    assert messages_of(response) == ["This interview is already finished."]
    assert refresh(interview).ended_at is not None
    assert Interview.objects.count() == 1
    assert (refresh(visit).status, visit.ended_at, list(Outcome.objects.values_list("code"))) == (
        before
    )


def test_finish_and_call_next_records_the_interview_and_calls_the_next_ticket(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    after = queue_visit(centre.alpha, "F")
    post(bob, "/desk/call-next/")
    page = post(bob, "/desk/start/", {"visit": visit.pk}).content.decode()
    assert 'name="then" value="call_next"' in page and "Finish and call next" in page

    response = post(bob, "/desk/finish/", finish_data(visit, then="call_next"))

    assert messages_of(response) == [f"Interview recorded. Ticket {after.code} is called."]
    assert refresh(visit).status == Visit.Status.DONE
    assert refresh(after).status == Visit.Status.CALLED
    content = response.content.decode()
    assert after.code in content and "Start the interview" in content

    # The same post again (a double click, a second tab): refused, nobody else called.
    response = post(bob, "/desk/finish/", finish_data(visit, then="call_next"))
    assert messages_of(response) == ["This interview is already finished."]
    assert Call.objects.count() == 2
    assert refresh(after).status == Visit.Status.CALLED


def test_repeating_finish_and_call_next_with_topics_says_the_interview_is_finished(centre, bob):
    """The repeat's topics belong to the first visitor's theme, not to the next visitor's: it is
    still told as a repeat, not as invalid answers."""
    cv = make_topic(centre.alpha, "E", "CV")
    visit = queue_visit(centre.alpha, "E")
    training = queue_visit(centre.alpha, "F")
    call_and_start(bob, visit)
    data = finish_data(visit, topics=[cv.pk], then="call_next")
    post(bob, "/desk/finish/", data)
    post(bob, "/desk/start/", {"visit": training.pk})
    before = list(Interview.objects.values_list("pk", "visit_id", "ended_at"))

    response = post(bob, "/desk/finish/", data)

    assert messages_of(response) == ["This interview is already finished."]
    assert list(Interview.objects.values_list("pk", "visit_id", "ended_at")) == before
    assert refresh(training).status == Visit.Status.IN_INTERVIEW


@pytest.mark.parametrize(
    ("paused", "message"),
    [
        (False, "Interview recorded. Nobody is waiting for your desk's themes right now."),
        (True, "Interview recorded. Your desk is paused: nobody was called."),
    ],
)
def test_finish_and_call_next_says_why_nobody_was_called(centre, bob, paused, message):
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    if paused:
        queue_visit(centre.alpha, "E")
        post(bob, "/desk/pause/")
    response = post(bob, "/desk/finish/", finish_data(visit, then="call_next"))
    assert messages_of(response) == [message]
    assert refresh(visit).status == Visit.Status.DONE
    assert Call.objects.count() == 1


def test_a_finish_and_call_next_with_invalid_answers_calls_nobody(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    waiting = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    response = post(bob, "/desk/finish/", finish_data(visit, outcomes=["hired"], then="call_next"))
    assert messages_of(response) == ["Some answers are not valid choices; nothing was saved."]
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW
    assert refresh(waiting).status == Visit.Status.WAITING


def test_call_next_says_when_only_visitors_referred_on_by_this_desk_wait(centre, bob):
    """Bob's desk serves E and F; he refers an E visitor to F, for another point of view, which
    Carol's desk gives."""
    open_session(centre.counsellor_b, make_desk(centre.alpha, "Desk 3", "F", order=3))
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    referral = referral_data(visit, theme(centre.alpha, "F"), then="call_next")

    response = post(bob, "/desk/finish/", referral)

    assert messages_of(response) == [
        "Interview recorded. Only visitors you referred on are waiting: another desk serving "
        "their theme will call them."
    ]
    content = response.content.decode()
    assert visit.code in content and "referred on by you" in content
    response = post(bob, "/desk/call-next/")
    assert messages_of(response) == [
        "Only visitors you referred on are waiting: another desk serving their theme will call "
        "them. You can still call their ticket from the list."
    ]
    assert refresh(visit).status == Visit.Status.WAITING
    assert Call.objects.count() == 1


def test_finish_and_call_next_says_when_the_visitor_referred_on_is_next_here(centre, bob):
    """Nobody else serves F and nobody else waits: Bob's desk will call them, not now."""
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    referral = referral_data(visit, theme(centre.alpha, "F"), then="call_next")
    response = post(bob, "/desk/finish/", referral)
    assert messages_of(response) == [
        "Interview recorded. Nobody else is waiting: the visitor you referred on is next at "
        "your desk, as no other desk serves their theme now."
    ]
    assert "referred on by you" not in response.content.decode()
    response = post(bob, "/desk/call-next/")
    assert refresh(visit).status == Visit.Status.CALLED


def test_a_double_click_with_nobody_left_says_the_desk_has_a_visitor(centre, bob):
    only = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    response = post(bob, "/desk/call-next/")
    assert messages_of(response) == ["You already have a visitor. Finish with them first."]
    assert list(Call.objects.values_list("visit_id", flat=True)) == [only.pk]


def test_a_double_click_on_call_next_calls_one_visitor(centre, bob):
    first = queue_visit(centre.alpha, "E")
    queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    response = post(bob, "/desk/call-next/")
    assert messages_of(response) == ["You already have a visitor. Finish with them first."]
    assert list(Call.objects.values_list("visit_id", flat=True)) == [first.pk]


def test_a_second_tab_with_an_old_ticket_is_told_its_page_is_out_of_date(centre, bob):
    first = queue_visit(centre.alpha, "E")
    second = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    # Tab 1 shows `first` called. In tab 2, Bob marks them missing and calls the next visitor.
    post(bob, "/desk/no-show/", {"visit": first.pk})
    post(bob, "/desk/call-next/")
    assert refresh(second).status == Visit.Status.CALLED

    for action in ("start", "recall", "no-show", "hand-back"):
        response = post(bob, f"/desk/{action}/", {"visit": first.pk})  # from tab 1
        assert messages_of(response) == ["Your page was out of date; nothing was changed."]
    assert refresh(first).status == Visit.Status.NO_SHOW
    assert refresh(second).status == Visit.Status.CALLED
    assert not Interview.objects.exists()
    assert Call.objects.count() == 2


BAD_VISIT_IDS = [None, "", "abc", "²", "１２", "-1", "0", "9" * 30, "1 OR 1=1"]


@pytest.mark.parametrize("visit_id", BAD_VISIT_IDS)
@pytest.mark.parametrize("action", ["no-show", "recall", "start", "hand-back"])
def test_a_missing_or_malformed_visit_id_is_refused_not_taken_as_anyone(
    centre, bob, action, visit_id
):
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    calls = Call.objects.count()

    response = post(bob, f"/desk/{action}/", {} if visit_id is None else {"visit": visit_id})

    assert messages_of(response) == ["Your page was out of date; nothing was changed."]
    assert refresh(visit).status == Visit.Status.CALLED
    assert Call.objects.count() == calls
    assert not Interview.objects.exists()


@pytest.mark.parametrize("visit_id", BAD_VISIT_IDS)
def test_a_finish_with_a_missing_or_malformed_visit_id_finishes_nothing(centre, bob, visit_id):
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    post(bob, "/desk/start/", {"visit": visit.pk})
    data = finish_data(visit)
    data.pop("visit")
    if visit_id is not None:
        data["visit"] = visit_id

    response = post(bob, "/desk/finish/", data)

    assert messages_of(response) == ["Your page was out of date; nothing was changed."]
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW
    assert Interview.objects.get(visit=visit).ended_at is None


def test_a_stale_finish_does_not_touch_the_current_interview(centre, bob):
    first = queue_visit(centre.alpha, "E")
    second = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    post(bob, "/desk/hand-back/", {"visit": first.pk})  # tab 2
    post(bob, "/desk/call-ticket/", {"visit": second.pk, "reason": "child"})
    post(bob, "/desk/start/", {"visit": second.pk})

    response = post(bob, "/desk/finish/", finish_data(first))  # tab 1
    assert messages_of(response) == ["Your page was out of date; nothing was changed."]
    assert refresh(second).status == Visit.Status.IN_INTERVIEW
    assert Interview.objects.get(visit=second).ended_at is None
    assert refresh(first).status == Visit.Status.WAITING


def test_it_calls_a_ticket_out_of_order_with_a_reason(centre, bob):
    queue_visit(centre.alpha, "E")
    later = queue_visit(centre.alpha, "F")
    page = bob.get("/desk/").content.decode()
    assert "Call a specific ticket" in page and later.code in page

    response = post(bob, "/desk/call-ticket/", {"visit": later.pk, "reason": "bogus"})
    assert messages_of(response) == ["Choose a ticket and why it is called out of order."]
    assert not Call.objects.exists()

    post(bob, "/desk/call-ticket/", {"visit": later.pk, "reason": "accessibility"})
    assert Call.objects.get().out_of_order == "accessibility"
    assert refresh(later).status == Visit.Status.CALLED


def test_a_missed_visitor_is_listed_and_put_back(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    response = post(bob, "/desk/no-show/", {"visit": visit.pk})
    content = response.content.decode()
    assert "Did not come (last 10 minutes)" in content and visit.code in content

    response = post(bob, "/desk/put-back/", {"visit": visit.pk})
    assert messages_of(response) == [f"Ticket {visit.code} is back in the queue at its place."]
    refresh(visit)
    assert visit.status == Visit.Status.WAITING and visit.no_show_at is None

    response = post(bob, "/desk/put-back/", {"visit": visit.pk})
    assert messages_of(response) == ["This ticket cannot be put back in the queue."]


def test_recall_and_hand_back(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    response = post(bob, "/desk/recall/", {"visit": visit.pk})
    assert messages_of(response) == ["Called again."]
    assert sorted(Call.objects.values_list("kind", flat=True)) == ["call", "recall"]
    response = post(bob, "/desk/hand-back/", {"visit": visit.pk})
    assert messages_of(response) == ["The visitor is back in the queue at their place."]
    assert refresh(visit).status == Visit.Status.WAITING


def test_a_referral_sends_the_visitor_to_the_other_theme_keeping_their_time(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    queued_at = visit.queued_at
    call_and_start(bob, visit)
    form = bob.get("/desk/").context["finish_form"]
    # The referral offers the site's other themes, not the visit's own.
    assert set(form.fields["refer_theme"].queryset) == {
        theme(centre.alpha, "F"),
        theme(centre.alpha, "A"),
    }

    response = post(
        bob,
        "/desk/finish/",
        finish_data(
            visit,
            outcomes=["referred_desk"],
            refer_theme=theme(centre.alpha, "A").pk,
            referral_reason="specialist",
        ),
    )
    assert messages_of(response) == ["Interview recorded."]
    refresh(visit)
    assert (visit.status, visit.theme, visit.queued_at) == (
        Visit.Status.WAITING,
        theme(centre.alpha, "A"),
        queued_at,
    )


def test_a_desk_open_at_one_site_takes_no_action_while_working_at_another(centre, bob):
    """Bob's desk is open at Alpha; working at Beta (where he is a counsellor too), no desk
    action reaches the Alpha desk: the desk is found at the site the request is about."""
    visit = queue_visit(centre.alpha, "E")
    post(bob, "/desk/call-next/")
    grant_role(user=centre.counsellor_a, role=Role.COUNSELLOR, site=centre.beta)
    session = bob.session
    session[SESSION_SITE_KEY] = centre.beta.pk
    session.save()

    for path, data in (
        ("/desk/start/", {"visit": visit.pk}),
        ("/desk/recall/", {"visit": visit.pk}),
        ("/desk/pause/", {}),
    ):
        response = bob.post(path, data, follow=True)
        assert messages_of(response) == ["This desk is closed. Open a desk first."], path

    assert refresh(visit).status == Visit.Status.CALLED
    assert Call.objects.filter(visit=visit).count() == 1
    assert DeskSession.objects.get(counsellor=centre.counsellor_a).paused_since is None


def test_a_finish_with_invalid_answers_saves_nothing(centre, bob):
    other_theme_topic = make_topic(centre.alpha, "F", "Funding")
    beta_topic = make_topic(centre.beta, "E", "Beta's CV")
    visit = queue_visit(centre.alpha, "E")
    call_and_start(bob, visit)
    for data in (
        finish_data(visit, topics=["x"]),
        finish_data(visit, topics=["١٢"]),
        finish_data(visit, topics=["9" * 30]),
        finish_data(visit, outcomes=["hired"]),
        finish_data(visit, channel="fax"),
    ):
        response = post(bob, "/desk/finish/", data)
        assert messages_of(response) == ["Some answers are not valid choices; nothing was saved."]
    # A topic of another site, or of the site but of another theme than the visitor's: the
    # service says which.
    for topic in (beta_topic, other_theme_topic):
        response = post(bob, "/desk/finish/", finish_data(visit, topics=[topic.pk]))
        assert messages_of(response) == ["One of the topics does not belong to this theme."]
    # None, the visitor's own theme, or another site's.
    for refer_to in (None, theme(centre.alpha, "E"), theme(centre.beta, "F")):
        response = post(
            bob,
            "/desk/finish/",
            referral_data(visit, refer_to)
            if refer_to
            else finish_data(visit, outcomes=["referred_desk"]),
        )
        assert messages_of(response) == ["Choose the theme of the desk you refer the visitor to."]
    assert refresh(visit).status == Visit.Status.IN_INTERVIEW
    assert Interview.objects.get().ended_at is None
    assert not Outcome.objects.exists()


def test_pause_resume_and_close(centre, bob):
    visit = queue_visit(centre.alpha, "E")
    response = post(bob, "/desk/pause/")
    assert "paused" in response.content.decode()
    response = post(bob, "/desk/call-next/")
    assert messages_of(response) == ["Your desk is paused. Resume it to call visitors."]
    post(bob, "/desk/resume/")
    post(bob, "/desk/call-next/")

    response = post(bob, "/desk/close/")
    assert messages_of(response) == [
        "Finish the interview, or hand the visitor back to the queue, before closing."
    ]
    post(bob, "/desk/hand-back/", {"visit": visit.pk})
    response = post(bob, "/desk/close/")
    assert messages_of(response) == ["Your desk is closed. Thank you!"]
    assert response.templates[0].name == "counselling/choose_desk.html"
    assert not DeskSession.objects.filter(closed_at=None).exists()

    response = post(bob, "/desk/call-next/")
    assert messages_of(response) == ["This desk is closed. Open a desk first."]


def test_a_desk_taken_by_a_colleague_cannot_be_opened(centre, login, desk):
    open_session(centre.counsellor_b, desk)
    response = post(login(centre.counsellor_a), f"/desk/open/{desk.pk}/")
    assert messages_of(response) == ["Desk 1 is already open for a colleague."]
    assert DeskSession.objects.get().counsellor == centre.counsellor_b
