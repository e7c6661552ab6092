"""The monthly report, asked for and made: refused for a month not over or before the site
existed; never generated twice at once; a run past its time limit, or lost with its worker, made
again; a run overtaken by "make it again" writes nothing. The PDF itself is in
tests/test_reports_pdf.py, the managers' pages in tests/test_reports_pages.py, real worker
processes in tests/test_reports_worker.py."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from citedesmetiers.models import Site
from figures import report_runs
from figures.models import DailyStat, MonthlyReport
from figures.report_runs import HARD_LIMIT_MARGIN, MAX_ATTEMPTS, make_report, run_limit
from figures.report_service import ReportError, request_report
from figures.tasks import generate_report
from tests.counselling_fixtures import in_english  # noqa: F401  (fixture)
from tests.report_fixtures import (  # noqa: F401  (fixtures)
    FEBRUARY,
    media_fixture,
    next_month,
    running,
    since_2024,
)

# --- asking for a report -----------------------------------------------------------------------


@pytest.mark.usefixtures("in_english")
def test_a_month_not_over_yet_is_refused(centre):
    since_2024(centre.alpha)
    this_month = centre.alpha.local_date().replace(day=1)
    for month in (this_month, next_month(this_month), dt.date(2099, 1, 1)):
        with pytest.raises(ReportError, match="This month is not over yet"):
            request_report(site=centre.alpha, month=month)
    assert not MonthlyReport.objects.exists()


@pytest.mark.usefixtures("in_english")
def test_a_month_before_the_site_existed_is_refused(centre):
    Site.objects.filter(pk=centre.alpha.pk).update(
        created=dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
    )
    centre.alpha.refresh_from_db()

    with pytest.raises(ReportError, match="Site Alpha did not exist yet in that month."):
        request_report(site=centre.alpha, month=FEBRUARY)
    request_report(site=centre.alpha, month=dt.date(2025, 3, 1))  # the month it opened: fine


def test_a_second_request_while_one_is_on_its_way_queues_nothing(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha)
    with django_capture_on_commit_callbacks() as first:
        report = request_report(site=centre.alpha, month=FEBRUARY)
    assert len(first) == 1
    assert report.status == MonthlyReport.Status.PENDING

    with django_capture_on_commit_callbacks() as again:
        assert request_report(site=centre.alpha, month=FEBRUARY).pk == report.pk
    assert again == []

    running(report, started=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as while_running:
        request_report(site=centre.alpha, month=FEBRUARY)
    assert while_running == []
    assert MonthlyReport.objects.get().progress == 40
    assert MonthlyReport.objects.count() == 1


def test_make_it_again_always_queues_a_new_run(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now())

    with django_capture_on_commit_callbacks() as forced:
        request_report(site=centre.alpha, month=FEBRUARY, force=True)

    assert len(forced) == 1
    report.refresh_from_db()
    assert (report.status, report.progress, report.task_id, report.attempts) == (
        MonthlyReport.Status.PENDING,
        0,
        "",
        0,
    )


def test_a_run_past_its_time_limit_counts_as_failed_and_is_queued_again(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha)
    now = timezone.now()
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=now - run_limit() + dt.timedelta(seconds=5))
    report.refresh_from_db()
    assert report.state(now, run_limit()) == "running"
    with django_capture_on_commit_callbacks() as in_time:
        request_report(site=centre.alpha, month=FEBRUARY, now=now)
    assert in_time == []

    later = now + dt.timedelta(seconds=10)
    assert report.state(later, run_limit()) == "stalled"
    with django_capture_on_commit_callbacks() as past_it:
        request_report(site=centre.alpha, month=FEBRUARY, now=later)
    assert len(past_it) == 1
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.PENDING


def test_a_request_no_worker_took_up_is_queued_again(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    asked = timezone.now() - run_limit() - dt.timedelta(minutes=1)
    report = request_report(site=centre.alpha, month=FEBRUARY, now=asked)
    assert report.state(timezone.now(), run_limit()) == "waiting_long"

    with django_capture_on_commit_callbacks() as again:
        request_report(site=centre.alpha, month=FEBRUARY)

    assert len(again) == 1


def test_the_run_of_a_lost_worker_is_taken_over_by_its_message_handed_out_again(centre, media):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now(), task_id="lost")

    make_report(report.pk, run="someone-else")  # another task: it leaves the run alone
    report.refresh_from_db()
    assert (report.status, report.task_id) == (MonthlyReport.Status.RUNNING, "lost")

    make_report(report.pk, run="lost")  # PDF 1 of 4: the same task, on another worker

    report.refresh_from_db()
    assert (report.status, report.attempts) == (MonthlyReport.Status.DONE, 2)


def test_a_report_whose_worker_is_lost_again_and_again_fails(centre):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now(), task_id="lost")
    MonthlyReport.objects.filter(pk=report.pk).update(attempts=MAX_ATTEMPTS)

    make_report(report.pk, run="lost")  # nothing rendered

    report.refresh_from_db()
    assert (report.status, report.failure, report.file.name) == (
        MonthlyReport.Status.FAILED,
        MonthlyReport.Failure.WORKER_LOST,
        "",
    )


def test_the_report_task_has_time_limits_and_survives_its_worker(settings):
    assert generate_report.acks_late and generate_report.reject_on_worker_lost
    assert generate_report.soft_time_limit == settings.REPORT_TIME_LIMIT
    assert generate_report.time_limit == settings.REPORT_TIME_LIMIT + HARD_LIMIT_MARGIN
    assert run_limit() == dt.timedelta(seconds=generate_report.time_limit)


def test_a_ready_report_is_made_again_only_when_asked(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    report = MonthlyReport.objects.create(
        site=centre.alpha,
        month=FEBRUARY,
        status=MonthlyReport.Status.DONE,
        progress=100,
        requested_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks() as plain:
        request_report(site=centre.alpha, month=FEBRUARY)
    assert plain == []
    with django_capture_on_commit_callbacks() as forced:
        request_report(site=centre.alpha, month=FEBRUARY, force=True)
    assert len(forced) == 1
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.PENDING


def test_a_worker_does_not_make_a_report_another_one_has(centre, media):
    since_2024(centre.alpha)
    report = MonthlyReport.objects.create(
        site=centre.alpha,
        month=FEBRUARY,
        status=MonthlyReport.Status.RUNNING,
        progress=40,
        requested_at=timezone.now(),
        started_at=timezone.now(),
        task_id="theirs",
    )
    make_report(report.pk)  # returns at once: no PDF rendered
    report.refresh_from_db()
    assert (report.status, report.progress, report.file.name) == ("running", 40, "")
    make_report(report.pk + 1000)  # gone: nothing to do


def test_the_demo_manager_can_ask_for_last_months_report(db, django_capture_on_commit_callbacks):
    # README, "Done when": the demo manager prints last month's report from the demo history.
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )
    demo = Site.objects.get(slug="demo")
    last_month = (demo.local_date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert DailyStat.objects.filter(site=demo, day__gte=last_month).exists()

    with django_capture_on_commit_callbacks() as callbacks:
        request_report(site=demo, month=last_month)

    assert len(callbacks) == 1


def test_a_run_made_again_meanwhile_stops_at_its_next_step_and_writes_nothing(
    centre, media, monkeypatch
):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    steps = []

    def render_while_a_manager_asks_again(site, month, progress, *, cite=None):
        request_report(site=centre.alpha, month=FEBRUARY, force=True)  # a newer run is queued
        progress(40)  # the old run's next step
        steps.append("rendered on")  # never reached
        return b"%PDF-old"

    monkeypatch.setattr(report_runs, "render_pdf", render_while_a_manager_asks_again)
    make_report(report.pk, run="old")

    assert steps == []
    report.refresh_from_db()
    assert (report.status, report.task_id, bool(report.file)) == (
        MonthlyReport.Status.PENDING,
        "",
        False,
    )
