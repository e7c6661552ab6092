"""The pages that are open all day, or polled every few seconds, make a fixed number of queries
whatever the day holds: the reception tablet, the desk, the waiting-room display, the visitor's
phone, the catalogue search and an event's public page. Each is asked once first (sessions,
grants and marks are cached then, as on any later request), then counted; the data is a busy
morning (visits waiting for every theme, visitors called at several desks, a take-away list of
several documents, an event with registrations), so that a query per row would change the count.

Personas (tests/conftest.py): Alice at reception and Bob, counsellor, at site Alpha."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from citedesmetiers.live import current_mark
from citedesmetiers.roles import Role
from counselling import services as counselling
from reception.models import TakeAwayEvent, TakeAwayItem, Visit
from resources.models import Resource, ResourceOfTheWeek
from resources.search import refresh_terms
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session, queue_visit
from tests.display_fixtures import calls_over
from tests.events_fixtures import make_event, register
from tests.test_resources_search import add_resource, ensure_audiences, ensure_purposes

VISITS_PER_THEME = 4
DOCUMENTS = 6

# Without Redis (the embedded defaults) the sessions are kept in the database and the cache is one
# of its tables: a staff page reads its session and its cached grants there, the event page its
# rate limits. With Redis those reads are no queries.
CACHE_IN_DATABASE = not settings.REDIS_URL


def with_cache(queries: int, *, cache_reads: int) -> int:
    """`queries`, plus the cache's own reads when the cache is a database table."""
    return queries + (cache_reads if CACHE_IN_DATABASE else 0)


@pytest.fixture
def busy(centre):
    """Alpha at mid-morning: three desks open, two of them with a visitor called (Bob's in an
    interview, with documents and an event on the take-away list), visits waiting for each
    theme, and a catalogue and an event to find."""
    alpha = centre.alpha
    purposes, audiences = ensure_purposes(), ensure_audiences()
    documents = [
        add_resource(
            f"Guide des métiers {n}",
            kind=Resource.Kind.BOOK,
            purposes=[purposes["find-a-job"], purposes["learn-about-professions"]],
            audiences=[audiences["everyone"]],
            holdings=[(alpha, f"MET {n}"), (centre.beta, f"B {n}")],
        )
        for n in range(DOCUMENTS)
    ]
    refresh_terms()
    carol = centre.counsellor_b
    dave = make_staff("dave@alpha.test", Role.COUNSELLOR, alpha, centre.partner_a)
    sessions = {
        counsellor: open_session(counsellor, make_desk(alpha, f"Desk {n}", "E", "F", "A", order=n))
        for n, counsellor in enumerate((centre.counsellor_a, carol, dave), start=1)
    }
    for _ in range(VISITS_PER_THEME):
        for letter in ("E", "F", "A"):
            queue_visit(alpha, letter)
    bob = {"session_id": sessions[centre.counsellor_a].pk, "counsellor": centre.counsellor_a}
    in_interview = counselling.call_next(**bob)
    counselling.start_interview(**bob, visit_id=in_interview.pk)
    counselling.call_next(session_id=sessions[carol].pk, counsellor=carol)
    event = make_event(alpha, title="Atelier CV", capacity=20)
    for n in range(5):
        register(event, f"Visitor {n}", f"v{n}@example.org")
    other = make_event(alpha, title="Job dating", capacity=20)
    for document in documents:
        TakeAwayItem.objects.create(visit=in_interview, resource=document)
    for suggested in (event, other):
        TakeAwayEvent.objects.create(visit=in_interview, event=suggested)
    waiting = Visit.objects.filter(site=alpha, status=Visit.Status.WAITING).order_by("-pk").first()
    return {"in_interview": in_interview, "waiting": waiting, "event": event}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="citedesmetiers.auth_backends.ModelBackend")
    return client


def queries(client: Client, path: str, django_assert_num_queries, count: int, **headers) -> None:
    """Ask once (to warm the caches), then count the queries of the second asking."""
    assert client.get(path, headers=headers).status_code == 200
    with django_assert_num_queries(count):
        response = client.get(path, headers=headers)
    assert response.status_code == 200


def test_the_reception_tablet(centre, busy, django_assert_num_queries):
    # The site's opening hours come with the cached sites (citedesmetiers.directory).
    queries(
        logged_in(centre.reception),
        "/reception/",
        django_assert_num_queries,
        with_cache(9, cache_reads=2),
    )


def test_the_desk(centre, busy, django_assert_num_queries):
    queries(
        logged_in(centre.counsellor_a),
        "/desk/",
        django_assert_num_queries,
        # The take-away list is the visitor's page's: documents, their shelf marks here, events.
        with_cache(13, cache_reads=2),
    )


# Carol's call is of the moment: it fills the screen, alone with the line of earlier calls. The
# site and its calls, nothing else (the queues come back after the call's time).
def test_the_waiting_room_display_during_a_call(busy, django_assert_num_queries):
    queries(Client(), "/display/alpha/", django_assert_num_queries, 2)


def test_the_display_poll_after_a_change_during_a_call(busy, django_assert_num_queries):
    queries(Client(), "/display/alpha/live/?v=old", django_assert_num_queries, 2)


@pytest.fixture
def between_calls(busy, centre):
    """The same morning once Carol's call has had its time: the queues, two workshops with
    places tomorrow and a resource of the week are on the screen."""
    alpha = centre.alpha
    tomorrow = dt.datetime.combine(
        alpha.local_date() + dt.timedelta(days=1), dt.time(10), alpha.zone
    )
    for n in range(2):
        workshop = make_event(alpha, title=f"Atelier {n}", starts_at=tomorrow, capacity=20)
        register(workshop, "Sam", f"sam{n}@example.org")
    guide = Resource.objects.filter(holdings__site=alpha).first()
    ResourceOfTheWeek.objects.create(site=alpha, resource=guide)
    calls_over(alpha)
    return busy


# The site, its calls, the queues (7) and the resource of the week. The events with places are
# read once for every screen of the site and kept in the live cache until they may change (a
# minute at most), so the second asking does not read them.
def test_the_waiting_room_display_between_calls(between_calls, django_assert_num_queries):
    queries(Client(), "/display/alpha/", django_assert_num_queries, 10)


def test_the_display_poll_after_a_change_between_calls(between_calls, django_assert_num_queries):
    queries(Client(), "/display/alpha/live/?v=old", django_assert_num_queries, 10)


def test_the_first_asking_between_calls_reads_the_events_once(
    between_calls, django_assert_num_queries
):
    with django_assert_num_queries(11):
        assert Client().get("/display/alpha/").status_code == 200


def test_the_display_poll_when_nothing_changed(busy, django_assert_num_queries):
    mark = current_mark("alpha")
    client = Client()
    client.get("/display/alpha/live/?v=old")
    with django_assert_num_queries(0):
        assert client.get(f"/display/alpha/live/?v={mark}").status_code == 204


# In an interview: the visit, its take-away documents and events. Waiting: its queue's position
# and wait estimate too.
PHONE = [("in_interview", 8), ("waiting", 14)]


@pytest.mark.parametrize(("who", "count"), PHONE)
def test_the_visitors_phone(busy, who, count, django_assert_num_queries):
    queries(Client(), f"/t/{busy[who].token}/", django_assert_num_queries, count)


@pytest.mark.parametrize(("who", "count"), PHONE)
def test_the_visitors_phone_poll_after_a_change(busy, who, count, django_assert_num_queries):
    path = f"/t/{busy[who].token}/live/?s=alpha&v=old"
    queries(Client(), path, django_assert_num_queries, count)


def test_the_catalogue_search(busy, django_assert_num_queries):
    # The search branches on the database: PostgreSQL matches, ranks, pages and counts the facets
    # in one statement; SQLite matches in one, ranks in Python, and counts each facet on its own.
    count = 9 if connection.vendor == "postgresql" else 12
    queries(Client(), "/catalogue/?q=guide+métiers", django_assert_num_queries, count)


def test_an_events_public_page(busy, django_assert_num_queries):
    # The rate limits of the registration form are read to show it (or say it is paused).
    path = f"/events/{busy['event'].pk}/"
    queries(Client(), path, django_assert_num_queries, with_cache(4, cache_reads=1))


# The desk's two steps while people wait, each a write: the statements counted, BEGIN and COMMIT
# included (a savepoint and its release here, inside the test's transaction).
def desk_step(client: Client, path: str, data: dict, django_assert_num_queries, count: int):
    client.get("/desk/")  # the session and the grants cached, as on the desk's page
    with django_assert_num_queries(count):
        response = client.post(path, data)
    assert response.status_code == 302 and "#visit-" in response["Location"]


def test_starting_the_interview(centre, busy, django_assert_num_queries):
    carol = centre.counsellor_b
    called = Visit.objects.get(desk__sessions__counsellor=carol, status=Visit.Status.CALLED)
    # The counsellor's open desk at the site, locked (the view reads nothing first), one
    # conditional UPDATE that starts the visitor the page showed (or finds the page stale), and
    # the interview's INSERT.
    desk_step(
        logged_in(carol),
        "/desk/start/",
        {"visit": called.pk},
        django_assert_num_queries,
        with_cache(5, cache_reads=2),
    )
    called.refresh_from_db()
    assert called.status == Visit.Status.IN_INTERVIEW


def test_finishing_and_calling_the_next(centre, busy, django_assert_num_queries):
    bob = centre.counsellor_a
    seen = busy["in_interview"]
    desk_step(
        logged_in(bob),
        "/desk/finish/",
        {"visit": seen.pk, "channel": "in_person", "outcomes": "information", "then": "call_next"},
        django_assert_num_queries,
        # The answers read without a query; the desk locked, its visitor done and the interview
        # ended (each a compare-and-set), the outcome, the due appointments, the desk's themes,
        # the queue's head called (locked and updated in one statement), its call.
        with_cache(10, cache_reads=2),
    )
    seen.refresh_from_db()
    assert seen.status == Visit.Status.DONE
