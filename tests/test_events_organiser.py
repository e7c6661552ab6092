"""The organisers' side of events: who may open what, and the list of events (places, the
waiting list, the no-show rate). Creating and editing: test_events_organiser_editing.py; the door
and the registrants: test_events_organiser_door.py; the admin: test_events_organiser_admin.py.

Personas (tests/conftest.py): Erin organises events at Alpha; Frank manages Alpha; Grace manages
Beta only; Alice (reception), Bob (counsellor) and Dan (information officer) have other jobs."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, resolve

from events import services
from events.models import Event, Registration, Series
from tests.conftest import Centre
from tests.events_organiser_fixtures import (
    MANAGE,
    alpha_registration,
    alpha_series,
    make_event,
    move_to_the_past,
    register,
)

# --- who may open what ----------------------------------------------------------------------------


PERSONAS = ("reception", "counsellor_a", "officer", "organiser", "manager", "beta_manager")


LOGIN = "login"


def organisers(ok, beta) -> dict:
    """Organisers and managers of Alpha get `ok`; Beta's manager gets `beta`; other roles 403."""
    return {
        "reception": 403,
        "counsellor_a": 403,
        "officer": 403,
        "organiser": ok,
        "manager": ok,
        "beta_manager": beta,
        "anonymous": LOGIN,
    }


def _alpha_event(c: Centre) -> Event:
    event = make_event(c.alpha, status=Event.Status.DRAFT)
    return event


ACCESS: list[tuple[str, Callable[[Centre], str], dict, dict]] = [
    ("GET list", lambda c: f"{MANAGE}/", {}, organisers(200, 200)),
    ("GET create", lambda c: f"{MANAGE}/new/", {}, organisers(200, 200)),
    ("GET series_create", lambda c: f"{MANAGE}/series/new/", {}, organisers(200, 200)),
    ("GET detail", lambda c: f"{MANAGE}/{_alpha_event(c).pk}/", {}, organisers(200, 404)),
    ("GET edit", lambda c: f"{MANAGE}/{_alpha_event(c).pk}/edit/", {}, organisers(200, 404)),
    (
        "POST publish",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/publish/",
        {},
        organisers(302, 404),
    ),
    ("GET cancel", lambda c: f"{MANAGE}/{_alpha_event(c).pk}/cancel/", {}, organisers(200, 404)),
    (
        "POST cancel",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/cancel/",
        {},
        organisers(302, 404),
    ),
    (
        "GET registrants",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/registrants/",
        {},
        organisers(200, 404),
    ),
    (
        "GET export_csv",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/registrants.csv",
        {},
        organisers(200, 404),
    ),
    (
        "GET export_xlsx",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/registrants.xlsx",
        {},
        organisers(200, 404),
    ),
    ("GET door", lambda c: f"{MANAGE}/{_alpha_event(c).pk}/door/", {}, organisers(200, 404)),
    (
        "POST attendance",
        lambda c: "{}/{}/door/{}/".format(MANAGE, *(x.pk for x in alpha_registration(c))),
        {"attended": "yes"},
        organisers(302, 404),
    ),
    (
        "POST walk_ins",
        lambda c: f"{MANAGE}/{_alpha_event(c).pk}/walk-ins/",
        {"delta": "1"},
        organisers(302, 404),
    ),
    (
        "GET series",
        lambda c: f"{MANAGE}/series/{alpha_series(c).pk}/",
        {},
        organisers(200, 404),
    ),
    (
        "POST series_publish",
        lambda c: f"{MANAGE}/series/{alpha_series(c).pk}/publish/",
        {},
        organisers(302, 404),
    ),
]


def _database() -> tuple:
    return (
        list(Event.objects.order_by("pk").values()),
        list(Registration.objects.order_by("pk").values()),
        list(Series.objects.order_by("pk").values()),
    )


def _cases():
    for label, make_url, data, expected in ACCESS:
        for persona in (*PERSONAS, "anonymous"):
            yield pytest.param(
                label, make_url, data, persona, expected[persona], id=f"{label} {persona}"
            )


