"""The kernel's transactional outbox: work queued in a transaction is done once after it commits
(never if it rolls back), again later with backoff when it fails, once even with two drains at
the same time (real threads on PostgreSQL), and a broker that cannot be reached loses nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from citedesmetiers import outbox
from citedesmetiers.models import OutboxMessage
from tests.broker import fixture_broker_down  # noqa: F401 (a fixture)
from tests.events_fixtures import fixture_eager_celery  # noqa: F401 (a fixture)
from tests.threads import in_parallel, needs_postgresql

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
PENDING, DONE, FAILED = (
    OutboxMessage.Status.PENDING,
    OutboxMessage.Status.DONE,
    OutboxMessage.Status.FAILED,
)


class Notes:
    """A handler that writes down what it was given, and can be made to fail."""

    def __init__(self) -> None:
        self.done: list[dict] = []
        self.failures_left = 0

    def __call__(self, payload: dict) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionRefusedError("the mail server is down")
        self.done.append(payload)


@pytest.fixture
def notes(monkeypatch):
    handler = Notes()
    monkeypatch.setattr(outbox, "_handlers", dict(outbox._handlers))
    outbox.register("tests.note", handler)
    return handler


def test_it_does_the_work_once_after_the_commit(
    db, notes, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        outbox.enqueue("tests.note", {"n": 1})
        outbox.enqueue_all("tests.note", [{"n": 2}, {"n": 3}])
        assert notes.done == []  # nothing before the commit

    assert len(callbacks) == 2  # one drain asked for by each call
    assert notes.done == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {DONE}
    assert outbox.drain() == 0
    assert len(notes.done) == 3


def test_work_queued_in_a_transaction_that_rolls_back_is_never_done(db, notes):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue("tests.note", {"n": 1})
        raise RuntimeError("the change failed")

    assert OutboxMessage.objects.count() == 0
    assert outbox.drain() == 0
    assert notes.done == []


def test_a_failure_is_tried_again_later_with_a_growing_wait(db, notes):
    notes.failures_left = 2
    outbox.enqueue("tests.note", {"n": 1})

    assert outbox.drain(now=NOW) == 0
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (PENDING, 1)
    assert message.available_at == NOW + dt.timedelta(minutes=1)
    assert message.last_error == "ConnectionRefusedError"  # the kind, never the text

    # Not before its time; then a second failure waits twice as long.
    assert outbox.drain(now=NOW + dt.timedelta(seconds=59)) == 0
    assert outbox.drain(now=NOW + dt.timedelta(minutes=1)) == 0
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.available_at == NOW + dt.timedelta(minutes=3)

    assert outbox.drain(now=NOW + dt.timedelta(minutes=3)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (DONE, 3, "")
    assert notes.done == [{"n": 1}]


def test_a_mail_servers_refusal_is_kept_as_its_code_without_the_address():
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"sam@example.org": (550, b"5.1.1 sam@example.org")})
    assert outbox.describe(refused) == "SMTPRecipientsRefused (550)"
    assert outbox.describe(smtplib.SMTPDataError(554, b"rejected")) == "SMTPDataError (554)"


def test_the_work_runs_outside_any_transaction(db, notes, monkeypatch):
    """A slow mail server must not hold the claim's lock (on SQLite, the whole database's)."""
    from django.db import connection

    depths = []
    outbox.register("tests.depth", lambda payload: depths.append(len(connection.savepoint_ids)))
    outbox.enqueue("tests.depth", {})
    before = len(connection.savepoint_ids)  # the test's own transaction, if any
    assert outbox.drain() == 1
    assert depths == [before]


def test_a_claimed_message_is_out_of_other_drains_sight_for_its_lease(db, notes):
    outbox.enqueue("tests.note", {"n": 1})
    claimed = outbox._claim(NOW)
    assert claimed is not None
    assert outbox._claim(NOW + outbox.LEASE - dt.timedelta(seconds=1)) is None
    # A drain that died with it: after the lease, the work is done again (at least once).
    assert outbox._claim(NOW + outbox.LEASE) is not None


def test_the_wait_between_tries_stops_growing_at_six_hours():
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=4),
    ]
    assert outbox.backoff(11) == dt.timedelta(hours=6)


def test_it_gives_up_after_the_last_attempt_and_goes_on_with_the_rest(db, notes):
    notes.failures_left = outbox.MAX_ATTEMPTS
    outbox.enqueue("tests.note", {"n": "never"})
    moment = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.drain(now=moment)
        moment += outbox.LONGEST_WAIT
    outbox.enqueue("tests.note", {"n": "next"})

    assert outbox.drain(now=moment) == 1

    given_up = OutboxMessage.objects.get(payload={"n": "never"})
    assert (given_up.status, given_up.attempts) == (FAILED, outbox.MAX_ATTEMPTS)
    assert notes.done == [{"n": "next"}]


def test_work_with_the_key_of_work_already_queued_is_not_queued_again(db, notes):
    with transaction.atomic():
        outbox.enqueue("tests.note", {"n": 1}, once_key="resend:7:2027030109")
        outbox.enqueue("tests.note", {"n": 2}, once_key="resend:7:2027030109")
    outbox.drain()
    outbox.enqueue("tests.note", {"n": 3}, once_key="resend:7:2027030109")  # done already
    outbox.enqueue("tests.note", {"n": 4}, once_key="resend:7:2027030110")
    outbox.drain()

    assert notes.done == [{"n": 1}, {"n": 4}]


def test_work_nobody_here_knows_how_to_do_waits_for_a_worker_that_does(db, notes):
    outbox.enqueue("tests.unknown", {"n": 1})

    assert outbox.drain(now=NOW) == 0

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (PENDING, 1)
    assert message.last_error == "LookupError"


def test_done_work_is_forgotten_after_a_week(db, notes):
    outbox.enqueue("tests.note", {"n": 1})
    outbox.drain(now=NOW)

    outbox.drain(now=NOW + outbox.KEEP_DONE - dt.timedelta(minutes=1))
    assert OutboxMessage.objects.count() == 1
    outbox.drain(now=NOW + outbox.KEEP_DONE + dt.timedelta(minutes=1))
    assert OutboxMessage.objects.count() == 0


def test_beat_drains_the_outbox_every_minute(settings):
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "citedesmetiers.outbox.drain"
    ]
    assert len(entry["schedule"].minute) == 60


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_cannot_be_reached_delays_the_work_and_loses_nothing(
    notes, broker_down, monkeypatch
):
    monkeypatch.setattr(outbox, "_unreachable_until", {})
    with transaction.atomic():
        outbox.enqueue("tests.note", {"n": 1})
    # The commit went through; the drain asked for could not be sent. The next commits do not
    # ask the broker again (kombu's retry takes two seconds each time).
    # (Each failed ask would set a new, later end to the quiet time.)
    (quiet_until,) = outbox._unreachable_until.values()
    for n in (2, 3):
        with transaction.atomic():
            outbox.enqueue("tests.note", {"n": n})
    assert list(outbox._unreachable_until.values()) == [quiet_until]

    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {PENDING}
    assert notes.done == []

    # The periodic drain, once a worker runs again.
    assert outbox.drain() == 3
    assert notes.done == [{"n": 1}, {"n": 2}, {"n": 3}]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("drains", [2, 4])
def test_drains_running_at_the_same_time_do_each_message_once(notes, drains):
    outbox.enqueue_all("tests.note", [{"n": n} for n in range(60)])
    start = timezone.now()

    done = in_parallel(drains, lambda _i: outbox.drain(now=start))

    assert sum(done) == 60
    assert sorted(payload["n"] for payload in notes.done) == list(range(60))
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {DONE}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
