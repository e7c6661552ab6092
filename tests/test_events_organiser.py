"""The organisers' side of events: who may open what, the event form, capacity and the waiting
list, publishing and cancelling (with e-mails), the door (attendance and walk-ins), the no-show
rate, the exports, and what is left to see once contact data is purged.

Personas (tests/conftest.py): Erin organises events at Alpha; Frank manages Alpha; Grace manages
Beta only; Alice (reception), Bob (counsellor) and Dan (information officer) have other jobs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, resolve
from django.utils import timezone
from icalendar import Calendar

from citedesmetiers.models import OutboxMessage, User
from events import services
from events.models import Event, Registration, Series
from events.recurrence import Frequency, Recurrence
from events.services import create_series
from tests.conftest import Centre
from tests.events_fixtures import already_sent

PARIS = ZoneInfo("Europe/Paris")
MANAGE = "/events/manage"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def make_event(site, *, days: float = 7, capacity: int | None = 10, **extra) -> Event:
    starts_at = timezone.now() + dt.timedelta(days=days)
    extra.setdefault("status", Event.Status.PUBLISHED)
    return Event.objects.create(
        site=site,
        title=extra.pop("title", "CV workshop"),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        capacity=capacity,
        **extra,
    )


def register(event: Event, name: str, email: str = "", **extra) -> Registration:
    registration, _created = services.register(
        event_id=event.pk, pseudonym=name, email=email, **extra
    )
    already_sent()  # the setup's own e-mails are not what these tests look at
    return registration


def move_to_the_past(event: Event, days: int = 3) -> Event:
    starts_at = timezone.now() - dt.timedelta(days=days)
    Event.objects.filter(pk=event.pk).update(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
    )
    event.refresh_from_db()
    return event


@pytest.fixture
def eager_celery():
    """Run tasks in the test process; e-mails then land in `mailoutbox` once committed."""
    from citedesmetiers.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


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


def _alpha_registration(c: Centre) -> tuple[Event, Registration]:
    event = make_event(c.alpha)
    return event, register(event, "Ana")


def _alpha_series(c: Centre) -> Series:
    return create_series(
        site=c.alpha,
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekday=1),
        first=dt.date.today() + dt.timedelta(days=7),
        last=dt.date.today() + dt.timedelta(days=30),
        at=dt.time(10),
        duration=dt.timedelta(hours=1),
        details={"title": "Job club", "capacity": 8},
    )


# Each row: an address (built from the personas on demand), the method, POST data, answers.
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
        lambda c: "{}/{}/door/{}/".format(MANAGE, *(x.pk for x in _alpha_registration(c))),
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
        lambda c: f"{MANAGE}/series/{_alpha_series(c).pk}/",
        {},
        organisers(200, 404),
    ),
    (
        "POST series_publish",
        lambda c: f"{MANAGE}/series/{_alpha_series(c).pk}/publish/",
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
    event, registration = _alpha_registration(centre)
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


# --- create and edit ------------------------------------------------------------------------------


def _event_post(centre: Centre, **changes) -> dict:
    data = {
        "title": "Write a cover letter",
        "kind": Event.Kind.WORKSHOP,
        "themes": [centre.alpha.themes.get(letter="E").pk],
        "description": "Bring a job ad.",
        "partners": [centre.partner_a.pk],
        "starts_at": "2030-05-06T10:00",
        "ends_at": "2030-05-06T12:00",
        "place": "Room 2",
        "online_url": "",
        "capacity": "12",
        "audience": Event.Audience.JOB_SEEKERS,
        "reminder_days": "2",
    }
    data.update(changes)
    return data


def test_an_organiser_creates_a_draft_in_the_sites_local_time(centre, login):
    centre.alpha.time_zone = "Indian/Reunion"  # UTC+4, no daylight saving
    centre.alpha.save()

    response = login(centre.organiser).post(f"{MANAGE}/new/", _event_post(centre))

    event = Event.objects.get()
    assert response.status_code == 302
    assert response.url == f"{MANAGE}/{event.pk}/"
    assert (event.site, event.status) == (centre.alpha, Event.Status.DRAFT)
    assert event.starts_at == dt.datetime(2030, 5, 6, 6, 0, tzinfo=dt.UTC)
    assert event.ends_at == dt.datetime(2030, 5, 6, 8, 0, tzinfo=dt.UTC)
    assert list(event.themes.all()) == [centre.alpha.themes.get(letter="E")]
    assert list(event.partners.all()) == [centre.partner_a]
    assert (event.capacity, event.audience) == (12, Event.Audience.JOB_SEEKERS)

    form = login(centre.organiser).get(f"{MANAGE}/{event.pk}/edit/")
    assert 'value="2030-05-06T10:00"' in form.content.decode()


def test_an_empty_capacity_makes_an_open_door_event(centre, login):
    login(centre.organiser).post(f"{MANAGE}/new/", _event_post(centre, capacity=""))

    assert Event.objects.get().capacity is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2030-05-06T09:00"}, "ends_at"),
        ({"ends_at": "2030-05-06T10:00"}, "ends_at"),
        ({"starts_at": "not a date"}, "starts_at"),
        ({"title": ""}, "title"),
        ({"capacity": "0"}, "capacity"),
        ({"reminder_days": "90"}, "reminder_days"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        # A time that does not exist in Paris: clocks go from 02:00 to 03:00.
        ({"starts_at": "2030-03-31T02:30"}, "starts_at"),
    ],
)
def test_the_event_form_refuses_bad_input(centre, login, changes, field):
    response = login(centre.organiser).post(
        f"{MANAGE}/new/", _event_post(centre, **changes), **ENGLISH
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Event.objects.exists()
    # Said at the top too: on a phone the field may be far below.
    assert "Some fields need attention" in response.content.decode()


def test_each_error_is_tied_to_its_field_for_screen_readers(centre, login):
    beta_theme = centre.beta.themes.first()
    response = login(centre.organiser).post(
        f"{MANAGE}/new/", _event_post(centre, capacity="0", themes=[beta_theme.pk]), **ENGLISH
    )

    html = response.content.decode()
    (capacity,) = [tag for tag in re.findall(r"<input[^>]*>", html) if 'id="id_capacity"' in tag]
    fieldset = re.search(r'<fieldset[^>]*aria-describedby="([^"]+)"[^>]*>\s*<legend>Themes', html)
    assert "id_capacity_error" in re.search(r'aria-describedby="([^"]+)"', capacity).group(1)
    assert 'id="id_capacity_error"' in html
    # A group of boxes is a fieldset: it points at the group's error itself.
    assert "id_themes_error" in fieldset.group(1).split()
    assert 'id="id_themes_error"' in html


def test_the_event_form_offers_only_the_sites_themes(centre, login):
    beta_theme = centre.beta.themes.first()

    client = login(centre.organiser)
    offered = client.get(f"{MANAGE}/new/").context["form"].fields["themes"].queryset
    response = client.post(f"{MANAGE}/new/", _event_post(centre, themes=[beta_theme.pk]))

    assert set(offered) == set(centre.alpha.themes.all())
    assert "themes" in response.context["form"].errors
    assert not Event.objects.exists()


def test_editing_keeps_status_and_walk_ins(centre, login):
    event = make_event(centre.alpha, walk_ins=4)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/edit/", _event_post(centre, title="New title")
    )

    event.refresh_from_db()
    assert response.status_code == 302
    assert (event.title, event.status, event.walk_ins) == ("New title", "published", 4)


def test_more_places_promote_the_waiting_list_and_tell_them(
    centre, login, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha, capacity=2)
    people = [
        register(event, name, f"{name.lower()}@example.org") for name in ("Ana", "Ben", "Cleo")
    ]
    register(event, "Dan")  # no e-mail: promoted too, but cannot be told
    register(event, "Eve", "eve@example.org")
    assert [p.status for p in people] == ["confirmed", "confirmed", "waiting"]
    data = _unchanged_post(centre, event, capacity="4")

    with django_capture_on_commit_callbacks(execute=True):
        response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data, **ENGLISH)

    assert response.status_code == 302
    statuses = dict(event.registrations.values_list("pseudonym", "status"))
    assert statuses == {
        "Ana": "confirmed",
        "Ben": "confirmed",
        "Cleo": "confirmed",
        "Dan": "confirmed",
        "Eve": "waiting",
    }
    assert [m.to for m in mailoutbox] == [["cleo@example.org"]]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "2 people moved from the waiting list to a place." in messages


def test_fewer_places_take_no_place_away(centre, login):
    event = make_event(centre.alpha, capacity=3)
    for name in ("Ana", "Ben", "Cleo"):
        register(event, name)
    data = _event_post(centre, capacity="1")

    response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data, **ENGLISH)

    event.refresh_from_db()
    assert event.capacity == 1
    assert event.registrations.filter(status="confirmed").count() == 3
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("nobody loses theirs" in m for m in messages)


# --- publish, cancel ------------------------------------------------------------------------------


def _unchanged_post(centre: Centre, event: Event, **changes) -> dict:
    """The edit form of `event` at its own date and time (to the minute, as the form shows it)."""
    local_start = event.starts_at.astimezone(PARIS)
    data = _event_post(
        centre,
        starts_at=local_start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(local_start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        place=event.place,
        capacity=str(event.capacity),
    )
    data.update(changes)
    return data


def test_a_new_date_is_told_to_everyone_registered_with_an_address(
    centre, login, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha, capacity=2, place="Room 2")
    register(event, "Ana", "ana@example.org")
    register(event, "Ben")  # no address: cannot be told
    register(event, "Cleo", "cleo@example.org")  # waiting list: told too
    register(event, "Dan", "dan@example.org")
    gone = register(event, "Eve", "eve@example.org")
    services.cancel_registration(registration_id=gone.pk)
    already_sent()
    mailoutbox.clear()
    new_start = (
        (event.starts_at + dt.timedelta(days=1)).astimezone(PARIS).replace(second=0, microsecond=0)
    )
    data = _unchanged_post(
        centre,
        event,
        starts_at=new_start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(new_start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data, **ENGLISH)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.starts_at, event.sequence) == (new_start, 1)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "ana@example.org",
        "cleo@example.org",
        "dan@example.org",
    ]
    for message in mailoutbox:
        # In the language they registered in (French here), not the organiser's.
        assert message.subject == "Nouvelle date ou nouveau lieu : Write a cover letter"
        if message.to != ["ana@example.org"]:
            assert message.attachments == []  # no place held: nothing for the calendar
            continue
        ((_name, content, _type),) = message.attachments
        calendar = Calendar.from_ical(content)
        (vevent,) = calendar.walk("VEVENT")
        assert calendar["METHOD"] == "PUBLISH"
        assert vevent.decoded("DTSTART") == new_start
        assert vevent["SEQUENCE"] == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "3 people registered were told of the new date or place by e-mail." in messages


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Write a better cover letter", "description": "Bring two job ads."},
        {"capacity": "3"},
        {},  # saved again as it is: the stored seconds are not a new time
    ],
)
def test_other_changes_tell_nobody(
    centre, login, eager_celery, mailoutbox, django_capture_on_commit_callbacks, changes
):
    event = make_event(centre.alpha, capacity=2, place="Room 2")
    register(event, "Ana", "ana@example.org")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = login(centre.organiser).post(
            f"{MANAGE}/{event.pk}/edit/", _unchanged_post(centre, event, **changes), **ENGLISH
        )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.sequence == 0
    assert mailoutbox == []


@pytest.mark.parametrize("status", [Event.Status.DRAFT, Event.Status.CANCELLED])
def test_a_new_place_for_an_event_not_published_tells_nobody(
    centre, eager_celery, mailoutbox, django_capture_on_commit_callbacks, status
):
    event = make_event(centre.alpha, place="Room 2")
    register(event, "Ana", "ana@example.org")
    Event.objects.filter(pk=event.pk).update(status=status)
    before = services.when_and_where(event)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        Event.objects.filter(pk=event.pk).update(place="Room 9")
        told = services.tell_of_changes(event_id=event.pk, before=before)

    assert told == 0
    assert mailoutbox == []


def test_a_later_date_lets_the_reminder_go_again_before_it(centre):
    event = make_event(centre.alpha, days=1.5)  # inside the two reminder days
    # Registered a week before (now the place's e-mail would be the reminder itself).
    ana = register(event, "Ana", "ana@example.org", now=timezone.now() - dt.timedelta(days=7))
    assert services.send_reminders() == 1
    before = services.when_and_where(event)
    later = event.starts_at + dt.timedelta(days=7)
    Event.objects.filter(pk=event.pk).update(starts_at=later, ends_at=later + dt.timedelta(hours=2))

    services.tell_of_changes(event_id=event.pk, before=before)

    ana.refresh_from_db()
    assert ana.reminder_sent_at is None
    assert services.send_reminders() == 0  # a week ahead: not yet
    assert services.send_reminders(now=later - dt.timedelta(days=1)) == 1


def test_a_date_moved_into_the_reminder_days_is_reminded_by_the_change(centre):
    event = make_event(centre.alpha, days=10)
    ana = register(event, "Ana", "ana@example.org")
    ben = register(event, "Ben")
    assert services.send_reminders() == 0
    before = services.when_and_where(event)
    sooner = timezone.now() + dt.timedelta(days=1)
    Event.objects.filter(pk=event.pk).update(
        starts_at=sooner, ends_at=sooner + dt.timedelta(hours=2)
    )

    services.tell_of_changes(event_id=event.pk, before=before)

    ana.refresh_from_db()
    ben.refresh_from_db()
    assert ana.reminder_sent_at is not None  # the e-mail about the change is her reminder
    assert ben.reminder_sent_at is None  # no address: nothing was sent
    assert services.send_reminders() == 0


def test_a_date_moved_inside_the_reminder_days_sends_no_second_reminder(centre):
    event = make_event(centre.alpha, days=1.5)
    # Registered a week before (now the place's e-mail would be the reminder itself).
    ana = register(event, "Ana", "ana@example.org", now=timezone.now() - dt.timedelta(days=7))
    assert services.send_reminders() == 1
    before = services.when_and_where(event)
    sooner = event.starts_at - dt.timedelta(hours=3)
    Event.objects.filter(pk=event.pk).update(
        starts_at=sooner, ends_at=sooner + dt.timedelta(hours=2)
    )

    services.tell_of_changes(event_id=event.pk, before=before)

    ana.refresh_from_db()
    assert ana.reminder_sent_at is not None  # the e-mail about the change reminds them
    assert services.send_reminders() == 0


def test_publishing_a_draft(centre, login):
    event = make_event(centre.alpha, status=Event.Status.DRAFT)

    response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/publish/")

    event.refresh_from_db()
    assert response.url == f"{MANAGE}/{event.pk}/"
    assert event.status == Event.Status.PUBLISHED


def test_a_cancelled_event_is_not_published_again(centre, login):
    event = make_event(centre.alpha, status=Event.Status.CANCELLED)

    response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/publish/", **ENGLISH)

    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["A cancelled event cannot be published again."]


def test_publishing_needs_a_post(centre, login):
    event = make_event(centre.alpha, status=Event.Status.DRAFT)

    assert login(centre.organiser).get(f"{MANAGE}/{event.pk}/publish/").status_code == 405


def test_cancelling_asks_first_then_tells_everyone_with_an_e_mail(
    centre, login, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha, capacity=2)
    register(event, "Ana", "ana@example.org")
    register(event, "Ben")
    register(event, "Cleo", "cleo@example.org")
    register(event, "Dan", "dan@example.org")  # waiting list: told too
    gone = register(make_event(centre.alpha, title="Other"), "Eve", "eve@example.org")
    client = login(centre.organiser)

    question = client.get(f"{MANAGE}/{event.pk}/cancel/", **ENGLISH)

    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert (question.context["with_email"], question.context["without_email"]) == (3, 1)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{MANAGE}/{event.pk}/cancel/", **ENGLISH)

    event.refresh_from_db()
    assert (event.status, event.sequence) == (Event.Status.CANCELLED, 1)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "ana@example.org",
        "cleo@example.org",
        "dan@example.org",
    ]
    # Those who held a place get the entry that takes it out of their calendar.
    calendars = {
        m.to[0]: Calendar.from_ical(content).walk("VEVENT")[0]
        for m in mailoutbox
        for _name, content, _type in m.attachments
    }
    assert sorted(calendars) == ["ana@example.org"]  # Cleo and Dan were waiting
    assert {(str(v["STATUS"]), v["SEQUENCE"]) for v in calendars.values()} == {("CANCELLED", 1)}
    assert gone.email not in {m.to[0] for m in mailoutbox}
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["The event is cancelled. 3 people were told by e-mail."]


def test_cancelling_twice_tells_nobody_twice(
    centre, login, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha)
    register(event, "Ana", "ana@example.org")
    client = login(centre.organiser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{MANAGE}/{event.pk}/cancel/")
        client.post(f"{MANAGE}/{event.pk}/cancel/")

    assert len(mailoutbox) == 1


# --- the door -------------------------------------------------------------------------------------


def test_marking_present_twice_is_the_same_as_once(centre, login):
    event, registration = _alpha_registration(centre)
    client = login(centre.organiser)
    url = f"{MANAGE}/{event.pk}/door/{registration.pk}/"

    client.post(url, {"attended": "yes"})
    response = client.post(url, {"attended": "yes"})

    registration.refresh_from_db()
    assert registration.attended is True
    assert response.url == f"{MANAGE}/{event.pk}/door/#r-{registration.pk}"

    client.post(url, {"attended": "no"})
    client.post(url, {"attended": "no"})
    registration.refresh_from_db()
    assert registration.attended is False

    client.post(url, {"attended": "unknown"})
    registration.refresh_from_db()
    assert registration.attended is None


def test_a_tap_with_htmx_answers_the_row_and_the_counter(centre, login):
    event, registration = _alpha_registration(centre)
    register(event, "Ben")

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/",
        {"attended": "yes", "q": "an"},
        HTTP_HX_REQUEST="true",
        **ENGLISH,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="r-{registration.pk}"')
    assert 'value="yes" class="door-present" aria-pressed="true"' in html
    assert 'hx-swap-oob="true"' in html
    assert "<strong>1</strong> of 2 registered are here" in html
    assert 'name="q" value="an"' in html


def test_the_search_keeps_the_name_after_a_tap_without_javascript(centre, login):
    event, registration = _alpha_registration(centre)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/", {"attended": "yes", "q": "An a"}
    )

    assert response.url == f"{MANAGE}/{event.pk}/door/?q=An+a#r-{registration.pk}"


@pytest.mark.parametrize("value", ["", "maybe", "toggle"])
def test_attendance_needs_an_explicit_answer(centre, login, value):
    event, registration = _alpha_registration(centre)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/", {"attended": value}
    )

    registration.refresh_from_db()
    assert response.status_code == 400
    assert registration.attended is None


def test_someone_on_the_waiting_list_cannot_be_marked_present(centre, login):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Ana")
    waiting = register(event, "Ben")

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{waiting.pk}/", {"attended": "yes"}, **ENGLISH
    )

    waiting.refresh_from_db()
    assert response.status_code == 302
    assert waiting.attended is None
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Only registered people can be marked present."]


def test_the_door_lists_confirmed_people_by_name_and_finds_them(centre, login):
    event = make_event(centre.alpha, capacity=3)
    for name in ("Zoé", "ana", "Bruno"):
        register(event, name)
    waiting = register(event, "Waiting Walter")
    client = login(centre.organiser)

    everyone = client.get(f"{MANAGE}/{event.pk}/door/")
    found = client.get(f"{MANAGE}/{event.pk}/door/", {"q": "BRU"})
    without_accent = client.get(f"{MANAGE}/{event.pk}/door/", {"q": "zoe"})
    by_code = client.get(
        f"{MANAGE}/{event.pk}/door/",
        {"q": event.registrations.get(pseudonym="Zoé").code.lower()},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="door-rows",
    )

    assert [r.pseudonym for r in everyone.context["rows"]] == ["ana", "Bruno", "Zoé"]
    assert waiting.pseudonym not in everyone.content.decode()
    assert [r.pseudonym for r in found.context["rows"]] == ["Bruno"]
    assert [r.pseudonym for r in without_accent.context["rows"]] == ["Zoé"]
    html = by_code.content.decode()
    assert html.lstrip().startswith('<ul id="door-rows"')
    assert "Zoé" in html and "Bruno" not in html and "<header" not in html


def test_walk_ins_count_up_and_down_but_never_below_zero(centre, login):
    event = make_event(centre.alpha)
    client = login(centre.organiser)
    url = f"{MANAGE}/{event.pk}/walk-ins/"

    client.post(url, {"delta": "-1"})
    event.refresh_from_db()
    assert event.walk_ins == 0

    client.post(url, {"delta": "1"})
    client.post(url, {"delta": "1"})
    client.post(url, {"delta": "-1"})
    event.refresh_from_db()
    assert event.walk_ins == 1

    for bad in ("5", "-100", "", "one"):
        assert client.post(url, {"delta": bad}).status_code == 400
    event.refresh_from_db()
    assert event.walk_ins == 1


def test_walk_ins_with_htmx_answer_the_counter(centre, login):
    event = make_event(centre.alpha)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/walk-ins/", {"delta": "1"}, HTTP_HX_REQUEST="true", **ENGLISH
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="door-counter"')
    assert '<output class="walk-in-count" aria-labelledby="walk-ins-label">1</output>' in html


# --- registrants: print, export, purge ------------------------------------------------------------

NASTY = ['=HYPERLINK("http://evil")', "+33 6 12", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _event_with_registrants(centre: Centre) -> Event:
    event = make_event(centre.alpha, capacity=2)
    register(event, "Ana", "ana@example.org")
    register(event, "=cmd|' /C calc'!A0", "=evil@example.org")
    register(event, "Cleo")  # waiting list
    services.cancel_registration(registration_id=register(event, "Gone").pk)
    for pseudonym in NASTY:  # as a careless import or an old version could have stored them
        Registration.objects.create(
            event=event, status=Registration.Status.WAITING, pseudonym=pseudonym
        )
    services.set_attendance(
        registration_id=event.registrations.get(pseudonym="Ana").pk, attended=True
    )
    return event


def test_the_registrants_page_lists_places_then_the_waiting_list(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants/")

    names = [r.pseudonym for r in response.context["registrations"]]
    assert names[:3] == ["Ana", "=cmd|' /C calc'!A0", "Cleo"]
    assert "Gone" not in names
    html = response.content.decode()
    assert "ana@example.org" in html and 'class="printable"' in html
    assert "data-print" in html and "js/print" in html  # a Print button, wired by print.js


def test_the_csv_export_neutralises_formulas(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.csv", **ENGLISH)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="registrants-')
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Pseudonym", "E-mail", "Status", "Registered at", "Code", "Attended"]
    ana = event.registrations.get(pseudonym="Ana")
    local = ana.created_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
    assert rows[1] == ["Ana", "ana@example.org", "registered", local, ana.code, "yes"]
    assert rows[2][:2] == ["'=cmd|' /C calc'!A0", "'=evil@example.org"]
    assert rows[3][0] == "Cleo" and rows[3][2] == "on the waiting list" and rows[3][5] == ""
    assert [row[0] for row in rows[4:]] == ["'" + value for value in NASTY]
    assert len(rows) == 1 + 3 + len(NASTY)  # the cancelled registration is left out
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_xlsx_export_holds_text_not_formulas(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.xlsx", **ENGLISH)

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows()]
    assert [c.value for c in rows[0]] == [
        "Pseudonym",
        "E-mail",
        "Status",
        "Registered at",
        "Code",
        "Attended",
    ]
    assert rows[1][0].value == "Ana" and rows[1][5].value == "yes"
    assert rows[2][0].value == "'=cmd|' /C calc'!A0"
    for row in rows[1:]:
        for cell in row:
            assert cell.data_type != "f"
            assert not str(cell.value or "").startswith(("=", "+", "-", "@", "\t", "\r"))


def test_after_the_purge_only_counts_remain(centre, login):
    event = _event_with_registrants(centre)
    codes = list(event.registrations.values_list("code", flat=True))
    move_to_the_past(event, days=10)
    services.purge_contacts(days=7)
    event.refresh_from_db()
    assert event.contacts_purged_at is not None
    client = login(centre.organiser)

    page = client.get(f"{MANAGE}/{event.pk}/registrants/", **ENGLISH)
    export = client.get(f"{MANAGE}/{event.pk}/registrants.csv")

    html = page.content.decode()
    assert "Contact data of this event was erased" in html
    assert page.context["registrations"] == []
    for leaked in ("Ana", "ana@example.org", "Cleo", "evil", *codes):
        assert leaked not in html
    assert page.context["event"].n_confirmed == 2 and page.context["event"].n_attended == 1
    assert export.status_code == 302
    assert export.url == f"{MANAGE}/{event.pk}/registrants/"


# --- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.org", password="x")


def test_the_admin_shows_registrations_read_only(centre, superuser, client):
    event = make_event(centre.alpha)
    register(event, "Ana", "ana@example.org")
    _alpha_series(centre)
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser, backend="citedesmetiers.auth_backends.ModelBackend")

    listing = client.get("/admin/events/event/")
    page = client.get(f"/admin/events/event/{event.pk}/change/")
    series_listing = client.get("/admin/events/series/")

    assert listing.status_code == page.status_code == series_listing.status_code == 200
    html = page.content.decode()
    assert "ana@example.org" in html
    assert 'name="registrations-0-email"' not in html
    assert 'name="registrations-0-pseudonym"' not in html


def _admin_change(client, event: Event, **changes) -> dict:
    """The admin's change form of `event` as it stands, with `changes`, ready to post."""
    form = client.get(f"/admin/events/event/{event.pk}/change/").context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("themes", "partners", "starts_at", "ends_at")
    }
    registrations = list(event.registrations.order_by("pk").values_list("pk", flat=True))
    local = event.starts_at.astimezone(PARIS)
    data.update(
        starts_at_0=local.strftime("%Y-%m-%d"),
        starts_at_1=local.strftime("%H:%M:%S"),
        ends_at_0=(local + dt.timedelta(hours=2)).strftime("%Y-%m-%d"),
        ends_at_1=(local + dt.timedelta(hours=2)).strftime("%H:%M:%S"),
        site=event.site_id,
        **{
            "registrations-TOTAL_FORMS": str(len(registrations)),
            "registrations-INITIAL_FORMS": str(len(registrations)),
            "registrations-MIN_NUM_FORMS": "0",
            "registrations-MAX_NUM_FORMS": "1000",
        },
    )
    for n, pk in enumerate(registrations):
        data[f"registrations-{n}-id"] = str(pk)
        data[f"registrations-{n}-event"] = str(event.pk)
    data.update(changes)
    return data


