"""Centre-wide data: staff accounts, sites, partner institutions, themes and who works where."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role


class StaffManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("Staff accounts need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A staff member. Visitors never have an account."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    works_at_all_sites = models.BooleanField(
        _("works at every site"),
        default=False,
        help_text=_("For network staff, e.g. a network manager who compares sites."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = StaffManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def roles(self) -> set[Role]:
        if not hasattr(self, "_roles_cache"):
            names = set(self.groups.values_list("name", flat=True))
            self._roles_cache = {role for role in Role if role.value in names}
        return self._roles_cache

    def has_role(self, *roles: Role) -> bool:
        return self.is_superuser or bool(self.roles() & set(roles))


class Site(models.Model):
    class Kind(models.TextChoices):
        SITE = "site", _("Cité des métiers site")
        ASSOCIATED = "associated", _("associated centre")

    slug = models.SlugField(_("short name in addresses"), unique=True, max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SITE)
    cite = models.CharField(
        _("Cité des métiers"),
        max_length=120,
        blank=True,
        help_text=_(
            "The Cité this site or associated centre belongs to, when a deployment hosts several."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Paris",
        choices=[(name, name) for name in sorted(available_timezones())],
    )
    language = models.CharField(
        _("language of announcements"),
        max_length=8,
        default="fr",
        choices=[
            ("fr", "Français"),
            ("en", "English"),
            ("it", "Italiano"),
            ("es", "Español"),
            ("pt", "Português"),
        ],
    )
    reception_protocol = models.CharField(
        _("reception line printed on tickets"),
        max_length=200,
        blank=True,
        help_text=_(
            "For example: “Free, anonymous, without appointment. Please keep this ticket.”"
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.zone)

    def local_date(self, moment: dt.datetime | None = None) -> dt.date:
        return (moment or timezone.now()).astimezone(self.zone).date()

    def is_open(self, moment: dt.datetime | None = None) -> bool:
        local = (moment or timezone.now()).astimezone(self.zone)
        return any(
            period.opens <= local.time() < period.closes
            for period in self.opening_periods.all()
            if period.weekday == local.weekday()
        )


class OpeningPeriod(models.Model):
    """One opening stretch of a weekday, in the site's local time. A day can have several
    (closed at lunch), or none (closed)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_periods")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening period")
        verbose_name_plural = _("opening hours")
        ordering = ["site", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")),
                name="opening_period_closes_after_opens",
            ),
            models.UniqueConstraint(
                fields=["site", "weekday", "opens"], name="opening_period_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError(_("A period must close after it opens."))


class Partner(models.Model):
    """An institution that delegates counsellors. Recorded for reports; never shown to visitors."""

    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", _("employment agency")
        GUIDANCE = "guidance", _("guidance centre")
        YOUTH = "youth", _("youth information and guidance")
        TRAINING = "training", _("adult-training body")
        CHAMBER = "chamber", _("chamber of commerce or trades")
        BUSINESS_CREATION = "business_creation", _("business-creation association")
        INTERNATIONAL = "international", _("mobility and work abroad")
        OTHER = "other", _("other")

    name = models.CharField(_("institution"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner institution")
        verbose_name_plural = _("partner institutions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


ticket_letter_validator = RegexValidator(
    r"^[A-Z]{1,2}$", _("Use one or two capital letters without accents, such as E or CR.")
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #1f6feb."))


class Theme(models.Model):
    """The kind of question a visitor brings; visitors are routed by theme, never by institution."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(_("name"), max_length=80)
    letter = models.CharField(
        _("ticket letter"), max_length=2, validators=[ticket_letter_validator]
    )
    colour = models.CharField(
        _("colour"), max_length=7, default="#1d4ed8", validators=[colour_validator]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["site", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "letter"], name="theme_unique_letter_per_site"),
            models.UniqueConstraint(fields=["site", "name"], name="theme_unique_name_per_site"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """Which site a staff member works at and, for counsellors, which partner delegates them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("delegated by"),
    )

    class Meta:
        verbose_name = _("site membership")
        verbose_name_plural = _("site memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="membership_unique_user_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site}"


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
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="aggregatedday_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}"


class MonthlyReport(models.Model):
    """A generated monthly activity report (PDF) of one site, or of the whole network.

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
        help_text=_("Empty for the network report across sites."),
    )
    month = models.DateField(help_text=_("The first day of the month."))
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
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "site__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "month"],
                condition=models.Q(site__isnull=False),
                name="report_unique_site_month",
            ),
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(site__isnull=True),
                name="report_unique_network_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site or 'network'} {self.month:%Y-%m}"

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
