"""The organisers' event form: create and edit, capacity and the waiting list, a new date or place
told to those registered (with the calendar entry), publishing and cancelling (with e-mails)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.models import Event
from tests.events_fixtures import (
    already_sent,
    fixture_eager_celery,  # noqa: F401 (a fixture)
)
from tests.events_organiser_fixtures import (
    ENGLISH,
    MANAGE,
    PARIS,
    event_post,
    make_event,
    register,
    unchanged_post,
)

# --- create and edit ------------------------------------------------------------------------------


def test_an_organiser_creates_a_draft_in_the_sites_local_time(centre, login):
    centre.alpha.time_zone = "Indian/Reunion"  # UTC+4, no daylight saving
    centre.alpha.save()

    response = login(centre.organiser).post(f"{MANAGE}/new/", event_post(centre))

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
    login(centre.organiser).post(f"{MANAGE}/new/", event_post(centre, capacity=""))

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
        f"{MANAGE}/new/", event_post(centre, **changes), **ENGLISH
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Event.objects.exists()
    # Said at the top too: on a phone the field may be far below.
    assert "Some fields need attention" in response.content.decode()


def test_each_error_is_tied_to_its_field_for_screen_readers(centre, login):
    beta_theme = centre.beta.themes.first()
    response = login(centre.organiser).post(
        f"{MANAGE}/new/", event_post(centre, capacity="0", themes=[beta_theme.pk]), **ENGLISH
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
    response = client.post(f"{MANAGE}/new/", event_post(centre, themes=[beta_theme.pk]))

    assert set(offered) == set(centre.alpha.themes.all())
    assert "themes" in response.context["form"].errors
    assert not Event.objects.exists()


def test_editing_keeps_status_and_walk_ins(centre, login):
    event = make_event(centre.alpha, walk_ins=4)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/edit/", event_post(centre, title="New title")
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
    data = unchanged_post(centre, event, capacity="4")

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
    data = event_post(centre, capacity="1")

    response = login(centre.organiser).post(f"{MANAGE}/{event.pk}/edit/", data, **ENGLISH)

    event.refresh_from_db()
    assert event.capacity == 1
    assert event.registrations.filter(status="confirmed").count() == 3
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("nobody loses theirs" in m for m in messages)


# --- publish, cancel ------------------------------------------------------------------------------


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
    data = unchanged_post(
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
            f"{MANAGE}/{event.pk}/edit/", unchanged_post(centre, event, **changes), **ENGLISH
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
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        told = services.update_event(event_id=event.pk, details={"place": "Room 9"}).told

    assert told == []
    assert mailoutbox == []


def test_a_later_date_lets_the_reminder_go_again_before_it(centre):
    event = make_event(centre.alpha, days=1.5)  # inside the two reminder days
    # Registered a week before (now the place's e-mail would be the reminder itself).
    ana = register(event, "Ana", "ana@example.org", now=timezone.now() - dt.timedelta(days=7))
    assert services.send_reminders() == 1
    later = event.starts_at + dt.timedelta(days=7)

    services.update_event(
        event_id=event.pk,
        details={"starts_at": later, "ends_at": later + dt.timedelta(hours=2)},
    )

    ana.refresh_from_db()
    assert ana.reminder_sent_at is None
    assert services.send_reminders() == 0  # a week ahead: not yet
    assert services.send_reminders(now=later - dt.timedelta(days=1)) == 1


def test_a_date_moved_into_the_reminder_days_is_reminded_by_the_change(centre):
    event = make_event(centre.alpha, days=10)
    ana = register(event, "Ana", "ana@example.org")
    ben = register(event, "Ben")
    assert services.send_reminders() == 0
    sooner = timezone.now() + dt.timedelta(days=1)

    services.update_event(
        event_id=event.pk,
        details={"starts_at": sooner, "ends_at": sooner + dt.timedelta(hours=2)},
    )

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
    sooner = event.starts_at - dt.timedelta(hours=3)

    services.update_event(
        event_id=event.pk,
        details={"starts_at": sooner, "ends_at": sooner + dt.timedelta(hours=2)},
    )

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
