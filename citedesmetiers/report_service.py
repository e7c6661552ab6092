"""Asking for a monthly report, and making it (in the `reports` Celery queue)."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import MonthlyReport, Site


class ReportError(Exception):
    pass


def check_month(site: Site | None, month: dt.date, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    today = site.local_date(now) if site else timezone.localdate(now)
    if month >= today.replace(day=1):
        raise ReportError(
            _("This month is not over yet: its report can be made from the 1st of next month.")
        )
    if site is not None and month < site.local_date(site.created).replace(day=1):
        raise ReportError(_("%(site)s did not exist yet in that month.") % {"site": site.name})


def request_report(
    *, site: Site | None, month: dt.date, force: bool = False, now: dt.datetime | None = None
) -> MonthlyReport:
    """Queue the report unless it is ready (and not `force`) or already being made: a second
    request while one is generating never starts a second generation."""
    now = now or timezone.now()
    check_month(site, month, now)
    created = False
    try:
        with transaction.atomic():
            _report, created = MonthlyReport.objects.get_or_create(
                site=site, month=month, defaults={"requested_at": now}
            )
    except IntegrityError:
        # Created by a simultaneous request, which queues the generation.
        created = False
    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update(of=("self",)).get(site=site, month=month)
        if not created and report.status in (
            MonthlyReport.Status.PENDING,
            MonthlyReport.Status.RUNNING,
        ):
            if report.progress or report.requested_at > now - dt.timedelta(minutes=30):
                return report  # already on its way
        elif report.status == MonthlyReport.Status.DONE and not force:
            return report
        report.status = MonthlyReport.Status.PENDING
        report.progress = 0
        report.error = ""
        report.requested_at = now
        report.save(update_fields=["status", "progress", "error", "requested_at"])
        from .tasks import generate_report

        generate_report.delay_on_commit(report.pk)
    return report


def make_report(report_id: int) -> None:
    with transaction.atomic():
        report = (
            MonthlyReport.objects.select_for_update(of=("self",))
            .select_related("site")
            .filter(pk=report_id)
            .order_by()
            .first()
        )
        if report is None or report.status != MonthlyReport.Status.PENDING:
            return  # gone, done, or another worker has it
        report.status = MonthlyReport.Status.RUNNING
        report.progress = 5
        report.save(update_fields=["status", "progress"])

    def progress(percent: int) -> None:
        MonthlyReport.objects.filter(pk=report_id).update(progress=percent)

    from .reports import render_pdf

    try:
        pdf = render_pdf(report.site, report.month, progress)
    except Exception as error:
        MonthlyReport.objects.filter(pk=report_id).update(
            status=MonthlyReport.Status.FAILED, error=str(error)[:300]
        )
        raise
    name = f"{report.site.slug if report.site else 'network'}-{report.month:%Y-%m}.pdf"
    if report.file:
        report.file.delete(save=False)
    report.file.save(name, ContentFile(pdf), save=False)
    report.status = MonthlyReport.Status.DONE
    report.progress = 100
    report.generated_at = timezone.now()
    report.save(update_fields=["file", "status", "progress", "generated_at"])


def last_month_reports(now: dt.datetime | None = None) -> int:
    """On the 1st: the previous month's report of every site, and the network's."""
    now = now or timezone.now()
    count = 0
    for site in [*Site.objects.filter(active=True), None]:
        today = site.local_date(now) if site else timezone.localdate(now)
        month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        try:
            request_report(site=site, month=month, now=now)
            count += 1
        except ReportError:
            continue
    return count
