"""A real process making monthly reports, for tests/test_reports_worker.py to kill, time out or
overtake while it renders. Run as a subprocess:

    python -m tests.report_worker worker QUEUE   # a real Celery worker (prefork, 1 child)
    python -m tests.report_worker make REPORT_ID # make_report itself, no Celery

The database and the broker come from the environment (the test's own). File descriptors are
passed by the test: `TELL_FD` to tell it what happens, `WAIT_FD` to wait on it. Each process
making a report stops at its first progress after the start — `holding <pid>` on TELL_FD —
and waits until the test writes to WAIT_FD (or kills it, or the soft time limit fires). With
`HOLD_ONCE=<path>`, only the first process to get there stops. A worker also tells
`ended <task id>` after each task."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")

import django  # noqa: E402

django.setup()

from celery.signals import task_postrun  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from citedesmetiers.celery import app  # noqa: E402
from figures.report_runs import make_report  # noqa: E402

TELL = int(os.environ["TELL_FD"])
WAIT = int(os.environ["WAIT_FD"])
HOLD_ONCE = os.environ.get("HOLD_ONCE", "")


def tell(line: str) -> None:
    os.write(TELL, (line + "\n").encode())


def first_progress(sql: str, params) -> bool:
    return (
        sql.startswith("UPDATE")
        and "monthlyreport" in sql
        and sql.split(" SET ")[1].startswith('"progress"')
        and params is not None
        and params[0] == 40
    )


def hold(execute, sql, params, many, context):
    if first_progress(sql, params):
        try:
            if HOLD_ONCE:
                os.close(os.open(HOLD_ONCE, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            tell(f"holding {os.getpid()}")
            os.read(WAIT, 1)  # until the test says so (a soft time limit interrupts it)
    return execute(sql, params, many, context)


def watch(sender, connection, **kwargs):
    if hold not in connection.execute_wrappers:  # the same connection, opened again
        connection.execute_wrappers.append(hold)


connection_created.connect(watch, weak=False)


def ended(sender=None, task_id=None, **kwargs):
    tell(f"ended {task_id}")


def main(argv: list[str]) -> None:
    if argv[0] == "worker":
        task_postrun.connect(ended, weak=False)
        app.worker_main(
            [
                "worker",
                "--queues",
                argv[1],
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                f"{argv[1]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ]
        )
    elif argv[0] == "make":
        make_report(int(argv[1]), run=argv[2] if len(argv) > 2 else None)
        tell("ended")


if __name__ == "__main__":
    main(sys.argv[1:])
