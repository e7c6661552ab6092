"""A monthly report whose work stops half-way, in a real process: a Celery worker's child killed
with SIGKILL while it renders (the message goes to the next child, which takes the report
over), a render past its soft time limit (failed, and said so), a run overtaken by "make it
again" (its result is dropped), and a whole machine lost (the report counts as failed once its
time limit is past, and can be made again).

The processes are tests/report_worker.py; they stop at a known point of the render and tell the
test through a pipe, so nothing here depends on timing."""

from __future__ import annotations

import datetime as dt
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from citedesmetiers.celery import app as celery_app
from citedesmetiers.models import Site
from figures.models import MonthlyReport
from figures.report_runs import HARD_LIMIT_MARGIN, make_report, run_limit
from figures.report_service import request_report
from figures.tasks import generate_report
from tests.counselling_fixtures import in_english  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_english")]

ROOT = Path(__file__).resolve().parent.parent
FEBRUARY = dt.date(2025, 2, 1)
TASK = "figures.generate_report"
WAIT_SECONDS = 90  # a worker's start and two renders on a busy machine, at most


def database_url() -> str:
    """The test database, for the processes to share it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{credentials}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Process:
    """tests/report_worker.py in a process of its own (and its own process group)."""

    def __init__(self, log: Path, *args: str, **env: str):
        self._told, tell = os.pipe()
        wait, self._go = os.pipe()
        self.log = log
        with open(log, "wb") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "tests.report_worker", *args],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": database_url(),
                    "TELL_FD": str(tell),
                    "WAIT_FD": str(wait),
                    **env,
                },
                pass_fds=(tell, wait),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        os.close(tell)
        os.close(wait)
        self._buffer = b""

    def next_line(self) -> str:
        """What the process tells next (it blocks until then, within WAIT_SECONDS)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._told], [], [], deadline - time.monotonic())
            chunk = os.read(self._told, 4096) if ready else b""
            if not chunk:
                pytest.fail("the process told nothing more:\n" + self.log.read_text()[-3000:])
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def held(self) -> int:
        """The pid of the process stopped in its render."""
        line = self.next_line()
        assert line.startswith("holding "), line
        return int(line.split()[1])

    def go_on(self) -> None:
        os.write(self._go, b".")

    def stop(self) -> None:
        os.close(self._go)  # a process still held goes on, and ends
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)  # a worker finishes its task, then stops
            try:
                self.popen.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=WAIT_SECONDS)
        os.close(self._told)


@pytest.fixture
def queue():
    """A queue of the tests' own on the broker (emptied before and after): the report task is
    sent there, and only the test's worker reads it."""
    name = "test-reports"
    before = celery_app.conf.task_routes
    celery_app.conf.update(task_routes={TASK: {"queue": name}})
    with celery_app.connection_for_write() as broker:  # left by an interrupted run
        broker.default_channel.queue_purge(name)
    yield name
    celery_app.conf.update(task_routes=before)
    with celery_app.connection_for_write() as broker:  # whatever a stopped worker put back
        broker.default_channel.queue_purge(name)