@pytest.mark.parametrize(("label", "make_url", "data", "persona", "expected"), list(_cases()))
def test_access(mfa_enrolled, login, label, make_url, data, persona, expected):
    method = label.split()[0]
    url = make_url(mfa_enrolled)
    client = login(mfa_enrolled.persona(persona))
    before = _database()

    response = client.post(url, data) if method == "POST" else client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url == "/accounts/login/?" + urlencode({"next": url}, safe="/")
    else:
        assert response.status_code == expected
    if expected in (LOGIN, 403, 404) or method == "GET":
        assert _database() == before


def test_every_organiser_address_is_in_the_matrix(mfa_enrolled):
    covered = {
        resolve(urlsplit(make_url(mfa_enrolled)).path).view_name for _l, make_url, *_ in ACCESS
    }
    namespace = get_resolver().namespace_dict["events_organiser"][1]
    names = {f"events_organiser:{p.name}" for p in namespace.url_patterns}

    assert names == covered


def test_the_staff_home_offers_the_events_screen_to_organisers(centre, login):
    response = login(centre.organiser).get("/staff/?menu")

    assert "/events/manage/" in response.content.decode()


def test_a_registration_of_another_event_is_not_found(centre, login):
    event, registration = alpha_registration(centre)
    other = make_event(centre.alpha, title="Other")

    response = login(centre.organiser).post(
        f"{MANAGE}/{other.pk}/door/{registration.pk}/", {"attended": "yes"}
    )

    assert response.status_code == 404
    registration.refresh_from_db()
    assert registration.attended is None


# --- the list -------------------------------------------------------------------------------------


def test_the_list_shows_upcoming_events_first_then_past_ones(centre, login):
    later = make_event(centre.alpha, days=10, title="Later")
    sooner = make_event(centre.alpha, days=2, title="Sooner")
    old = move_to_the_past(make_event(centre.alpha, title="Old"), days=30)
    recent = move_to_the_past(make_event(centre.alpha, title="Recent"), days=2)
    make_event(centre.beta, title="At Beta")

    response = login(centre.organiser).get(f"{MANAGE}/")

    assert [e.title for e in response.context["upcoming"]] == [sooner.title, later.title]
    assert [e.title for e in response.context["past"]] == [recent.title, old.title]
    assert "At Beta" not in response.content.decode()


def test_the_list_shows_places_taken_and_the_waiting_list(centre, login):
    event = make_event(centre.alpha, capacity=2)
    for name in ("Ana", "Ben", "Cleo"):
        register(event, name)

    response = login(centre.organiser).get(f"{MANAGE}/")

    [listed] = response.context["upcoming"]
    assert (listed.n_confirmed, listed.n_waiting) == (2, 1)
    assert "2 / 2" in response.content.decode()


def test_the_no_show_rate_counts_confirmed_people_not_marked_present(centre, login):
    event = make_event(centre.alpha, capacity=10)
    people = [register(event, name) for name in ("Ana", "Ben", "Cleo", "Dan")]
    register(make_event(centre.alpha, title="Upcoming"), "Eve")
    for registration in people[:3]:
        services.set_attendance(registration_id=registration.pk, attended=True)
    services.cancel_registration(registration_id=register(event, "Fay").pk)
    move_to_the_past(event)

    response = login(centre.organiser).get(f"{MANAGE}/")

    [past] = response.context["past"]
    [upcoming] = response.context["upcoming"]
    assert past.no_show_rate == pytest.approx(0.25)  # 1 of 4 confirmed did not come
    assert upcoming.no_show_rate is None  # “—” before the event
    assert "25 %" in response.content.decode()


def test_a_cancelled_or_empty_past_event_has_no_no_show_rate(centre, login):
    cancelled = make_event(centre.alpha, title="Cancelled")
    register(cancelled, "Ana")
    services.cancel_event(event_id=cancelled.pk)
    move_to_the_past(cancelled)
    move_to_the_past(make_event(centre.alpha, title="Empty"))

    response = login(centre.organiser).get(f"{MANAGE}/")

    assert [e.no_show_rate for e in response.context["past"]] == [None, None]


def test_the_list_costs_the_same_queries_for_3_or_30_events(
    centre, login, django_assert_max_num_queries
):
    client = login(centre.organiser)
    for days in range(3):
        register(make_event(centre.alpha, days=days + 1), "Ana")
    client.get(f"{MANAGE}/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(f"{MANAGE}/")
    for days in range(27):
        register(make_event(centre.alpha, days=days + 5), "Ben")

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"{MANAGE}/")
