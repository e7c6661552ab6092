"""The purge: a few days after an event (EVENT_CONTACT_RETENTION_DAYS, default 7) every pseudonym
and e-mail address of its registrations is erased; the rows stay, anonymous, so the counts
(registered, waiting, attended, no-show, cancelled) do not change. Safe to run twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from events import services, tasks
from events.models import Event, Registration
from tests.events_fixtures import make_event, register

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 6, 20, 12, 0, tzinfo=PARIS)


def counts(event: Event) -> dict:
    registrations = event.registrations.all()
    return {
        "status": Counter(registrations.values_list("status", flat=True)),
        "attended": registrations.filter(attended=True).count(),
        "no_show": registrations.filter(status="confirmed", attended=False).count(),
        "source": Counter(registrations.values_list("source", flat=True)),
        "walk_ins": Event.objects.get(pk=event.pk).walk_ins,
        "rows": registrations.count(),
    }


def contacts(event: Event) -> int:
    return event.registrations.filter(~Q(pseudonym="") | ~Q(email="")).count()


def held(centre, *, ended_days_ago: float, title: str, now: dt.datetime = NOW) -> Event:
    """An event with every kind of registration, ended `ended_days_ago` days before `now`."""
    ends = now - dt.timedelta(days=ended_days_ago)
    event = make_event(
        centre.alpha, title=title, starts_at=ends - dt.timedelta(hours=2), hours=2, capacity=3
    )
    before = event.starts_at - dt.timedelta(days=10)
    came = register(event, "Nadia", "nadia@example.org", now=before)
    absent = register(event, "Karim", "karim@example.org", now=before)
    gone = register(event, "Léa", "lea@example.org", now=before)
    register(event, "Tom", "tom@example.org", now=before)  # waiting, promoted below
    register(event, "Inès", now=before)  # waiting, stays so
    register(event, "Sami", now=before, source=Registration.Source.ON_THE_SPOT)  # waiting
    services.cancel_registration(registration_id=gone.pk, now=before + dt.timedelta(days=1))
    services.set_attendance(registration_id=came.pk, attended=True)
    services.set_attendance(registration_id=absent.pk, attended=False)
    services.add_walk_ins(event_id=event.pk, delta=4)
    return event


def test_the_purge_erases_contacts_of_old_events_and_keeps_the_counts(centre):
    old = held(centre, ended_days_ago=8, title="Old")
    recent = held(centre, ended_days_ago=6, title="Recent")
    upcoming = make_event(centre.alpha, starts_at=NOW + dt.timedelta(days=3))
    register(upcoming, "Jade", "jade@example.org", now=NOW)
    before = {event.pk: counts(event) for event in (old, recent, upcoming)}
    assert before[old.pk]["status"] == {"confirmed": 3, "waiting": 2, "cancelled": 1}
    assert (before[old.pk]["attended"], before[old.pk]["no_show"]) == (1, 1)

    erased = services.purge_contacts(now=NOW)

    assert erased == 6
    assert contacts(old) == 0
    assert set(old.registrations.values_list("pseudonym", "email")) == {("", "")}
    assert contacts(recent) == 6
    assert contacts(upcoming) == 1
    for event in (old, recent, upcoming):
        assert counts(event) == before[event.pk], event.title
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.contacts_purged_at == NOW
    assert recent.contacts_purged_at is None


def test_running_the_purge_twice_changes_nothing_more(centre):
    old = held(centre, ended_days_ago=30, title="Old")
    services.purge_contacts(now=NOW)
    after_first = (counts(old), list(old.registrations.values()))
    purged_at = Event.objects.get(pk=old.pk).contacts_purged_at

    assert services.purge_contacts(now=NOW + dt.timedelta(days=1)) == 0

    assert (counts(old), list(old.registrations.values())) == after_first
    assert Event.objects.get(pk=old.pk).contacts_purged_at == purged_at


def test_the_purge_starts_exactly_the_configured_days_after_the_end(centre, settings):
    settings.EVENT_CONTACT_RETENTION_DAYS = 7
    event = held(centre, ended_days_ago=7, title="A week ago")

    assert services.purge_contacts(now=NOW - dt.timedelta(minutes=1)) == 0
    assert contacts(event) == 6
    assert services.purge_contacts(now=NOW) == 6
    assert contacts(event) == 0


def test_the_purge_reads_the_retention_from_the_settings(centre, settings):
    settings.EVENT_CONTACT_RETENTION_DAYS = 2
    event = held(centre, ended_days_ago=3, title="Three days ago")

    services.purge_contacts(now=NOW)

    assert contacts(event) == 0


def test_the_purge_covers_cancelled_events_too(centre):
    event = held(centre, ended_days_ago=10, title="Cancelled")
    services.cancel_event(event_id=event.pk)
    before = counts(event)

    services.purge_contacts(now=NOW)

    assert contacts(event) == 0
    assert counts(event) == before


def test_the_daily_task_purges_the_same_way(centre):
    # The task reads the clock: an event that ended ten days ago, and one that ended yesterday.
    old = held(centre, ended_days_ago=10, title="Old", now=timezone.now())
    recent = held(centre, ended_days_ago=1, title="Recent", now=timezone.now())
    before = counts(old), counts(recent)

    assert tasks.purge_contacts.apply().get() == 6
    assert tasks.purge_contacts.apply().get() == 0

    assert contacts(old) == 0
    assert contacts(recent) == 6
    assert (counts(old), counts(recent)) == before


def test_beat_runs_the_purge_every_day(settings):
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "events.tasks.purge_contacts"
    ]
    assert entry["schedule"].hour == {3}


def test_an_event_moved_ahead_after_its_purge_has_its_new_contacts_purged_too(
    centre, login, settings
):
    settings.LANGUAGE_CODE = "en"
    old = held(centre, ended_days_ago=10, title="Moved", now=timezone.now())
    services.purge_contacts()
    # The organiser gives the (anonymous) event a new date, ahead: new people register.
    starts = (
        (timezone.now() + dt.timedelta(days=5)).astimezone(PARIS).replace(second=0, microsecond=0)
    )
    response = login(centre.organiser).post(
        f"/events/manage/{old.pk}/edit/",
        {
            "title": old.title,
            "kind": old.kind,
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "",
            "online_url": "",
            "capacity": "10",
            "audience": old.audience,
            "reminder_days": "2",
        },
    )
    assert response.status_code == 302
    register(old, "Jade", "jade@example.org")
    page = login(centre.organiser).get(f"/events/manage/{old.pk}/registrants/")
    assert "jade@example.org" in page.content.decode()

    # Once the new date is past, the purge erases the new contacts too.
    assert services.purge_contacts(now=starts + dt.timedelta(days=8)) == 1
    assert contacts(old) == 0
