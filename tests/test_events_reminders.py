"""Reminders: one e-mail per confirmed registrant with an address, `reminder_days` days before the
event on the site's local calendar (the same wall-clock time whatever daylight saving time does);
exactly once, even when the sweep runs twice, in two workers at once, or through a real Celery
worker (eager mode runs the task inline, in the caller's thread and transaction, and so hides
what a real worker meets: arguments that must survive the broker, another database connection)."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.db import connections
from django.utils import timezone

from events import services
from events.models import Event, Registration
from tests.conftest import make_site
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
    sent,
)
from tests.threads import in_parallel, needs_postgresql

# The worker fixtures (`celery_app`, `celery_worker`) of Celery's own pytest plugin.
pytest_plugins = ("celery.contrib.pytest",)

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")
UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def reminders() -> list:
    return sent("reminder")


def registered_well_before(event: Event, pseudonym: str, email: str = "", **extra):
    return register(event, pseudonym, email, now=event.starts_at - dt.timedelta(days=20), **extra)


# --- when ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local_start", "first_due_utc"),
    [
        # Monday after the autumn change in Paris: 10:00 CET (+1) is reminded from Saturday
        # 10:00 CEST (+2), which is 08:00 UTC, not 09:00.
        (PARIS, dt.datetime(2026, 10, 26, 10, 0), at(2026, 10, 24, 8, 0)),
        # Monday after the spring change: 10:00 CEST (+2), from Saturday 10:00 CET = 09:00 UTC.
        (PARIS, dt.datetime(2027, 3, 29, 10, 0), at(2027, 3, 27, 9, 0)),
        # Montreal changes a week later: Monday 2 November 10:00 EST (-5), from Saturday 31
        # October 10:00 EDT (-4) = 14:00 UTC.
        (MONTREAL, dt.datetime(2026, 11, 2, 10, 0), at(2026, 10, 31, 14, 0)),
    ],
    ids=["paris-autumn", "paris-spring", "montreal-autumn"],
)
def test_the_reminder_is_due_two_days_before_on_the_local_calendar(
    centre, after_commit, zone, local_start, first_due_utc
):
    centre.alpha.time_zone = str(zone)
    centre.alpha.save(update_fields=["time_zone"])
    event = make_event(centre.alpha, starts_at=local_start.replace(tzinfo=zone))
    with after_commit():
        registered_well_before(event, "Nadia", "nadia@example.org")
    mail.outbox.clear()
    a_minute_early = first_due_utc - dt.timedelta(minutes=1)

    assert not services.reminder_due(event, a_minute_early)
    assert services.reminder_due(event, first_due_utc)
    with after_commit():
        assert services.send_reminders(now=a_minute_early) == 0
    assert mail.outbox == []

    with after_commit():
        assert services.send_reminders(now=first_due_utc) == 1

    (reminder,) = reminders()
    assert reminder.to == ["nadia@example.org"]
    registration = Registration.objects.get()
    assert registration.reminder_sent_at == first_due_utc


def test_an_event_can_have_its_reminder_earlier(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start, reminder_days=5)
    with after_commit():
        registered_well_before(event, "Nadia", "nadia@example.org")
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=start - dt.timedelta(days=5, minutes=1)) == 0
        assert services.send_reminders(now=start - dt.timedelta(days=5)) == 1

    assert len(reminders()) == 1


def test_the_default_is_two_days_before(centre):
    event = make_event(centre.alpha)

    assert event.reminder_days == 2


def test_no_reminder_once_the_event_has_started(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start)
    with after_commit():
        registered_well_before(event, "Nadia", "nadia@example.org")
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=start) == 0
        assert services.send_reminders(now=start + dt.timedelta(minutes=30)) == 0

    assert mail.outbox == []
    assert Registration.objects.get().reminder_sent_at is None


def test_beat_runs_the_reminder_sweep_every_few_minutes(settings):
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "events.tasks.send_reminders"
    ]
    assert len(entry["schedule"].minute) >= 4  # so "from 10:00" means before 10:15


# --- who ----------------------------------------------------------------------------------------


def test_only_confirmed_registrants_with_an_address_are_reminded(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start, capacity=3)
    pending_event = make_event(
        centre.alpha, title="Forum", starts_at=start, capacity=3, confirm_by_email=True
    )
    with after_commit():
        registered_well_before(event, "Nadia", "nadia@example.org")
        registered_well_before(event, "Léa")  # no address
        karim = registered_well_before(event, "Karim", "karim@example.org")
        registered_well_before(event, "Tom", "tom@example.org")  # waiting, then promoted
        registered_well_before(event, "Inès", "ines@example.org")  # waiting
        services.cancel_registration(registration_id=karim.pk, now=start - dt.timedelta(days=10))
        registered_well_before(pending_event, "Jade", "jade@example.org")  # pending
    mail.outbox.clear()
    assert Registration.objects.get(email="tom@example.org").status == "confirmed"
    assert Registration.objects.get(email="ines@example.org").status == "waiting"
    assert Registration.objects.get(email="jade@example.org").status == "pending"

    with after_commit():
        sent_count = services.send_reminders(now=start - dt.timedelta(days=1))

    assert sent_count == 2
    assert sorted(m.to[0] for m in reminders()) == ["nadia@example.org", "tom@example.org"]
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"status": Event.Status.CANCELLED},
        {"status": Event.Status.DRAFT},
        {"reminder_days": 0},
    ],
    ids=["cancelled-event", "draft-event", "no-reminder"],
)
def test_no_reminder_for_some_events(centre, after_commit, change):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start)
    with after_commit():
        registered_well_before(event, "Nadia", "nadia@example.org")
    Event.objects.filter(pk=event.pk).update(**change)
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=start - dt.timedelta(hours=20)) == 0

    assert mail.outbox == []


def test_a_promotion_inside_the_reminder_days_is_the_reminder(centre, after_commit):
    # Karim joins the waiting list; two days before, Nadia cancels and her place goes to him.
    # He gets two e-mails (waiting list, promotion), not three: the promotion is his reminder.
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start, capacity=1)
    with after_commit():
        nadia = registered_well_before(event, "Nadia", "nadia@example.org")
        registered_well_before(event, "Karim", "karim@example.org")
    sweep = start - dt.timedelta(days=1)
    with after_commit():
        services.send_reminders(now=sweep)  # Nadia's reminder leaves
    with after_commit():
        services.cancel_registration(registration_id=nadia.pk, now=sweep)
    with after_commit():
        assert services.send_reminders(now=sweep + dt.timedelta(minutes=5)) == 0
    with after_commit():
        assert services.send_reminders(now=sweep + dt.timedelta(hours=6)) == 0

    to_karim = [m for m in mail.outbox if m.to == ["karim@example.org"]]
    assert [m.subject.split(":")[0] for m in to_karim] == [
        "You are on the waiting list",
        "A place is now yours",
    ]
    promotion = to_karim[1]
    assert "this e-mail is also your reminder" in promotion.body
    assert "this e-mail is also your reminder" in promotion.alternatives[0][0]
    # It carries what the reminder would: the date, the place, the calendar, the link.
    assert "Monday 10 May 2027, 14:00" in promotion.body
    assert [name for name, _content, _type in promotion.attachments] == ["event.ics"]
    assert "See or cancel my registration:" in promotion.body
    assert [m.to[0] for m in reminders()] == ["nadia@example.org"]


@pytest.mark.parametrize("confirm_by_email", [False, True], ids=["direct", "confirmed-by-email"])
def test_a_place_taken_inside_the_reminder_days_is_told_once(
    centre, after_commit, confirm_by_email
):
    # Lea registers the day before: the e-mail that gives her the place is her reminder.
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start, confirm_by_email=confirm_by_email)
    day_before = start - dt.timedelta(days=1)
    with after_commit():
        lea = register(event, "Lea", "lea@example.org", now=day_before)
    if confirm_by_email:
        with after_commit():
            services.confirm_email(registration_id=lea.pk, now=day_before)
    with after_commit():
        assert services.send_reminders(now=day_before + dt.timedelta(minutes=5)) == 0

    (place,) = sent("confirmed", to="lea@example.org")
    assert "this e-mail is also your reminder" in place.body
    assert "this e-mail is also your reminder" in place.alternatives[0][0]
    assert reminders() == []


def test_a_place_taken_before_the_reminder_days_is_reminded_as_usual(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start)
    with after_commit():
        registered_well_before(event, "Lea", "lea@example.org")
    with after_commit():
        assert services.send_reminders(now=start - dt.timedelta(days=1)) == 1

    (place,) = sent("confirmed", to="lea@example.org")
    assert "also your reminder" not in place.body
    assert [m.to[0] for m in reminders()] == ["lea@example.org"]


def test_a_promotion_before_the_reminder_days_is_reminded_as_usual(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start, capacity=1)
    with after_commit():
        nadia = registered_well_before(event, "Nadia", "nadia@example.org")
        registered_well_before(event, "Karim", "karim@example.org")
        services.cancel_registration(registration_id=nadia.pk, now=start - dt.timedelta(days=5))
    with after_commit():
        assert services.send_reminders(now=start - dt.timedelta(days=1)) == 1

    (promotion,) = sent("promoted")
    assert "also your reminder" not in promotion.body
    assert [m.to[0] for m in reminders()] == ["karim@example.org"]


# --- exactly once -------------------------------------------------------------------------------


def test_running_the_sweep_twice_sends_one_reminder_each(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, starts_at=start)
    other = make_event(centre.beta, starts_at=start + dt.timedelta(hours=3))
    with after_commit():
        for n in range(4):
            registered_well_before(event, f"Visitor {n}", f"v{n}@example.org")
        registered_well_before(other, "Visitor 0", "v0@example.org")
    mail.outbox.clear()
    sweep = start - dt.timedelta(days=1)

    with after_commit():
        first = services.send_reminders(now=sweep)
    with after_commit():
        second = services.send_reminders(now=sweep + dt.timedelta(minutes=15))

    assert (first, second) == (5, 0)
    assert sorted(m.to[0] for m in reminders()) == sorted(
        ["v0@example.org", "v0@example.org", "v1@example.org", "v2@example.org", "v3@example.org"]
    )
    assert not Registration.objects.filter(reminder_sent_at__isnull=True).exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_sweeps_running_at_the_same_time_send_one_reminder_each(eager_celery, workers):

    site = make_site("alpha")
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(site, starts_at=start, capacity=30)
    for n in range(30):
        registered_well_before(event, f"Visitor {n}", f"v{n}@example.org")
    mail.outbox.clear()
    results = in_parallel(
        workers, lambda i: services.send_reminders(now=start - dt.timedelta(days=1))
    )

    assert sum(results) == 30
    addresses = [m.to[0] for m in reminders()]
    assert sorted(addresses) == sorted(f"v{n}@example.org" for n in range(30))
    assert len(mail.outbox) == 30


# --- through a real Celery worker ---------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    return {
        "broker_url": "memory://",
        "result_backend": "cache+memory://",
        "broker_transport_options": {"polling_interval": 0.05},
    }


@pytest.fixture(scope="session")
def celery_includes():
    # Imported before the worker starts, so it knows the tasks however the tests are selected.
    return ("events.tasks", "citedesmetiers.tasks", "figures.tasks")


@pytest.fixture
def mails_done():
    """`wait(n)` blocks until the worker's drains of the outbox have sent n e-mails (a
    synchronisation, not a sleep: woken after each task). Also closes the worker thread's
    database connections after each task, so the test database can be flushed and dropped."""
    condition = threading.Condition()

    def on_postrun(sender=None, **kwargs):
        connections.close_all()
        with condition:
            condition.notify_all()

    task_postrun.connect(on_postrun, weak=False)

    def wait(count: int, timeout: float = 10) -> bool:
        with condition:
            return condition.wait_for(lambda: len(mail.outbox) >= count, timeout=timeout)

    yield wait
    task_postrun.disconnect(on_postrun)


@pytest.mark.django_db(transaction=True)
def test_the_reminder_task_runs_through_a_real_worker(
    celery_app, celery_worker, mails_done, centre
):
    event = make_event(centre.alpha, starts_in=dt.timedelta(days=1), capacity=3)
    for name, email, status in [
        ("Nadia", "nadia@example.org", Registration.Status.CONFIRMED),
        ("Karim", "karim@example.org", Registration.Status.CONFIRMED),
        ("Léa", "", Registration.Status.CONFIRMED),
        ("Tom", "tom@example.org", Registration.Status.WAITING),
        ("Inès", "ines@example.org", Registration.Status.CANCELLED),
    ]:
        Registration.objects.create(
            event=event, pseudonym=name, email=email, status=status, language="en"
        )

    result = celery_app.send_task("events.tasks.send_reminders")

    assert result.get(timeout=10) == 2
    # The e-mails are sent by the outbox's drain, which the sweep's commits asked for.
    assert mails_done(2), "the worker did not send the two reminders"
    assert sorted(m.to[0] for m in reminders()) == ["karim@example.org", "nadia@example.org"]
    assert set(
        Registration.objects.filter(reminder_sent_at__isnull=False).values_list(
            "pseudonym", flat=True
        )
    ) == {"Nadia", "Karim"}
    sent_at = Registration.objects.get(pseudonym="Nadia").reminder_sent_at
    assert abs(sent_at - timezone.now()) < dt.timedelta(minutes=1)

    # A second run through the worker finds nothing left to send.
    assert celery_app.send_task("events.tasks.send_reminders").get(timeout=10) == 0
    assert len(reminders()) == 2
