"""Small builders shared by the events tests: an event, registrations through the service, and
Celery run in-process so the e-mails land in `mail.outbox`.

E-mails go through the outbox: a row written with the change, and a drain asked for after the
commit (with eager Celery, the drain runs right then). In `db` tests wrap the call in
`django_capture_on_commit_callbacks(execute=True)` (the test's transaction never commits); in
`transactional_db` tests the callbacks run on the real commit. A drain sends every message still
waiting, so setup whose e-mails do not matter ends with `already_sent()`.

The fixtures are named (`after_commit`, `eager_celery`, `in_english`) and imported by the test
modules under their function names, `fixture_*`, so the tests' parameters shadow nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone, translation

from citedesmetiers.celery import app as celery_app
from citedesmetiers.models import OutboxMessage, Site
from events import services
from events.models import Event, Registration

# The subjects of the English e-mails, to tell the kinds apart in `mail.outbox`.
SUBJECTS = {
    "confirmed": "Your place is booked: ",
    "waiting": "You are on the waiting list: ",
    "promoted": "A place is now yours: ",
    "reminder": "Reminder: ",
    "event_changed": "New date or place: ",
    "event_cancelled": "Cancelled: ",
    "pending": "Please confirm your registration: ",
}


@pytest.fixture(name="in_english")
def fixture_in_english(settings):
    """The project speaks French by default; these tests read the English messages. Use with
    `pytestmark = pytest.mark.usefixtures("in_english")`."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(name="no_check")
def fixture_no_check(settings):
    """Registrations through the form without the automatic proof-of-work check, which a nearly
    full event asks for (tests/test_events_guard.py is about it)."""
    settings.EVENT_CHALLENGE_DIFFICULTY = 0


@pytest.fixture(name="eager_celery")
def fixture_eager_celery():
    """Run Celery tasks in the calling thread (the live server's too), then restore."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield celery_app
    celery_app.conf.task_always_eager = before


@pytest.fixture(name="after_commit")
def fixture_after_commit(django_capture_on_commit_callbacks, eager_celery):
    """`with after_commit(): ...` runs the block's on-commit callbacks (the e-mails) at its end,
    as the real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def make_event(
    site: Site,
    *,
    title: str = "Atelier CV",
    starts_in: dt.timedelta = dt.timedelta(days=3),
    starts_at: dt.datetime | None = None,
    hours: float = 2,
    capacity: int | None = 10,
    status: str = Event.Status.PUBLISHED,
    **extra,
) -> Event:
    starts_at = starts_at or (timezone.now() + starts_in).replace(microsecond=0)
    return Event.objects.create(
        site=site,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        capacity=capacity,
        status=status,
        **extra,
    )


def register(event: Event, pseudonym: str, email: str = "", **extra) -> Registration:
    """A new registration through the service (in English, so the subjects are known)."""
    extra.setdefault("language", "en")
    registration, created = services.register(
        event_id=event.pk, pseudonym=pseudonym, email=email, **extra
    )
    assert created
    return registration


def already_sent() -> None:
    """Take the e-mails queued so far as sent (as an earlier request's commit would have): the
    next drain sends only what follows."""
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.DONE, done_at=timezone.now()
    )


def statuses(event: Event) -> Counter:
    return Counter(event.registrations.values_list("status", flat=True))


def names(queryset) -> list[str]:
    return list(queryset.values_list("pseudonym", flat=True))


def waiting_list(event: Event):
    """The waiting list as the service reads it when it promotes: oldest first."""
    return event.registrations.filter(status=Registration.Status.WAITING).order_by(
        "created_at", "pk"
    )


def sent(kind: str | None = None, to: str | None = None) -> list:
    """The e-mails sent so far, of one kind (by their English subject) and/or to one address."""
    return [
        message
        for message in mail.outbox
        if (kind is None or message.subject.startswith(SUBJECTS[kind]))
        and (to is None or message.to == [to])
    ]


def path_of(url: str) -> str:
    """The path of a link in an e-mail, to follow it with the test client."""
    return urlsplit(url).path


def link_after(text: str, label: str) -> str:
    """The URL that follows `label` in a text e-mail."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return line[len(label) :].strip()
