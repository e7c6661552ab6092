"""The optional read replica (`DATABASE_REPLICA_URL`): the dashboard's and the reports' reads go
to it, everything else to the primary.

A router decides per query, not per page, so the choice is made where the reads are: inside
`replica_reads()` (a context variable, so each thread and request has its own), reads go to the
replica; writes always go to the primary, and so does every read outside it — a session, a login,
a desk action, whatever must see what was just written. The figures a replica serves may be a
moment late, which a month's report or a dashboard can afford. Without a replica configured the
context changes nothing."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from django.conf import settings

REPLICA = "replica"

_reading_from_replica = contextvars.ContextVar("reading_from_replica", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block go to the replica, when there is one."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """A view whose reads go to the replica (put it under the access checks, which read the
    session and the user from the primary)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """`DATABASE_ROUTERS` when a replica is configured (settings.py)."""

    def db_for_read(self, model, **hints) -> str | None:
        if _reading_from_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None  # the primary

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == "default"  # the replica follows the primary's schema