def _admin(client, superuser):
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser, backend="citedesmetiers.auth_backends.ModelBackend")
    return client


def test_more_places_in_the_admin_promote_the_waiting_list_too(centre, superuser, client):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Ana")
    waiting = register(event, "Ben")
    client = _admin(client, superuser)

    response = client.post(
        f"/admin/events/event/{event.pk}/change/", _admin_change(client, event, capacity="2")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert event.capacity == 2
    assert waiting.status == Registration.Status.CONFIRMED
    assert event.sequence == 0  # same date, same place


def test_a_new_room_set_in_the_admin_is_told_too(
    centre, superuser, client, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(centre.alpha, place="Room 1")
    register(event, "Ana", "ana@example.org")
    client = _admin(client, superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/events/event/{event.pk}/change/",
            _admin_change(client, event, place="Room 5, 2nd floor"),
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert (event.place, event.sequence) == ("Room 5, 2nd floor", 1)
    (message,) = mailoutbox
    assert message.to == ["ana@example.org"]
    assert "Room 5, 2nd floor" in message.body


def test_an_export_of_registrants_is_written_to_the_audit_log(centre, login):
    from citedesmetiers.models import AuditEntry

    event = _event_with_registrants(centre)
    login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.xlsx", **ENGLISH)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.site) == (centre.organiser, "export", centre.alpha)
    assert entry.subject == f"registrants: {event.title}"
    assert "xlsx" in entry.detail


def _queued(event: Event) -> list[tuple[str, str]]:
    """The e-mails queued (not yet sent) for `event`'s registrants: (kind, pseudonym)."""
    names = dict(event.registrations.values_list("pk", "pseudonym"))
    return sorted(
        (message.payload["kind"], names[message.payload["registration"]])
        for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        if message.payload.get("registration") in names
    )


def _effects(event: Event, moved_to: dt.datetime) -> tuple:
    event.refresh_from_db()
    people = sorted(
        (r.pseudonym, r.status, r.reminder_sent_at is None) for r in event.registrations.all()
    )
    return event.sequence, event.capacity, event.starts_at == moved_to, people, _queued(event)


def test_the_admin_saves_an_event_with_the_same_effects_as_the_organisers_screen(
    centre, superuser, client, login
):
    """Both go through services.update_event: a place more and a day later promote the one
    waiting, and tell everyone with an address, the same way."""
    effects = []
    for via_admin in (False, True):
        event = make_event(centre.alpha, days=1.5, capacity=1, place="Room 2", reminder_days=2)
        register(event, "Ana", "ana@example.org")
        register(event, "Ben", "ben@example.org")  # waiting
        later = (event.starts_at + dt.timedelta(days=1)).astimezone(PARIS)
        later = later.replace(second=0, microsecond=0)
        if via_admin:
            admin = _admin(client, superuser)
            data = _admin_change(
                admin,
                event,
                capacity="2",
                starts_at_0=later.strftime("%Y-%m-%d"),
                starts_at_1=later.strftime("%H:%M:%S"),
                ends_at_0=(later + dt.timedelta(hours=2)).strftime("%Y-%m-%d"),
                ends_at_1=(later + dt.timedelta(hours=2)).strftime("%H:%M:%S"),
            )
            response = admin.post(f"/admin/events/event/{event.pk}/change/", data)
        else:
            data = _unchanged_post(
                centre,
                event,
                capacity="2",
                starts_at=later.strftime("%Y-%m-%dT%H:%M"),
                ends_at=(later + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            )
            response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data)
        assert response.status_code == 302
        effects.append(_effects(event, later))

    organiser, admin = effects
    assert admin == organiser
    sequence, capacity, moved, people, queued = organiser
    assert (sequence, capacity, moved) == (1, 2, True)
    assert [status for _name, status, _none in people] == ["confirmed", "confirmed"]
    assert queued == [("event_changed", "Ana"), ("event_changed", "Ben"), ("promoted", "Ben")]


def test_the_admin_adds_an_event_as_a_draft_through_the_services(centre, superuser, client):
    admin = _admin(client, superuser)
    form = admin.get("/admin/events/event/add/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        site=centre.alpha.pk,
        title="Mock interviews",
        kind=Event.Kind.WORKSHOP,
        audience=Event.Audience.EVERYONE,
        starts_at_0="2030-05-06",
        starts_at_1="10:00:00",
        ends_at_0="2030-05-06",
        ends_at_1="12:00:00",
        capacity="8",
        reminder_days="2",
        themes=[centre.alpha.themes.get(letter="E").pk],
        **{
            "registrations-TOTAL_FORMS": "0",
            "registrations-INITIAL_FORMS": "0",
            "registrations-MIN_NUM_FORMS": "0",
            "registrations-MAX_NUM_FORMS": "1000",
        },
    )

    response = admin.post("/admin/events/event/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(title="Mock interviews")
    assert (event.site, event.status, event.capacity) == (centre.alpha, "draft", 8)
    assert list(event.themes.values_list("letter", flat=True)) == ["E"]
