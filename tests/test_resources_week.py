"""The resource of the week (resources.week): the information officer puts a record forward on
the site's waiting-room screen from the catalogue's staff pages, or takes it off. POST only,
CSRF-protected, audited; refused for a withdrawn record or one only other sites hold.

Personas (tests/conftest.py): Dan, information officer at Alpha; Bob, counsellor at Alpha;
Grace, manager at Beta only."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from citedesmetiers.live import current_mark
from citedesmetiers.models import AuditEntry
from resources import week
from resources.models import Resource, ResourceOfTheWeek
from tests.counselling_fixtures import in_english  # noqa: F401  (fixture)
from tests.test_resources_search import add_resource
from tests.threads import in_parallel, needs_postgresql

pytestmark = pytest.mark.usefixtures("in_english")


def choose_url(resource) -> str:
    return f"/catalogue/staff/{resource.pk}/resource-of-the-week/"


CLEAR = "/catalogue/staff/resource-of-the-week/clear/"


@pytest.fixture
def guide(centre):
    return add_resource(
        "Guide des métiers", kind=Resource.Kind.BOOK, holdings=[(centre.alpha, "M")]
    )


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_officer_puts_a_record_forward_and_the_screen_shows_it(
    centre, login, guide, django_capture_on_commit_callbacks
):
    mark = current_mark("alpha")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(centre.officer).post(choose_url(guide))

    assert response.status_code == 302
    assert response.url == f"/catalogue/staff/{guide.pk}/"
    assert said(response) == [
        "“Guide des métiers” is the resource of the week on the waiting-room screen of Site Alpha."
    ]
    assert ResourceOfTheWeek.objects.get(site=centre.alpha).resource == guide
    assert current_mark("alpha") != mark  # the screens re-read
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.site) == (
        centre.officer,
        AuditEntry.Action.DISPLAY_CHANGED,
        centre.alpha,
    )
    assert "Guide des métiers" in entry.detail
    assert "Guide des métiers" in Client().get("/display/alpha/").content.decode()


def test_a_new_choice_replaces_the_last_one(centre, login, guide):
    other = add_resource("Réussir son entretien", holdings=[(centre.alpha, "E")])
    client = login(centre.officer)
    client.post(choose_url(guide))
    client.post(choose_url(other))

    assert list(ResourceOfTheWeek.objects.values_list("site", "resource")) == [
        (centre.alpha.pk, other.pk)
    ]


def test_an_online_record_no_site_holds_may_be_chosen(centre, login):
    online = add_resource("Fiches métiers en ligne", kind=Resource.Kind.WEBSITE)
    login(centre.officer).post(choose_url(online))
    assert ResourceOfTheWeek.objects.get(site=centre.alpha).resource == online


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda c: add_resource("Retiré", withdrawn=True, holdings=[(c.alpha, "R")]),
            "A withdrawn record cannot be the resource of the week. Restore it first.",
        ),
        (
            lambda c: add_resource("Only at Beta", holdings=[(c.beta, "B")]),
            "Site Alpha does not hold this record: only a record on its shelves, or an online "
            "one, can be the resource of the week there.",
        ),
    ],
    ids=["withdrawn", "held-only-at-another-site"],
)
def test_it_refuses_a_record_the_screen_may_not_show(centre, login, make, message):
    record = make(centre)

    response = login(centre.officer).post(choose_url(record))

    assert response.status_code == 302 and response.url == f"/catalogue/staff/{record.pk}/"
    assert said(response) == [message]
    assert not ResourceOfTheWeek.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_manager_of_another_site_chooses_for_their_own_site_only(mfa_enrolled, login, guide):
    response = login(mfa_enrolled.beta_manager).post(choose_url(guide))
    assert "Site Beta does not hold this record" in said(response)[0]
    assert not ResourceOfTheWeek.objects.exists()


def test_an_unknown_record_is_not_found(centre, login):
    assert (
        login(centre.officer).post("/catalogue/staff/999999/resource-of-the-week/").status_code
        == 404
    )
    assert (
        login(centre.officer)
        .post("/catalogue/staff/99999999999999999999/resource-of-the-week/")
        .status_code
        == 404
    )
    assert not ResourceOfTheWeek.objects.exists()


def test_it_is_post_only_and_needs_the_csrf_token(centre, guide):
    client = Client(enforce_csrf_checks=True)
    client.force_login(centre.officer, backend="citedesmetiers.auth_backends.ModelBackend")

    assert client.get(choose_url(guide)).status_code == 405
    assert client.get(CLEAR).status_code == 405
    assert client.post(choose_url(guide)).status_code == 403
    assert client.post(CLEAR).status_code == 403
    assert not ResourceOfTheWeek.objects.exists()


def test_only_information_officers_and_managers_may_choose(centre, login, guide):
    assert login(centre.counsellor_a).post(choose_url(guide)).status_code == 403
    assert login(centre.reception).post(CLEAR).status_code == 403
    anonymous = login(None).post(choose_url(guide))
    assert anonymous.status_code == 302 and anonymous.url.startswith("/accounts/login/")
    assert not ResourceOfTheWeek.objects.exists()


def test_the_officer_takes_it_off_the_screen(centre, login, guide):
    ResourceOfTheWeek.objects.create(site=centre.alpha, resource=guide)

    response = login(centre.officer).post(CLEAR, {"back": str(guide.pk)})

    assert response.url == f"/catalogue/staff/{guide.pk}/"
    assert said(response) == ["“Guide des métiers” is no longer on the waiting-room screen."]
    assert not ResourceOfTheWeek.objects.exists()
    assert "taken off" in AuditEntry.objects.get().detail
    assert "Guide des métiers" not in Client().get("/display/alpha/").content.decode()


@pytest.mark.parametrize("back", ["", "abc", "١٢", "-1", "9" * 30, "999999"])
def test_taking_off_what_is_not_there_says_so_and_changes_nothing(centre, login, back):
    response = login(centre.officer).post(CLEAR, {"back": back})

    assert response.status_code == 302 and response.url == "/catalogue/staff/"
    assert said(response) == ["There is no resource of the week to take off."]
    assert not AuditEntry.objects.exists()


def test_the_staff_pages_say_what_the_screen_shows(centre, login, guide):
    client = login(centre.officer)
    edit = client.get(f"/catalogue/staff/{guide.pk}/").content.decode()
    assert "Make it the resource of the week" in edit

    client.post(choose_url(guide))

    listing = client.get("/catalogue/staff/").content.decode()
    assert "Guide des métiers" in listing and "Take it off the screen" in listing
    edit = client.get(f"/catalogue/staff/{guide.pk}/").content.decode()
    assert "Take it off the screen" in edit
    elsewhere = add_resource("Only at Beta", holdings=[(centre.beta, "B")])
    other = client.get(f"/catalogue/staff/{elsewhere.pk}/").content.decode()
    assert "Make it the resource of the week" not in other
    assert "Only a record held at Site Alpha, or an online one" in other


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_officers_choosing_at_once_leave_one_choice(centre):
    records = [add_resource(f"Guide {n}", holdings=[(centre.alpha, f"G{n}")]) for n in range(2)]

    in_parallel(
        2,
        lambda i: week.choose(site=centre.alpha, resource_id=records[i].pk, officer=centre.officer),
    )

    chosen = ResourceOfTheWeek.objects.filter(site=centre.alpha)
    assert chosen.count() == 1 and chosen.get().resource in records
    assert AuditEntry.objects.count() == 2
