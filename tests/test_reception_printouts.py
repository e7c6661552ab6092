"""The visitor's printouts cost a render each (half a second, hundreds of megabytes of a web
worker): the proof is made once, the take-away list once per change, and the renders still
needed are limited per ticket and per client address — a refusal is a clear 429 page saying when
to try again, never a server error.

Renders are counted from the log line the one renderer writes for each (`citedesmetiers.pdf`)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from counselling import services as desk
from reception import services
from reception.models import Visit
from resources.models import Resource
from tests.counselling_fixtures import in_english, make_desk, open_session  # noqa: F401

pytestmark = pytest.mark.usefixtures("in_english")

HOME = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture
def renders(caplog):
    """How many PDFs were rendered so far."""
    caplog.set_level(logging.INFO, logger="citedesmetiers.pdf")

    def count() -> int:
        return sum(
            1
            for record in caplog.records
            if record.name == "citedesmetiers.pdf"
            and record.getMessage().startswith("PDF rendered")
        )

    return count


def check_in(site) -> Visit:
    visit, _created = services.check_in(
        site=site, theme_id=site.themes.get(letter="E").pk, language="en"
    )
    return visit


def proof(client, visit: Visit, address: str = HOME):
    return client.get(reverse("reception:proof", args=[visit.token]), REMOTE_ADDR=address)


def take_away(client, visit: Visit, address: str = HOME):
    return client.get(reverse("reception:take_away_pdf", args=[visit.token]), REMOTE_ADDR=address)


@pytest.fixture
def counsellor(centre):
    """A counsellor in an interview with the next visitor, who can hand them documents."""
    session = open_session(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E"))
    who = {"session_id": session.pk, "counsellor": centre.counsellor_a}

    class Counsellor:
        def see(self, visit: Visit) -> None:
            assert desk.call_next(**who).pk == visit.pk
            desk.start_interview(**who, visit_id=visit.pk)

        def hand(self, resource: Resource) -> None:
            desk.add_to_take_away(**who, resource_id=resource.pk)

        def take_back(self, resource: Resource) -> None:
            desk.remove_from_take_away(**who, resource_id=resource.pk)

    return Counsellor()


def document(title: str) -> Resource:
    return Resource.objects.create(title=title, kind=Resource.Kind.BOOK)


def test_it_makes_the_proof_once_however_often_it_is_asked(centre, client, renders):
    visit = check_in(centre.alpha)

    answers = [proof(client, visit) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert renders() == 1
    assert answers[0].content.startswith(b"%PDF-")
    assert answers[1].content == answers[2].content == answers[0].content


def test_a_change_to_the_take_away_list_renders_it_anew(centre, client, renders, counsellor):
    visit = check_in(centre.alpha)
    counsellor.see(visit)
    guide = document("Réussir son entretien")

    empty = take_away(client, visit).content
    assert take_away(client, visit).content == empty
    assert renders() == 1

    counsellor.hand(guide)
    with_guide = take_away(client, visit).content
    assert renders() == 2
    assert with_guide != empty
    assert take_away(client, visit).content == with_guide
    assert renders() == 2

    # Back to what it was: that list was made already.
    counsellor.take_back(guide)
    assert take_away(client, visit).content == empty
    assert renders() == 2


def refused(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert "Please try again later" in page
    assert "You can print this one again in" in page


def test_the_renders_of_one_ticket_are_limited(centre, client, renders, counsellor, settings):
    settings.PDF_RENDERS_PER_TICKET = 2
    visit, other = check_in(centre.alpha), check_in(centre.alpha)
    counsellor.see(visit)

    # From several addresses: the ticket's own budget is what stops it.
    assert proof(client, visit, "192.0.2.1").status_code == 200
    assert take_away(client, visit, "192.0.2.2").status_code == 200
    counsellor.hand(document("Réussir son entretien"))
    refusal = take_away(client, visit, "192.0.2.3")

    refused(refusal)
    assert renders() == 2
    # What was made already is still given; another ticket has its own budget.
    assert proof(client, visit, "192.0.2.4").status_code == 200
    assert proof(client, other, "192.0.2.5").status_code == 200
    assert renders() == 3


def test_the_renders_of_one_address_are_limited(centre, client, renders, settings):
    settings.PDF_RENDERS_PER_ADDRESS = 2
    visits = [check_in(centre.alpha) for _ in range(4)]

    assert proof(client, visits[0]).status_code == 200
    assert proof(client, visits[1]).status_code == 200
    refused(proof(client, visits[2]))
    assert renders() == 2

    assert proof(client, visits[0]).status_code == 200  # made already: nothing to render
    assert proof(client, visits[2], ELSEWHERE).status_code == 200
    assert renders() == 3


def test_an_ipv6_network_shares_one_budget(centre, client, renders, settings):
    settings.PDF_RENDERS_PER_ADDRESS = 1
    first, second, third = (check_in(centre.alpha) for _ in range(3))

    assert proof(client, first, "2001:db8:1:2::1").status_code == 200
    refused(proof(client, second, "2001:db8:1:2:ffff::9"))  # the same /64
    assert proof(client, third, "2001:db8:1:3::1").status_code == 200
    assert renders() == 2
