"""The anonymous daily figures every app counts, the record of the days rolled into them, and the
monthly and yearly reports made from them. Their tables keep the names they had in
`citedesmetiers`."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from citedesmetiers.models import Cite, Site


class DailyStat(models.Model):
    """One anonymous daily figure: `value` for `metric` broken down by `key` ("dim=value|…").

    Each app's `stats.py` turns its raw rows of a site-day into these; re-aggregating a day
    replaces that day's rows. Reports and dashboards read only these, so their cost grows with
    the number of days, not of visits, and they survive the purge of raw rows."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    source = models.CharField(max_length=20)
    metric = models.CharField(max_length=40)
    key = models.CharField(max_length=200, blank=True)
    value = models.BigIntegerField()

    class Meta:
        db_table = "citedesmetiers_dailystat"
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day", "source", "metric", "key"], name="dailystat_unique"
            )
        ]
        indexes = [models.Index(fields=["site", "metric", "day"], name="dailystat_metric_idx")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.metric} {self.key}={self.value}"


class AggregatedDay(models.Model):
    """Which site-days have been rolled into daily figures (and when): raw rows of a day may be
    purged only once it is here."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    at = models.DateTimeField()

    class Meta:
        db_table = "citedesmetiers_aggregatedday"
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="aggregatedday_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}"


class MonthlyReport(models.Model):
    """A generated activity report (PDF) of one site, of a Cité (all its sites), or of the whole
    network (neither): monthly, or yearly (the label's self-assessment), by `period`.

    A run belongs to the Celery task that claimed it (`task_id`): only that task's progress and
    result are written, so a run superseded by "make it again" changes nothing when it ends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be generated")
        RUNNING = "running", _("being generated")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    class Failure(models.TextChoices):
        TIME_LIMIT = "time_limit", _("took longer than its time limit")
        WORKER_LOST = "worker_lost", _("its worker stopped each time")
        ERROR = "error", _("an error stopped it")

    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        help_text=_("Empty for a Cité's report and for the network's."),
    )
    cite = models.ForeignKey(
        Cite,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        help_text=_("For a Cité's report across its sites."),
    )

    class Period(models.TextChoices):
        MONTH = "month", _("monthly")
        YEAR = "year", _("yearly")

    period = models.CharField(
        max_length=5,
        choices=Period.choices,
        default=Period.MONTH,
        db_default=Period.MONTH,  # rows written by code that predates the field
    )
    month = models.DateField(
        help_text=_("The first day of its period: of the month, or 1 January for a year.")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="reports/", blank=True)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Runs started for the last request (a lost worker's included).")
    )
    generated_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "citedesmetiers_monthlyreport"
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "site__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "period", "month"],
                condition=models.Q(site__isnull=False),
                name="report_unique_site_period",
            ),
            models.UniqueConstraint(
                fields=["cite", "period", "month"],
                condition=models.Q(cite__isnull=False),
                name="report_unique_cite_period",
            ),
            models.UniqueConstraint(
                fields=["period", "month"],
                condition=models.Q(site__isnull=True, cite__isnull=True),
                name="report_unique_network_period",
            ),
            models.CheckConstraint(
                condition=models.Q(site__isnull=True) | models.Q(cite__isnull=True),
                name="report_site_or_cite",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place_key} {self.period_key}"

    @property
    def yearly(self) -> bool:
        return self.period == self.Period.YEAR

    @property
    def period_key(self) -> str:
        """How its address and its file name give its period: 2026-03, or 2026 for a year."""
        return f"{self.month:%Y}" if self.yearly else f"{self.month:%Y-%m}"

    @property
    def period_name(self) -> str:
        """Its period as its reader says it: “March 2026”, or “2026”."""
        return (
            self.period_key if self.yearly else formats.date_format(self.month, "YEAR_MONTH_FORMAT")
        )

    @property
    def pdf_url(self) -> str:
        if self.yearly:
            return reverse("manage:yearly_report_pdf", args=[self.place_key, self.month.year])
        return reverse(
            "manage:report_pdf", args=[self.place_key, self.month.year, self.month.month]
        )

    @property
    def place_key(self) -> str:
        """What the report's address names: a site's slug, `cite:<slug>`, or `network`."""
        return report_place_key(self.site, self.cite)

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    def overdue(self, now: dt.datetime, limit: dt.timedelta) -> bool:
        """Waiting, or running, for longer than a run may last: lost on the way. A run past the
        task's hard time limit is over, whatever this row says (its worker was killed)."""
        if self.status == self.Status.RUNNING:
            return self.started_at is None or self.started_at < now - limit
        if self.status == self.Status.PENDING:
            return self.requested_at < now - limit
        return False

    def state(self, now: dt.datetime, limit: dt.timedelta) -> str:
        """What its manager is told: "done", "waiting", "waiting_long" (no worker took it up),
        "running", "stalled" (a run past its time limit: it counts as failed) or "failed"."""
        if self.status == self.Status.RUNNING:
            return "stalled" if self.overdue(now, limit) else "running"
        if self.status == self.Status.PENDING:
            return "waiting_long" if self.overdue(now, limit) else "waiting"
        return str(self.status)

    def queue_again(self, now: dt.datetime) -> list[str]:
        """Back to waiting for a new run (the run of another task is superseded)."""
        self.status = self.Status.PENDING
        self.progress = 0
        self.failure = ""
        self.error = ""
        self.requested_at = now
        self.started_at = None
        self.task_id = ""
        self.attempts = 0
        return [
            "status",
            "progress",
            "failure",
            "error",
            "requested_at",
            "started_at",
            "task_id",
            "attempts",
        ]


def report_place_key(site: Site | None, cite: Cite | None) -> str:
    """How a report's address names its place (see `MonthlyReport.place_key`)."""
    if site is not None:
        return site.slug
    return f"cite:{cite.slug}" if cite is not None else "network"
