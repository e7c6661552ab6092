"""Making a monthly or yearly report: one run of the `figures.generate_report` task, in the
`reports` Celery queue. The task lives here, beside the run it makes, so that asking for a report
(`report_service`) can queue it without importing the daily jobs of `tasks`, which ask for
reports in turn; `tasks` imports it for the worker to find.

A run belongs to the task that claimed it. A worker that dies while rendering (killed, out of
memory) has its message handed to another worker, whose run takes the report over; a run past
its time limit counts as failed; a run superseded by "make it again" drops its result."""

from __future__ import annotations

import datetime as dt
import uuid

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from citedesmetiers.replica import replica_reads

from . import yearly
from .models import MonthlyReport
from .reports import render_pdf


class Superseded(Exception):
    """The run was replaced by a newer one while it rendered: it stops without a result."""


# The hard time limit is this much above the soft one (REPORT_TIME_LIMIT): time for the soft
# limit's exception to record the failure before the worker is killed.
HARD_LIMIT_MARGIN = 60
# A worker lost this many times on one report (killed, out of memory) makes it count as failed,
# instead of being handed again and again to the next worker.
MAX_ATTEMPTS = 3


def run_limit() -> dt.timedelta:
    """How long a run may last: the task's hard time limit. A run older than that is over,
    whatever its row still says (its worker was lost), and counts as failed."""
    return dt.timedelta(seconds=settings.REPORT_TIME_LIMIT + HARD_LIMIT_MARGIN)


def make_report(report_id: int, *, run: str | None = None) -> None:
    """Make the PDF as run `run` (the Celery task's id). A run finds the report waiting, or
    running under its own id: its message was handed out again because the worker making it
    was lost (killed, out of memory), and this run takes over."""
    run = run or uuid.uuid4().hex
    with transaction.atomic():
        report = (
            MonthlyReport.objects.select_for_update(of=("self",))
            .select_related("site", "cite")
            .filter(pk=report_id)
            .order_by()
            .first()
        )
        if report is None:
            return  # gone
        lost_before = report.status == MonthlyReport.Status.RUNNING and report.task_id == run
        if report.status != MonthlyReport.Status.PENDING and not lost_before:
            return  # done, failed, or another run has it
        if lost_before and report.attempts >= MAX_ATTEMPTS:
            report.status = MonthlyReport.Status.FAILED
            report.failure = MonthlyReport.Failure.WORKER_LOST
            report.save(update_fields=["status", "failure"])
            return
        report.status = MonthlyReport.Status.RUNNING
        report.task_id = run
        report.started_at = timezone.now()
        report.attempts += 1
        report.progress = 5
        report.save(update_fields=["status", "task_id", "started_at", "attempts", "progress"])

    mine = MonthlyReport.objects.filter(
        pk=report_id, task_id=run, status=MonthlyReport.Status.RUNNING
    )

    def progress(percent: int) -> None:
        if not mine.update(progress=percent):
            raise Superseded  # "make it again" queued a newer run: this one stops here

    try:
        # The figures from the replica, if there is one (the progress is written to the primary).
        with replica_reads():
            if report.yearly:
                pdf = yearly.render_pdf(report.site, report.month.year, progress, cite=report.cite)
            else:
                pdf = render_pdf(report.site, report.month, progress, cite=report.cite)
    except Superseded:
        return
    except SoftTimeLimitExceeded:
        mine.update(status=MonthlyReport.Status.FAILED, failure=MonthlyReport.Failure.TIME_LIMIT)
        raise
    except Exception as error:
        mine.update(
            status=MonthlyReport.Status.FAILED,
            failure=MonthlyReport.Failure.ERROR,
            error=str(error)[:300],
        )
        raise
    name = f"{report.place_key.replace(':', '-')}-{report.period_key}.pdf"
    with transaction.atomic():
        report = mine.select_for_update(of=("self",)).first()
        if report is None:
            return  # superseded by a newer request while rendering: that run makes it
        if report.file:
            report.file.delete(save=False)
        report.file.save(name, ContentFile(pdf), save=False)
        report.status = MonthlyReport.Status.DONE
        report.progress = 100
        report.generated_at = timezone.now()
        report.save(update_fields=["file", "status", "progress", "generated_at"])


# Shared with the task's old name, still registered for the messages queued before the rename.
TASK_OPTIONS = {
    "bind": True,
    # Acknowledged once done, and handed to another worker if this one dies meanwhile (killed,
    # out of memory; CELERY_TASK_ACKS_LATE and _REJECT_ON_WORKER_LOST, for every task): the next
    # run takes over (`make_report`), up to MAX_ATTEMPTS.
    # The soft limit records the failure; the hard one kills a render stuck beyond it.
    "soft_time_limit": settings.REPORT_TIME_LIMIT,
    "time_limit": settings.REPORT_TIME_LIMIT + HARD_LIMIT_MARGIN,
}


@shared_task(name="figures.generate_report", **TASK_OPTIONS)
def generate_report(self, report_id: int) -> None:
    make_report(report_id, run=self.request.id)
