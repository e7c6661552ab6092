"""Asking for a monthly report, and making it (in the `reports` Celery queue).

A run belongs to the task that claimed it. A worker that dies while rendering (killed, out of
memory) has its message handed to another worker, whose run takes the report over; a run past
its time limit, or a request no worker took up in that time, counts as failed and is queued
again when asked; "make it again" always queues a new run and drops the old run's result."""

from __future__ import annotations

import datetime as dt
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Cite, MonthlyReport, Site
from .refusals import Refusal
from .reports import covered_sites, render_pdf


class ReportError(Refusal):
    pass


class Superseded(Exception):
    """The run was replaced by a newer one while it rendered: it stops without a result."""


def check_month(
    site: Site | None, month: dt.date, now: dt.datetime | None = None, *, cite: Cite | None = None
) -> None:
    now = now or timezone.now()
    today = site.local_date(now) if site else timezone.localdate(now)
    if month >= today.replace(day=1):
        raise ReportError(
            _("This month is not over yet: its report can be made from the 1st of next month.")
        )
    if site is not None and month < first_month(site):
        raise ReportError(_("%(site)s did not exist yet in that month.") % {"site": site.name})
    if site is None and month < first_month(None, cite=cite):
        raise ReportError(_("No site existed yet in that month."))


def first_month(site: Site | None, *, cite: Cite | None = None) -> dt.date:
    """The first month with a report: the site's first, or the first of any site of the Cité
    or of the network (today's month when there is none yet)."""
    if site is not None:
        return site.local_date(site.created).replace(day=1)
    sites = Site.objects.filter(cite=cite) if cite is not None else Site.objects.all()
    created = sites.order_by("created").values_list("created", flat=True).first()
    return timezone.localdate(created or timezone.now()).replace(day=1)


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


def request_report(
    *,
    site: Site | None,
    month: dt.date,
    force: bool = False,
    now: dt.datetime | None = None,
    cite: Cite | None = None,
) -> MonthlyReport:
    """Queue the report unless it is ready or on its way (and not `force`): a second request
    while one is generating never starts a second generation. A run past its time limit counts
    as failed, and so does a request no worker took up in that time: both are queued again.
    `force` always queues a new run; a run still going is superseded and its result dropped.
    With neither `site` nor `cite`, the network's report."""
    now = now or timezone.now()
    check_month(site, month, now, cite=cite)
    created = False
    try:
        with transaction.atomic():
            _report, created = MonthlyReport.objects.get_or_create(
                site=site, cite=cite, month=month, defaults={"requested_at": now}
            )
    except IntegrityError:
        # Created by a simultaneous request, which queues the generation.
        created = False
    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update(of=("self",)).get(
            site=site, cite=cite, month=month
        )
        if not created and not force:
            if report.status == MonthlyReport.Status.DONE:
                return report
            if report.in_progress and not report.overdue(now, run_limit()):
                return report  # already on its way
        fields = report.queue_again(now)
        report.save(update_fields=fields)
        from .tasks import generate_report  # circular: the task calls make_report below

        generate_report.delay_on_commit(report.pk)
    return report


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
    name = f"{report.place_key.replace(':', '-')}-{report.month:%Y-%m}.pdf"
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


# How far back the daily job looks for a month without a report (the reports page offers as
# many months).
CATCH_UP_MONTHS = 13


def missing_reports(now: dt.datetime | None = None) -> int:
    """Daily: queue the report of every finished month that has none, for every active site,
    every Cité of several sites, and the network, up to CATCH_UP_MONTHS back and not before the
    place existed. Normally that is last month's, on the 1st; after a day the server was down,
    the months it missed."""
    now = now or timezone.now()
    count = 0
    places = [(site, None) for site in Site.objects.filter(active=True)]
    places += [(None, cite) for cite in Cite.objects.all() if len(covered_sites(None, cite)) > 1]
    for site, cite in [*places, (None, None)]:
        today = site.local_date(now) if site else timezone.localdate(now)
        month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        oldest = first_month(site, cite=cite)
        months = []
        while len(months) < CATCH_UP_MONTHS and month >= oldest:
            months.append(month)
            month = (month - dt.timedelta(days=1)).replace(day=1)
        made = set(
            MonthlyReport.objects.filter(site=site, cite=cite).values_list("month", flat=True)
        )
        for month in months:
            if month in made:
                continue
            try:
                request_report(site=site, cite=cite, month=month, now=now)
            except ReportError:
                continue
            count += 1
    return count
