"""Real threads against the real database: callables released together behind a barrier
(`in_parallel`, `together`), or one callable in the background while this thread goes on, holding
a lock, say, until the other one waits for it (`in_background`). Each thread closes its own
connection; what a thread raised is raised again here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks and parallel transactions need PostgreSQL (CI runs this on it).",
)


def together(*works: Callable[[], object], timeout: float = 60) -> list:
    """Run each of `works` in its own thread, all released together; return what each returned,
    in order. Fails if one raised, or has not finished after `timeout` seconds."""
    barrier = threading.Barrier(len(works))
    results: list = [None] * len(works)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=timeout / 2)
            results[i] = works[i]()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    assert errors == []
    return results


def in_parallel(count: int, work: Callable[[int], object], *, timeout: float = 60) -> list:
    """Run `work(i)` in `count` threads released together; return what each returned."""
    return together(*(lambda i=i: work(i) for i in range(count)), timeout=timeout)


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked(pid: int, by: int, timeout: float = 60) -> None:
    """Return once the backend `pid` waits for a lock held by the backend `by` (asked to
    PostgreSQL itself, so nothing depends on timing)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [by, pid])
            if cursor.fetchone()[0]:
                return
    pytest.fail(f"backend {pid} never waited for backend {by}")


class Background:
    """`work()` running in another thread, started by `in_background`."""

    def __init__(self, work: Callable[[], object], timeout: float, waits_for_locks: bool) -> None:
        self.timeout = timeout
        self.waits_for_locks = waits_for_locks
        self.pid: int | None = None  # its PostgreSQL backend, once started, if it waits for locks
        self._work = work
        self._started = threading.Event()
        self._result: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            if self.waits_for_locks:
                self.pid = backend_pid()
            self._started.set()
            self._result = self._work()
        except BaseException as exc:  # raised again by join()
            self._error = exc
        finally:
            self._started.set()
            connection.close()

    def start(self) -> Background:
        self._thread.start()
        assert self._started.wait(self.timeout), "the thread never started"
        return self

    def wait_until_blocked(self) -> None:
        """Return once the thread waits for a lock that this thread holds (PostgreSQL only)."""
        assert self.pid is not None, "in_background(…, waits_for_locks=True) says it may"
        wait_until_blocked(self.pid, by=backend_pid(), timeout=self.timeout)

    def join(self) -> object:
        """What `work()` returned, once it finished; what it raised is raised here."""
        self._thread.join(self.timeout)
        assert not self._thread.is_alive(), "the thread never finished"
        if self._error is not None:
            raise self._error
        return self._result


def in_background(
    work: Callable[[], object], *, timeout: float = 60, waits_for_locks: bool = False
) -> Background:
    """Start `work()` in another thread and go on; `join()` it. With `waits_for_locks` (PostgreSQL
    only), the thread first opens its connection, so that this one can `wait_until_blocked`."""
    return Background(work, timeout, waits_for_locks).start()
