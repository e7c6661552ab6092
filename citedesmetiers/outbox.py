"""The transactional outbox: work that must not be lost — an e-mail, a task — is a row written in
the same transaction as the change it follows, and done afterwards by a drain.

So a broker or a mail server that is down never loses the work nor fails the request that made
it: the row waits. After the commit a worker is asked to drain at once (if the broker cannot be
reached, that only logs a warning), and beat drains every minute whatever happened.

An app registers a handler under a name (`register("events.mail", deliver)`, in its
`AppConfig.ready`) and queues work with `enqueue("events.mail", {"registration": 12, ...})`.
The payload holds primary keys and kinds, never personal data. A handler that raises is tried
again later, with a backoff doubling from a minute to six hours, and given up (logged as an
error) after MAX_ATTEMPTS tries, about a day.

The drain is safe to run twice, or in two workers at once: each message is claimed under a row
lock (SKIP LOCKED on PostgreSQL, so two drains share the work instead of waiting; SQLite's
IMMEDIATE transactions serialise them) for a lease of LEASE, in a short transaction of its own;
the work itself (an exchange with a mail server) runs outside any transaction, so it holds no
lock — on SQLite, not the whole database's — however slow the server is. Work is done at least
once: if the process dies between an e-mail leaving and its row being marked done, the lease
ends and that e-mail goes again.

What is kept of a failure is the kind of error and, for a mail server, its reply code — never
its text, which names the recipient."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable

from celery import current_app, shared_task
from django.db import connection, transaction
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict], None]

MAX_ATTEMPTS = 12
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_WAIT = dt.timedelta(hours=6)
# Done and given-up rows are kept a while for whoever looks into a complaint, then deleted.
KEEP_DONE = dt.timedelta(days=7)
KEEP_FAILED = dt.timedelta(days=30)
# One drain does at most this many messages; the next one (a minute later) does the rest.
DRAIN_LIMIT = 500
# A claimed message is out of other drains' sight this long: the most its work may take (the
# mail server's time-out, EMAIL_TIMEOUT, is far shorter).
LEASE = dt.timedelta(minutes=10)

# After a broker could not be reached, no drain is asked of it for this long (per process).
BROKER_QUIET_SECONDS = 30

_handlers: dict[str, Handler] = {}
_unreachable_until: dict[str, float] = {}


def register(name: str, handler: Handler) -> None:
    """Make `handler(payload)` the one that does the messages called `name`."""
    _handlers[name] = handler


def enqueue(name: str, payload: dict, *, once_key: str | None = None) -> None:
    """Queue `name(payload)`, done once the current transaction commits (never if it rolls
    back). A message with the `once_key` of one already queued (even done, for a week) is not
    queued again."""
    message = OutboxMessage(name=name, payload=payload, once_key=once_key)
    # ON CONFLICT DO NOTHING: a repeated once_key neither raises nor spoils the transaction.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=once_key is not None)
    transaction.on_commit(kick, robust=True)


def enqueue_all(name: str, payloads: list[dict]) -> None:
    """Queue `name(payload)` for each payload, in one statement, with one drain asked for."""
    if payloads:
        OutboxMessage.objects.bulk_create(
            OutboxMessage(name=name, payload=payload) for payload in payloads
        )
        transaction.on_commit(kick, robust=True)


def kick() -> None:
    """Ask a worker to drain now rather than at the next minute. Without a broker this fails
    (after kombu's one retry, two seconds): the messages wait in their table for the periodic
    drain, and this process stops asking for BROKER_QUIET_SECONDS, so that an outage does not
    make every request of the meantime two seconds slower."""
    broker = current_app.conf.broker_url or ""
    if time.monotonic() < _unreachable_until.get(broker, 0.0):
        return
    try:
        drain_outbox.apply_async(retry=False)
    except Exception:  # the broker's errors are many (kombu, redis, OSError…)
        _unreachable_until[broker] = time.monotonic() + BROKER_QUIET_SECONDS
        log.warning("Outbox: the broker cannot be reached; the periodic drain will do the work.")


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4… minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def _next_due(moment: dt.datetime) -> OutboxMessage | None:
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, available_at__lte=moment
    ).order_by("available_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return due.first()


def describe(error: Exception) -> str:
    """What is kept of a failure: its kind, and a mail server's reply codes (never the text:
    a refusal names the recipient's address)."""
    codes = []
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in error.recipients.values()})
    elif isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    return type(error).__name__ + (f" ({', '.join(map(str, codes))})" if codes else "")


def _claim(moment: dt.datetime) -> OutboxMessage | None:
    """The next message due, taken for LEASE in a transaction of its own."""
    with transaction.atomic():
        message = _next_due(moment)
        if message is None:
            return None
        message.attempts += 1
        message.available_at = moment + LEASE
        message.save(update_fields=["attempts", "available_at"])
    return message


def _do(message: OutboxMessage, moment: dt.datetime) -> bool:
    """Run the claimed message's handler, outside any transaction; record the outcome. True if
    it was done."""
    try:
        handler = _handlers.get(message.name)
        if handler is None:
            # A worker of an older or newer version: one that knows it will do it.
            raise LookupError(f"no outbox handler named {message.name!r} in this process")
        handler(message.payload)
    except Exception as error:
        message.last_error = describe(error)
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxMessage.Status.FAILED
            log.error("Outbox: gave up %s after %d attempts", message, message.attempts)
        else:
            message.available_at = moment + backoff(message.attempts)
            log.warning(
                "Outbox: %s failed (%s); next try at %s",
                message,
                message.last_error,
                message.available_at,
            )
        message.save(update_fields=["last_error", "status", "available_at"])
        return False
    message.status = OutboxMessage.Status.DONE
    message.done_at = moment
    message.last_error = ""
    message.save(update_fields=["status", "done_at", "last_error"])
    return True


def drain(*, now: dt.datetime | None = None, limit: int = DRAIN_LIMIT) -> int:
    """Do the messages that are due, oldest first, each claimed on its own. Returns how many
    were done (failures are left for later)."""
    done = 0
    for _ in range(limit):
        moment = now or timezone.now()
        message = _claim(moment)
        if message is None:
            break
        done += _do(message, moment)
    moment = now or timezone.now()
    OutboxMessage.objects.filter(
        status=OutboxMessage.Status.DONE, done_at__lt=moment - KEEP_DONE
    ).delete()
    OutboxMessage.objects.filter(
        status=OutboxMessage.Status.FAILED, available_at__lt=moment - KEEP_FAILED
    ).delete()
    return done


@shared_task(name="citedesmetiers.outbox.drain")
def drain_outbox() -> int:
    return drain()