@pytest.fixture
def processes(tmp_path):
    started: list[Process] = []

    def start(*args: str, **env: str) -> Process:
        process = Process(tmp_path / f"process-{len(started)}.log", *args, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def alpha(centre) -> Site:
    Site.objects.filter(pk=centre.alpha.pk).update(created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    centre.alpha.refresh_from_db()
    return centre.alpha


@pytest.fixture
def remove_files():
    reports: list[MonthlyReport] = []
    yield reports.append
    for report in reports:
        report.refresh_from_db()
        if report.file:
            report.file.delete(save=False)


def test_a_worker_killed_while_rendering_hands_the_report_to_the_next_one(
    alpha, queue, processes, tmp_path, remove_files
):
    worker = processes("worker", queue, HOLD_ONCE=str(tmp_path / "held"))
    report = request_report(site=alpha, month=FEBRUARY)  # queued when committed
    remove_files(report)

    child = worker.held()
    report.refresh_from_db()
    assert (report.status, report.attempts) == (MonthlyReport.Status.RUNNING, 1)
    task_id = report.task_id
    os.kill(child, signal.SIGKILL)

    # The worker hands the message out again; its new child takes the report over.
    assert worker.next_line() == f"ended {task_id}"
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE
    assert (report.attempts, report.task_id, report.progress) == (2, task_id, 100)
    assert Path(report.file.path).read_bytes().startswith(b"%PDF")


def test_a_render_past_its_time_limit_fails_and_says_so(
    alpha, queue, processes, login, mfa_enrolled
):
    worker = processes("worker", queue)  # and the render never goes on
    report = MonthlyReport.objects.create(site=alpha, month=FEBRUARY, requested_at=timezone.now())
    # The limits travel in the message (the sender's REPORT_TIME_LIMIT): two seconds here.
    generate_report.apply_async(
        args=[report.pk], queue=queue, soft_time_limit=2, time_limit=2 + HARD_LIMIT_MARGIN
    )

    line = worker.next_line()
    if line.startswith("holding"):
        line = worker.next_line()
    report.refresh_from_db()
    assert line == f"ended {report.task_id}"
    assert (report.status, report.failure) == (
        MonthlyReport.Status.FAILED,
        MonthlyReport.Failure.TIME_LIMIT,
    )

    page = login(mfa_enrolled.manager).get("/manage/reports/").content.decode()
    assert "It took longer than" in page


def test_make_it_again_while_a_run_is_going_drops_that_runs_result(
    alpha, queue, processes, remove_files
):
    worker = processes("worker", queue)  # every run stops in its render until told
    report = request_report(site=alpha, month=FEBRUARY)
    remove_files(report)
    worker.held()
    report.refresh_from_db()
    first = report.task_id

    request_report(site=alpha, month=FEBRUARY, force=True)  # a second message
    report.refresh_from_db()
    assert (report.status, report.task_id) == (MonthlyReport.Status.PENDING, "")

    worker.go_on()
    assert worker.next_line() == f"ended {first}"
    report.refresh_from_db()
    assert report.status != MonthlyReport.Status.DONE and not report.file
    assert report.task_id != first

    worker.held()  # the second run
    worker.go_on()
    report.refresh_from_db()
    second = report.task_id
    assert worker.next_line() == f"ended {second}"
    report.refresh_from_db()
    assert (report.status, report.attempts) == (MonthlyReport.Status.DONE, 1)
    assert Path(report.file.path).read_bytes().startswith(b"%PDF")


def test_a_lost_machine_leaves_a_report_that_counts_as_failed_and_is_made_again(
    alpha, processes, login, mfa_enrolled, remove_files
):
    report = MonthlyReport.objects.create(site=alpha, month=FEBRUARY, requested_at=timezone.now())
    remove_files(report)
    machine = processes("make", str(report.pk), "lost-run")
    machine.held()
    os.killpg(machine.popen.pid, signal.SIGKILL)  # the whole machine: nobody hands it out again
    machine.popen.wait(timeout=WAIT_SECONDS)
    report.refresh_from_db()
    assert (report.status, report.task_id) == (MonthlyReport.Status.RUNNING, "lost-run")

    client = login(mfa_enrolled.manager)
    assert "Being generated (5 %)." in client.get("/manage/reports/").content.decode()

    # Its time limit passes.
    MonthlyReport.objects.filter(pk=report.pk).update(
        started_at=timezone.now() - run_limit() - dt.timedelta(seconds=1)
    )
    page = client.get("/manage/reports/").content.decode()
    assert "It stopped before it was finished" in page

    sent = []
    celery_app.conf.update(task_always_eager=True)
    try:
        response = client.post("/manage/reports/request/", {"site": "alpha", "month": "2025-02"})
        sent.append(response.status_code)
    finally:
        celery_app.conf.update(task_always_eager=False)
    assert sent == [302]
    report.refresh_from_db()
    assert (report.status, report.attempts) == (MonthlyReport.Status.DONE, 1)
    assert Path(report.file.path).read_bytes().startswith(b"%PDF")
    make_report(report.pk, run="lost-run")  # its message, should it ever come back: nothing
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE
