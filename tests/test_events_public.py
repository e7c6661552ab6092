"""The public pages at /events/ (no login): the list and its filters, the detail page, the .ics
files; and registration on the spot by reception or a counsellor of the event's site. Registering
through the form is in test_events_public_form.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from citedesmetiers.roles import Role
from events import keys, services
from events.models import Event, Registration
from tests.conftest import make_staff
from tests.events_fixtures import (
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
    statuses,
)

pytestmark = pytest.mark.usefixtures("in_english")


def titles(response) -> list[str]:
    return [event.title for event in response.context["page"]]


# --- the list --------------------------------------------------------------------------------


@pytest.fixture
def programme(centre):
    """Upcoming events at both sites, and some that must never be listed."""
    alpha, beta = centre.alpha, centre.beta
    cv = make_event(alpha, title="CV workshop", starts_in=dt.timedelta(days=1))
    cv.themes.add(alpha.themes.get(letter="E"))
    make_event(
        alpha,
        title="Apprenticeship day",
        kind=Event.Kind.INFORMATION_DAY,
        audience=Event.Audience.YOUNG,
        starts_in=dt.timedelta(days=5),
    ).themes.add(alpha.themes.get(letter="F"))
    make_event(
        beta,
        title="Creators club",
        kind=Event.Kind.CLUB,
        audience=Event.Audience.CREATORS,
        starts_in=dt.timedelta(days=10),
    ).themes.add(beta.themes.get(letter="A"))
    make_event(alpha, title="A draft", status=Event.Status.DRAFT)
    make_event(alpha, title="A cancelled one", status=Event.Status.CANCELLED)
    make_event(alpha, title="Yesterday's", starts_in=-dt.timedelta(days=1))
    return centre


def test_the_list_shows_upcoming_published_events_in_order(programme, client):
    response = client.get(reverse("events:list"))

    assert response.status_code == 200
    assert titles(response) == ["CV workshop", "Apprenticeship day", "Creators club"]


def test_the_list_keeps_an_event_that_is_on_now(centre, client):
    make_event(centre.alpha, title="On now", starts_in=-dt.timedelta(minutes=30), hours=2)

    assert titles(client.get(reverse("events:list"))) == ["On now"]


def test_the_list_hides_the_events_of_an_inactive_site(programme, client):
    programme.beta.active = False
    programme.beta.save(update_fields=["active"])

    assert "Creators club" not in titles(client.get(reverse("events:list")))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"site": "alpha"}, ["CV workshop", "Apprenticeship day"]),
        ({"site": "beta"}, ["Creators club"]),
        ({"kind": "club"}, ["Creators club"]),
        ({"audience": "young"}, ["Apprenticeship day"]),
        ({"site": "alpha", "kind": "workshop"}, ["CV workshop"]),
    ],
)
def test_the_list_filters(programme, client, query, expected):
    assert titles(client.get(reverse("events:list"), query)) == expected


def test_the_list_filters_by_theme(programme, client):
    theme = programme.alpha.themes.get(letter="F")

    response = client.get(reverse("events:list"), {"site": "alpha", "theme": theme.pk})

    assert titles(response) == ["Apprenticeship day"]
    assert f'<option value="{theme.pk}" selected>' in response.content.decode()


def test_the_list_filters_from_a_date(programme, client):
    start = (timezone.localdate() + dt.timedelta(days=4)).isoformat()

    response = client.get(reverse("events:list"), {"from": start})

    assert titles(response) == ["Apprenticeship day", "Creators club"]
    assert f'value="{start}"' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "party"},
        {"audience": "robots"},
        {"theme": "abc"},
        {"theme": "-1"},
        {"from": "tomorrow"},
        {"from": "2026-02-30"},
        {"from": "2026-13-45"},
        {"from": "9" * 50},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "999"},
        {"site": "<script>"},
    ],
    ids=lambda query: "-".join(f"{k}={v[:12]}" for k, v in query.items()),
)
def test_bad_filter_values_are_ignored_never_a_server_error(programme, client, query):
    response = client.get(reverse("events:list"), query)

    assert response.status_code == 200
    if "site" not in query:
        assert titles(response) == ["CV workshop", "Apprenticeship day", "Creators club"]
    else:
        assert "<script>" not in response.content.decode()


def test_an_unknown_theme_lists_nothing(programme, client):
    assert titles(client.get(reverse("events:list"), {"theme": "987654"})) == []


def test_an_unknown_site_offers_no_calendar(programme, client):
    response = client.get(reverse("events:list"), {"site": "gamma"})

    assert response.status_code == 200
    assert "/events/feed/" not in response.content.decode()


def test_the_list_pages_through_many_events(centre, client):
    for day in range(1, 26):
        make_event(centre.alpha, title=f"Session {day:02}", starts_in=dt.timedelta(days=day))

    first = client.get(reverse("events:list"), {"site": "alpha"})
    second = client.get(reverse("events:list"), {"site": "alpha", "page": 2})

    assert len(titles(first)) == 20
    assert titles(second) == [f"Session {day:02}" for day in range(21, 26)]
    assert "site=alpha&amp;page=2" in first.content.decode()


def test_the_list_reads_as_many_queries_for_eleven_events_as_for_one(centre, client):
    make_event(centre.alpha, title="One").themes.add(centre.alpha.themes.get(letter="E"))
    client.get(reverse("events:list"))
    baseline = _count_queries(client)
    for n in range(10):
        more = make_event(centre.beta, title=f"More {n}", starts_in=dt.timedelta(days=4 + n))
        more.themes.add(centre.beta.themes.get(letter="A"))

    assert _count_queries(client) == baseline


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("events:list")).status_code == 200
    return len(queries)


def test_the_list_shows_each_event_at_the_time_of_its_site(centre, client):
    centre.beta.time_zone = "America/Montreal"
    centre.beta.save(update_fields=["time_zone"])
    starts = (timezone.now() + dt.timedelta(days=20)).replace(
        hour=15, minute=0, second=0, microsecond=0, tzinfo=dt.UTC
    )
    make_event(centre.beta, title="In Montreal", starts_at=starts)
    local = starts.astimezone(centre.beta.zone)
    paris = starts.astimezone(centre.alpha.zone)

    page = client.get(reverse("events:list")).content.decode()

    assert f"{local:%H:%M}–" in page
    assert f"{paris:%H:%M}–" not in page


def test_the_list_offers_the_calendar_of_the_chosen_site(programme, client):
    page = client.get(reverse("events:list"), {"site": "alpha"}).content.decode()

    assert reverse("events:feed", args=["alpha"]) in page


# --- the detail page -------------------------------------------------------------------------


def test_the_detail_page_says_how_full_the_event_is_not_how_many_places_are_left(centre, client):
    event = make_event(centre.alpha, capacity=20, place="Room 2")
    register(event, "Nadia")

    response = client.get(reverse("events:detail", args=[event.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Places are available." in page and "places left" not in page
    assert "Room 2" in page
    assert 'name="pseudonym"' in page and 'name="email"' in page
    assert "It is deleted a few days after the event." in page


def test_a_repeated_address_and_a_new_one_leave_the_same_page(centre, client):
    event = make_event(centre.alpha, capacity=20)
    register(event, "Nadia", "nadia@example.org")
    before = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    # Already registered: takes nothing.
    services.register(event_id=event.pk, pseudonym="Someone", email="nadia@example.org")
    again = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    register(event, "Other", "other@example.org")  # new: takes a place
    after = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    def availability(page: str) -> str:
        return re.search(r'id="register-title">.*?</h2>\s*<p>(.*?)</p>', page, re.S).group(1)

    assert availability(before) == availability(again) == availability(after)


def test_the_last_places_are_said_to_be_few(centre, client):
    event = make_event(centre.alpha, capacity=10)
    for n in range(8):
        register(event, f"Visitor {n}")
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Only a few places are left." in page


def test_the_detail_page_of_a_full_event_offers_the_waiting_list(centre, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert "The event is full: you can join the waiting list." in page
    assert "Join the waiting list" in page


def test_the_detail_page_of_an_open_door_event_needs_no_registration(centre, client):
    event = make_event(centre.alpha, capacity=None)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert "No registration needed: just come along." in page
    assert 'name="pseudonym"' not in page


def test_the_detail_page_of_a_started_event_is_closed(centre, client):
    event = make_event(centre.alpha, starts_in=-dt.timedelta(minutes=5))

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert "Registration is closed for this event." in page
    assert 'name="pseudonym"' not in page


def test_the_detail_page_shows_the_time_of_the_event_site(centre, client):
    centre.beta.time_zone = "America/Montreal"
    centre.beta.save(update_fields=["time_zone"])
    starts = (timezone.now() + dt.timedelta(days=20)).replace(
        hour=15, minute=0, second=0, microsecond=0, tzinfo=dt.UTC
    )
    event = make_event(centre.beta, starts_at=starts)
    local = starts.astimezone(centre.beta.zone)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert f"{local:%H:%M}–" in page
    assert local.hour in (10, 11)


def test_the_detail_page_never_names_the_partners_behind_an_event(centre, client):
    # Partners are recorded for the reports, never shown to visitors: the visitor stays anonymous
    # to the institutions, and they to the visitor.
    event = make_event(centre.alpha)
    event.partners.add(centre.partner_a)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert event.title in page
    assert centre.partner_a.name not in page


def test_a_draft_is_not_found(centre, client):
    event = make_event(centre.alpha, status=Event.Status.DRAFT)

    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404
    assert client.get(reverse("events:detail", args=[987654])).status_code == 404


def test_the_page_of_a_cancelled_event_stays_but_takes_no_registration(centre, client):
    # Registrants reach it from their registration page ("About the event"), the .ics and the
    # cancellation e-mail: a 404 there would look like a broken site.
    event = make_event(centre.alpha, status=Event.Status.CANCELLED)

    response = client.get(reverse("events:detail", args=[event.pk]))

    assert response.status_code == 200
    assert 'name="pseudonym"' not in response.content.decode()


# --- calendars -------------------------------------------------------------------------------


def parse_calendar(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_the_ics_of_one_event_parses(centre, client):
    event = make_event(centre.alpha, title="Atelier CV : se présenter", place="Salle 2")

    response = client.get(reverse("events:ics", args=[event.pk]))

    calendar = parse_calendar(response)
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Atelier CV : se présenter"
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTEND") == event.ends_at
    assert str(vevent["LOCATION"]) == "Salle 2"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["URL"]).endswith(reverse("events:detail", args=[event.pk]))
    assert "attachment" in response["Content-Disposition"]


def test_the_ics_of_a_cancelled_event_says_so(centre, client):
    event = make_event(centre.alpha, status=Event.Status.CANCELLED)

    (vevent,) = parse_calendar(client.get(reverse("events:ics", args=[event.pk]))).walk("VEVENT")

    assert str(vevent["STATUS"]) == "CANCELLED"


def test_the_ics_of_a_draft_is_not_found(centre, client):
    event = make_event(centre.alpha, status=Event.Status.DRAFT)

    assert client.get(reverse("events:ics", args=[event.pk])).status_code == 404


def test_the_ics_of_an_event_of_an_inactive_site_is_not_found_like_its_page(programme, client):
    event = Event.objects.get(title="Creators club")
    programme.beta.active = False
    programme.beta.save(update_fields=["active"])

    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404
    assert client.get(reverse("events:ics", args=[event.pk])).status_code == 404
    assert client.get(reverse("events:feed", args=["beta"])).status_code == 404


def test_the_site_feed_lists_the_published_events_of_the_site(programme, client):
    calendar = parse_calendar(client.get(reverse("events:feed", args=["alpha"])))

    events = {str(vevent["SUMMARY"]): vevent for vevent in calendar.walk("VEVENT")}
    assert set(events) == {"CV workshop", "Apprenticeship day", "Yesterday's"}
    workshop = Event.objects.get(title="CV workshop")
    assert events["CV workshop"].decoded("DTSTART") == workshop.starts_at
    assert str(calendar["X-WR-CALNAME"]) == "Site Alpha"


def test_the_feed_of_an_unknown_or_inactive_site_is_not_found(programme, client):
    programme.beta.active = False
    programme.beta.save(update_fields=["active"])

    assert client.get(reverse("events:feed", args=["gamma"])).status_code == 404
    assert client.get(reverse("events:feed", args=["beta"])).status_code == 404


# --- on the spot, by reception or a counsellor -------------------------------------------------


def test_reception_registers_a_visitor_on_the_spot_without_contact(centre, login):
    event = make_event(centre.alpha, capacity=2, confirm_by_email=True)
    client = login(centre.reception)

    form = client.get(reverse("events:on_the_spot", args=[event.pk]))
    response = client.post(reverse("events:on_the_spot", args=[event.pk]), {"pseudonym": "Sami"})

    assert form.status_code == 200
    assert "2 places left." in form.content.decode()
    assert response.status_code == 200
    registration = Registration.objects.get()
    assert registration.source == Registration.Source.ON_THE_SPOT
    assert (registration.pseudonym, registration.email) == ("Sami", "")
    assert registration.status == Registration.Status.CONFIRMED
    page = response.content.decode()
    assert f'<p class="big-code">{registration.code}</p>' in page
    assert "Registered." in page
    assert "<svg" in page  # the QR code to keep the registration on a phone
    # The page holds the registration's secret link: no cache keeps it.
    assert "no-store" in response["Cache-Control"]
    (key,) = registration.keys.all()
    assert key.purpose == keys.MANAGE


def test_on_the_spot_on_a_full_event_goes_to_the_waiting_list(centre, login):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Nadia")
    client = login(centre.counsellor_a)

    response = client.post(reverse("events:on_the_spot", args=[event.pk]), {"pseudonym": "Sami"})

    assert "On the waiting list." in response.content.decode()
    assert statuses(event) == {"confirmed": 1, "waiting": 1}


def test_on_the_spot_for_a_closed_event_says_why(centre, login):
    event = make_event(centre.alpha, starts_in=-dt.timedelta(minutes=5))
    client = login(centre.reception)

    response = client.post(
        reverse("events:on_the_spot", args=[event.pk]), {"pseudonym": "Sami"}, follow=True
    )

    assert "registration is closed" in response.content.decode()
    assert Registration.objects.count() == 0


def test_on_the_spot_lists_the_upcoming_events_of_the_site_only(programme, login):
    client = login(programme.reception)

    page = client.get(reverse("events:on_the_spot_list")).content.decode()

    assert "CV workshop" in page and "Apprenticeship day" in page
    assert "Creators club" not in page
    assert "A draft" not in page and "Yesterday" not in page


def test_reception_of_another_site_cannot_register_on_the_spot(centre, login):
    event = make_event(centre.alpha)
    beta_reception = make_staff("henry@beta.test", Role.RECEPTION, centre.beta)
    client = login(beta_reception)

    assert client.get(reverse("events:on_the_spot", args=[event.pk])).status_code in (403, 404)
    response = client.post(reverse("events:on_the_spot", args=[event.pk]), {"pseudonym": "Sami"})

    assert response.status_code in (403, 404)
    assert Registration.objects.count() == 0


def test_staff_without_the_role_cannot_register_on_the_spot(centre, login):
    event = make_event(centre.alpha)
    client = login(centre.officer)

    response = client.post(reverse("events:on_the_spot", args=[event.pk]), {"pseudonym": "Sami"})

    assert response.status_code == 403
    assert Registration.objects.count() == 0


def test_anonymous_visitors_are_sent_to_the_login_page(centre, client):
    event = make_event(centre.alpha)
    url = reverse("events:on_the_spot", args=[event.pk])

    response = client.post(url, {"pseudonym": "Sami"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Registration.objects.count() == 0
    assert client.get(reverse("events:on_the_spot_list")).status_code == 302
