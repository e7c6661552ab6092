"""The referral note: the desk that calls a referred visitor reads which desk referred them, from
which theme and why — codes only, from the referring interview's outcome, so it survives the call
(which clears `Visit.referred_by`) and costs the desk's actions nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citedesmetiers.models import Partner
from citedesmetiers.roles import Role
from counselling import selectors, services
from counselling.models import Outcome
from reception import services as reception
from reception.models import Call
from tests.conftest import make_staff
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    make_desk,
    minutes,
    open_session,
    queue_visit,
    refresh,
    theme,
)

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture
def desks(centre):
    alpha = centre.alpha
    return SimpleNamespace(
        jobs=make_desk(alpha, "Desk 1", "E", order=1),
        training=make_desk(alpha, "Desk 2", "F", order=2),
        business=make_desk(alpha, "Desk 3", "A", order=3),
    )


def who(session) -> dict:
    return {"session_id": session.pk, "counsellor": session.counsellor}


def see(session, visit, **answers):
    """Call `visit` (the oldest waiting for the desk), start and finish the interview."""
    assert services.call_next(**who(session)) == visit
    services.start_interview(**who(session), visit_id=visit.pk)
    answers.setdefault("outcomes", [Outcome.Code.INFORMATION])
    services.finish_interview(**who(session), visit_id=visit.pk, **answers)


def refer(session, visit, letter: str, reason=Outcome.Reason.SPECIALIST):
    see(
        session,
        visit,
        outcomes=[Outcome.Code.INFORMATION, Outcome.Code.REFERRED_DESK],
        refer_theme_id=theme(visit.site, letter).pk,
        referral_reason=reason,
    )


def test_the_desk_that_calls_a_referred_visitor_reads_who_referred_them_from_where_and_why(
    centre, desks
):
    visit = queue_visit(centre.alpha, "E", T0)
    bob = open_session(centre.counsellor_a, desks.jobs)
    refer(bob, visit, "F")
    carol = open_session(centre.counsellor_b, desks.training)

    assert services.call_next(**who(carol)) == visit
    assert refresh(visit).referred_by is None  # the call clears it, as before
    referral = selectors.referral_to(visit)
    assert (referral.interview.desk, referral.interview.theme) == (
        desks.jobs,
        theme(visit.site, "E"),
    )
    assert referral.referral_reason == Outcome.Reason.SPECIALIST
    services.start_interview(**who(carol), visit_id=visit.pk)
    assert selectors.referral_to(refresh(visit)) == referral  # during the interview too


def test_a_visitor_nobody_referred_has_no_note(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    bob = open_session(centre.counsellor_a, desks.jobs)
    services.call_next(**who(bob))
    assert selectors.referral_to(visit) is None


def test_the_last_referral_counts_when_a_visitor_passes_through_several_desks(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    refer(open_session(centre.counsellor_a, desks.jobs), visit, "F")
    refer(open_session(centre.counsellor_b, desks.training), refresh(visit), "A")
    dana = make_staff("dana@alpha.test", Role.COUNSELLOR, centre.alpha)
    business = open_session(dana, desks.business)
    services.call_next(**who(business))

    referral = selectors.referral_to(refresh(visit))
    assert referral.interview.desk == desks.training
    assert referral.interview.theme == theme(centre.alpha, "F")


def test_a_visitor_handed_back_by_the_new_desk_keeps_the_note(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    refer(open_session(centre.counsellor_a, desks.jobs), visit, "F")
    carol = open_session(centre.counsellor_b, desks.training)
    services.call_next(**who(carol))
    services.start_interview(**who(carol), visit_id=visit.pk)
    services.hand_back(**who(carol), visit_id=visit.pk)  # ends that interview, no outcome

    services.call_next(**who(carol))
    assert selectors.referral_to(refresh(visit)).interview.desk == desks.jobs


def test_no_note_once_reception_gives_the_visitor_another_theme(centre, desks):
    visit = queue_visit(centre.alpha, "E", T0)
    refer(open_session(centre.counsellor_a, desks.jobs), visit, "F")
    reception.change_theme(
        site=centre.alpha, visit_id=visit.pk, theme_id=theme(centre.alpha, "A").pk
    )
    services.call_next(**who(open_session(centre.counsellor_b, desks.business)))
    assert selectors.referral_to(refresh(visit)) is None


def test_a_referral_to_a_partner_outside_is_no_note(centre, desks):
    """Sent to an institution outside, the visitor leaves; if they come back they check in anew."""
    visit = queue_visit(centre.alpha, "E", T0)
    see(
        open_session(centre.counsellor_a, desks.jobs),
        visit,
        outcomes=[Outcome.Code.REFERRED_PARTNER],
        partner_kind=Partner.Kind.GUIDANCE,
    )
    assert selectors.referral_to(refresh(visit)) is None


def test_reading_the_note_is_one_query(centre, desks, django_assert_num_queries):
    visit = queue_visit(centre.alpha, "E", T0)
    refer(open_session(centre.counsellor_a, desks.jobs), visit, "F")
    services.call_next(**who(open_session(centre.counsellor_b, desks.training)))
    visit = refresh(visit)
    with django_assert_num_queries(1):
        referral = selectors.referral_to(visit)
        assert str(referral.interview.desk) == "Desk 1"
        assert referral.interview.theme.letter == "E"


# --- on the desk screen --------------------------------------------------------------------------


def test_the_desk_screen_shows_the_note_and_nothing_about_the_person(centre, desks, login):
    visit = queue_visit(centre.alpha, "E", T0)
    refer(open_session(centre.counsellor_a, desks.jobs), visit, "F", Outcome.Reason.OTHER_VIEW)
    services.call_next(**who(open_session(centre.counsellor_b, desks.training)))

    content = login(centre.counsellor_b).get("/desk/").content.decode()
    assert "Referred by Desk 1 from theme E (Find a job)" in content
    assert "Why: another point of view" in content
    assert centre.partner_a.name not in content  # mutual anonymity: the referring institution


def test_the_referring_desk_and_an_unreferred_visitor_show_no_note(centre, desks, login):
    referred, other = queue_visit(centre.alpha, "E", T0), queue_visit(centre.alpha, "E", T0)
    bob = open_session(centre.counsellor_a, desks.jobs)
    refer(bob, referred, "F")
    services.call_next(**who(bob))  # the next visitor, not referred
    assert services.current_visit(bob) == other
    assert "Referred by" not in login(centre.counsellor_a).get("/desk/").content.decode()


def test_the_note_costs_the_same_whether_or_not_the_visitor_was_referred(centre, desks, login):
    referred = queue_visit(centre.alpha, "E", T0)
    other = queue_visit(centre.alpha, "F", T0 + minutes(5))
    refer(open_session(centre.counsellor_a, desks.jobs), referred, "F")
    carol = open_session(centre.counsellor_b, desks.training)
    client = login(centre.counsellor_b)
    client.get("/desk/")  # the first page of a login records the MFA check in the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/desk/").status_code == 200
        return len(captured)

    assert services.call_next(**who(carol)) == referred  # they waited longest
    with_note = queries()
    services.hand_back(**who(carol), visit_id=referred.pk)
    services.call_ticket(**who(carol), visit_id=other.pk, reason=Call.OutOfOrder.OTHER)
    assert queries() == with_note


def test_the_new_desk_shows_when_its_own_interview_began(centre, desks, login):
    visit = queue_visit(centre.alpha, "E", T0)
    bob = open_session(centre.counsellor_a, desks.jobs)
    services.call_next(**who(bob), now=T0 + minutes(1))
    services.start_interview(**who(bob), visit_id=visit.pk, now=T0 + minutes(2))
    services.finish_interview(
        **who(bob),
        visit_id=visit.pk,
        outcomes=[Outcome.Code.INFORMATION, Outcome.Code.REFERRED_DESK],
        refer_theme_id=theme(visit.site, "F").pk,
        referral_reason=Outcome.Reason.SPECIALIST,
        now=T0 + minutes(20),
    )
    carol = open_session(centre.counsellor_b, desks.training)
    services.call_next(**who(carol), now=T0 + minutes(30))
    services.start_interview(**who(carol), visit_id=visit.pk, now=T0 + minutes(35))

    content = login(centre.counsellor_b).get("/desk/").content.decode()
    assert "interview since 09:35" in content  # not the first desk's 09:02
