"""Asking for a monthly or yearly report, made in the `reports` Celery queue (`report_runs`).

A request while a run is on its way starts no second one; a run past its time limit, or a
request no worker took up in that time, counts as failed and is queued again when asked;
"make it again" always queues a new run and drops the old run's result."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Cite, Site
from citedesmetiers.refusals import Refusal

from .models import MonthlyReport
from .report_runs import generate_report, run_limit
from .reports import covered_sites


class ReportError(Refusal):
    pass


Period = MonthlyReport.Period


def check_month(
    site: Site | None,
    month: dt.date,
    now: dt.datetime | None = None,
    *,
    cite: Cite | None = None,
    period: str = Period.MONTH,
) -> None:
    """Refuse a period not over yet, or before the place existed."""
    now = now or timezone.now()
    today = site.local_date(now) if site else timezone.localdate(now)
    if period == Period.YEAR:
        if month.year >= today.year:
            raise ReportError(
                _("This year is not over yet: its report can be made from 1 January next year.")
            )
        if month.year < first_month(site, cite=cite).year:
            raise ReportError(_("No site of this report existed yet in that year."))
        return
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


def request_report(
    *,
    site: Site | None,
    month: dt.date,
    force: bool = False,
    now: dt.datetime | None = None,
    cite: Cite | None = None,
    period: str = Period.MONTH,
) -> MonthlyReport:
    """Queue the report unless it is ready or on its way (and not `force`): a second request
    while one is generating never starts a second generation. A run past its time limit counts
    as failed, and so does a request no worker took up in that time: both are queued again.
    `force` always queues a new run; a run still going is superseded and its result dropped.
    With neither `site` nor `cite`, the network's report; a yearly one's `month` is 1 January."""
    now = now or timezone.now()
    if period == Period.YEAR:
        month = month.replace(month=1, day=1)
    check_month(site, month, now, cite=cite, period=period)
    created = False
    try:
        with transaction.atomic():
            _report, created = MonthlyReport.objects.get_or_create(
                site=site, cite=cite, month=month, period=period, defaults={"requested_at": now}
            )
    except IntegrityError:
        # Created by a simultaneous request, which queues the generation.
        created = False
    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update(of=("self",)).get(
            site=site, cite=cite, month=month, period=period
        )
        if not created and not force:
            if report.status == MonthlyReport.Status.DONE:
                return report
            if report.in_progress and not report.overdue(now, run_limit()):
                return report  # already on its way
        fields = report.queue_again(now)
        report.save(update_fields=fields)
        generate_report.delay_on_commit(report.pk)
    return report


# How far back the daily job looks for a month without a report (the reports page offers as
# many months).
CATCH_UP_MONTHS = 13


# The yearly report waits for 2 January: the last figures of 31 December are caught up on the
# 1st (attendance ticked the next day).
YEARLY_FROM_DAY = 2


def missing_reports(now: dt.datetime | None = None) -> int:
    """Daily: queue the report of every finished month that has none, for every active site,
    every Cité of several sites, and the network, up to CATCH_UP_MONTHS back and not before the
    place existed. Normally that is last month's, on the 1st; after a day the server was down,
    the months it missed. From 2 January, last year's yearly report too."""
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
        wanted = [(Period.MONTH, month) for month in months]
        if today.timetuple().tm_yday >= YEARLY_FROM_DAY:
            wanted.append((Period.YEAR, dt.date(today.year - 1, 1, 1)))
        made = set(
            MonthlyReport.objects.filter(site=site, cite=cite).values_list("period", "month")
        )
        for period, month in wanted:
            if (period, month) in made:
                continue
            try:
                request_report(site=site, cite=cite, month=month, now=now, period=period)
            except ReportError:
                continue
            count += 1
    return count
