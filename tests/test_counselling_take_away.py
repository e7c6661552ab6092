"""The take-away list: during an interview the counsellor searches the catalogue and hands the
visitor a list of documents, which the visitor sees on their phone and prints — no identity."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from counselling import services
from events.models import Event
from reception.models import TakeAwayEvent, TakeAwayItem, Visit
from resources.models import Holding, Resource
from tests.counselling_fixtures import (
    in_english,  # noqa: F401  (fixture)
    make_desk,
    open_session,
    queue_visit,
    refresh,
)

pytestmark = pytest.mark.usefixtures("in_english")

Error = services.CounsellingError


@pytest.fixture
def session(centre):
    return open_session(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E"))


@pytest.fixture
def guide(centre):
    resource = Resource.objects.create(
        title="Réussir son entretien d'embauche",
        kind=Resource.Kind.BOOK,
        authors="Jeanne Martin",
        keywords="entretien embauche",
    )
    Holding.objects.create(resource=resource, site=centre.alpha, shelf_mark="EMP 12")
    return resource


@pytest.fixture
def old_guide():
    return Resource.objects.create(title="Le minitel et l'emploi", withdrawn=True)


def in_interview(session, centre) -> Visit:
    visit = queue_visit(centre.alpha, "E")
    who = {"session_id": session.pk, "counsellor": session.counsellor}
    services.call_next(**who)
    services.start_interview(**who, visit_id=visit.pk)
    return visit


def add(session, resource):
    services.add_to_take_away(
        session_id=session.pk, counsellor=session.counsellor, resource_id=resource.pk
    )


def test_it_adds_a_document_once_and_removes_it(centre, session, guide):
    visit = in_interview(session, centre)
    add(session, guide)
    add(session, guide)  # a double click
    assert list(TakeAwayItem.objects.values_list("visit_id", "resource_id")) == [
        (visit.pk, guide.pk)
    ]
    services.remove_from_take_away(
        session_id=session.pk, counsellor=session.counsellor, resource_id=guide.pk
    )
    assert not TakeAwayItem.objects.exists()


def test_it_refuses_a_withdrawn_or_unknown_document(centre, session, old_guide):
    in_interview(session, centre)
    with pytest.raises(Error, match="not in the catalogue any more"):
        add(session, old_guide)
    with pytest.raises(Error, match="not in the catalogue any more"):
        services.add_to_take_away(
            session_id=session.pk, counsellor=session.counsellor, resource_id=999999
        )
    assert not TakeAwayItem.objects.exists()


def test_a_list_is_only_made_during_an_interview(centre, session, guide):
    queue_visit(centre.alpha, "E")
    with pytest.raises(Error, match="out of date"):
        add(session, guide)  # nobody at the desk
    services.call_next(session_id=session.pk, counsellor=session.counsellor)
    with pytest.raises(Error, match="out of date"):
        add(session, guide)  # called, not yet in interview
    assert not TakeAwayItem.objects.exists()


def test_the_counsellor_finds_a_document_and_hands_it_over(centre, login, session, guide):
    visit = in_interview(session, centre)
    bob = login(centre.counsellor_a)

    # The inline search (htmx fragment) and the same search without JavaScript.
    fragment = bob.get("/desk/take-away/search/?tq=entretiens").content.decode()
    assert 'id="take-away-results"' in fragment and "<html" not in fragment
    assert "Réussir son entretien" in fragment.replace("&#x27;", "'")
    page = bob.get("/desk/?tq=entretien").content.decode()
    assert "Add Réussir son entretien d&#x27;embauche to the list" in page

    response = bob.post(
        "/desk/take-away/add/", {"resource": guide.pk, "visit": visit.pk}, follow=True
    )
    assert response.redirect_chain == [("/desk/", 302)]
    assert "Remove Réussir son entretien" in response.content.decode()
    assert TakeAwayItem.objects.get().visit == visit

    # The visitor sees it on their phone, with where it is on the shelves, and prints it.
    phone = Client()
    content = phone.get(f"/t/{visit.token}/").content.decode()
    assert "Réussir son entretien" in content and "EMP 12" in content
    assert f"/t/{visit.token}/list.pdf" in content
    response = phone.get(f"/t/{visit.token}/list.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Réussir son entretien" in text
    assert "EMP 12" in text
    assert visit.code not in text  # nothing that ties the list to a person or a ticket
    assert centre.partner_a.name not in text


def test_removing_a_document_from_the_desk(centre, login, session, guide):
    visit = in_interview(session, centre)
    add(session, guide)
    bob = login(centre.counsellor_a)
    response = bob.post(
        "/desk/take-away/remove/", {"resource": guide.pk, "visit": visit.pk}, follow=True
    )
    assert response.redirect_chain == [("/desk/", 302)]
    assert not TakeAwayItem.objects.exists()


def test_the_list_stays_with_the_visit_after_the_interview(centre, session, guide):
    visit = in_interview(session, centre)
    add(session, guide)
    services.finish_interview(
        session_id=session.pk, counsellor=session.counsellor, outcomes=["resources"]
    )
    assert refresh(visit).status == Visit.Status.DONE
    assert "Réussir son entretien" in Client().get(f"/t/{visit.token}/").content.decode()


def test_a_stale_page_does_not_add_to_the_next_visitors_list(centre, login, session, guide):
    """Tab 1 still shows the first visitor's interview; in tab 2 that interview was finished and
    the next visitor's started. Adding from tab 1 must not land on the next visitor's list."""
    first = in_interview(session, centre)
    bob = login(centre.counsellor_a)
    stale_page = bob.get("/desk/?tq=entretien").content.decode()
    assert f'name="visit" value="{first.pk}"' in stale_page
    services.finish_interview(session_id=session.pk, counsellor=session.counsellor)
    second = in_interview(session, centre)

    response = bob.post(
        "/desk/take-away/add/", {"resource": guide.pk, "visit": first.pk}, follow=True
    )
    assert not TakeAwayItem.objects.filter(visit=second).exists()
    assert [str(m) for m in response.context["messages"]] == [
        "Your page was out of date; nothing was changed."
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/desk/take-away/search/?tq=x"),
        ("post", "/desk/take-away/add/"),
        ("post", "/desk/take-away/remove/"),
    ],
)
def test_only_counsellors_use_the_take_away_list(centre, login, method, path):
    assert getattr(login(centre.reception), method)(path).status_code == 403
    response = getattr(login(None), method)(path)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- events on the list ---------------------------------------------------------------------------


def make_event(site, title: str, *, days: float = 3, status: str = "published"):
    starts = timezone.now() + dt.timedelta(days=days)
    return Event.objects.create(
        site=site,
        title=title,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        status=status,
    )


def add_event(session, event):
    services.add_event_to_take_away(
        session_id=session.pk, counsellor=session.counsellor, event_id=event.pk
    )


def test_it_suggests_an_upcoming_event_once_and_removes_it(centre, session):
    workshop = make_event(centre.alpha, "Atelier CV")
    visit = in_interview(session, centre)
    add_event(session, workshop)
    add_event(session, workshop)
    assert list(TakeAwayEvent.objects.values_list("visit_id", "event_id")) == [
        (visit.pk, workshop.pk)
    ]
    services.remove_event_from_take_away(
        session_id=session.pk, counsellor=session.counsellor, event_id=workshop.pk
    )
    assert not TakeAwayEvent.objects.exists()


@pytest.mark.parametrize("which", ["past", "draft", "cancelled", "other site"])
def test_it_refuses_an_event_that_is_not_open(centre, session, which):
    event = {
        "past": lambda: make_event(centre.alpha, "Past", days=-2),
        "draft": lambda: make_event(centre.alpha, "Draft", status="draft"),
        "cancelled": lambda: make_event(centre.alpha, "Cancelled", status="cancelled"),
        "other site": lambda: make_event(centre.beta, "At Beta"),
    }[which]()
    in_interview(session, centre)
    with pytest.raises(Error, match="not open any more"):
        add_event(session, event)
    assert not TakeAwayEvent.objects.exists()


def test_a_stale_page_does_not_suggest_an_event_to_the_next_visitor(centre, login, session):
    workshop = make_event(centre.alpha, "Atelier CV")
    first = in_interview(session, centre)
    bob = login(centre.counsellor_a)
    services.finish_interview(session_id=session.pk, counsellor=session.counsellor)
    second = in_interview(session, centre)

    response = bob.post(
        "/desk/take-away/add-event/", {"event": workshop.pk, "visit": first.pk}, follow=True
    )
    assert not TakeAwayEvent.objects.filter(visit=second).exists()
    assert [str(m) for m in response.context["messages"]] == [
        "Your page was out of date; nothing was changed."
    ]
