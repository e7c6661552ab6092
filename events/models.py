"""Workshops, information days and the like, and the places people take in them.

Registrations are the only place where contact data exists in the whole system: a first name or
pseudonym and, optionally, an e-mail address — erased a few days after the event by the purge job,
which keeps the rows (anonymous) so the counts stay true."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citedesmetiers.codes import CODE_ALPHABET, CODE_LENGTH, new_code  # noqa: F401 — migrations
from citedesmetiers.models import Partner, Site, Theme

from .recurrence import Recurrence

# Events take place between these years (in the site's local time): a typo such as year 1 or
# 9999 is refused with a message instead of stored. (Year 1 at midnight in Paris is before year
# 1 in UTC: PostgreSQL stores it, then cannot hand it back, and every list holding it failed.)
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The same window in UTC, for the database's own check: wide enough for every time zone (±14 h)
# and for a session that ends the next day.
EARLIEST_MOMENT = dt.datetime(FIRST_YEAR - 1, 12, 31, tzinfo=dt.UTC)
LATEST_MOMENT = dt.datetime(LAST_YEAR + 1, 1, 3, tzinfo=dt.UTC)
WINDOW_MESSAGE = _("Give a date between 2000 and 2100.")  # FIRST_YEAR and LAST_YEAR


def window_error() -> ValidationError:
    return ValidationError(WINDOW_MESSAGE, code="out_of_window")


def validate_event_moment(value: dt.datetime) -> None:
    if not EARLIEST_MOMENT <= value <= LATEST_MOMENT:
        raise window_error()


class Series(models.Model):
    """A recurring workshop (“every 2nd Tuesday”); its sessions are ordinary events."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="event_series")
    name = models.CharField(_("name"), max_length=200)
    # How the sessions recur (events.recurrence.Recurrence), told in the reader's language.
    frequency = models.CharField(max_length=10, blank=True, editable=False)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    interval = models.PositiveSmallIntegerField(default=1, editable=False)
    ordinal = models.SmallIntegerField(default=1, editable=False)
    # Only for series made before the recurrence was stored: how it was described then.
    rule = models.CharField(_("recurrence"), max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return f"{self.name} ({self.describe()})"

    def describe(self) -> str:
        """“the 2nd Tuesday of each month”, in the active language."""
        if not self.frequency or self.weekday is None:
            return self.rule
        return Recurrence(
            frequency=self.frequency,
            weekday=self.weekday,
            interval=self.interval,
            ordinal=self.ordinal,
        ).describe()


class Event(models.Model):
    class Kind(models.TextChoices):
        WORKSHOP = "workshop", _("workshop")
        INFORMATION_DAY = "information_day", _("information day")
        SYMPOSIUM = "symposium", _("symposium")
        JOB_DATING = "job_dating", _("job-dating")
        CLUB = "club", _("club session")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        CANCELLED = "cancelled", _("cancelled")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("everyone")
        YOUNG = "young", _("young people")
        JOB_SEEKERS = "job_seekers", _("job seekers")
        EMPLOYEES = "employees", _("employees")
        CREATORS = "creators", _("business creators")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="events")
    series = models.ForeignKey(
        Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WORKSHOP)
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="events", verbose_name=_("themes")
    )
    description = models.TextField(_("description"), blank=True)
    partners = models.ManyToManyField(
        Partner, blank=True, related_name="events", verbose_name=_("co-organised with")
    )
    starts_at = models.DateTimeField(_("starts"), validators=[validate_event_moment])
    ends_at = models.DateTimeField(_("ends"), validators=[validate_event_moment])
    place = models.CharField(_("room or address"), max_length=200, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(
        _("places"),
        null=True,
        blank=True,
        help_text=_("Leave empty for an open-door event without registration."),
    )
    audience = models.CharField(
        _("intended for"),
        max_length=20,
        choices=Audience.choices,
        default=Audience.EVERYONE,
        help_text=_("Shown to visitors; registration stays open to everyone."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("reminder, days before"), default=2, help_text=_("0: no reminder.")
    )
    confirm_by_email = models.BooleanField(
        _("confirm registrations by e-mail"),
        default=False,
        help_text=_("For events that fill up: a place is taken only once the link is clicked."),
    )
    walk_ins = models.PositiveIntegerField(_("people without registration at the door"), default=0)
    # The iCalendar SEQUENCE: one more each time registrants are told of a new date or place, so
    # their calendars replace the entry instead of keeping the old one.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    contacts_purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(starts_at__gte=EARLIEST_MOMENT, ends_at__lte=LATEST_MOMENT),
                name="event_dates_in_window",
                violation_error_message=WINDOW_MESSAGE,
            ),
        ]
        indexes = [models.Index(fields=["site", "status", "starts_at"], name="event_upcoming_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.pk])

    @property
    def needs_registration(self) -> bool:
        return self.capacity is not None

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def is_open_for_registration(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.needs_registration
            and self.starts_at > timezone.now()
        )


def site_language() -> str:
    """The project's language, read when a registration is made (not frozen in a migration)."""
    return settings.LANGUAGE_CODE


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for e-mail confirmation")
        CONFIRMED = "confirmed", _("registered")
        WAITING = "waiting", _("on the waiting list")
        CANCELLED = "cancelled", _("cancelled")

    class Source(models.TextChoices):
        ONLINE = "online", _("online")
        ON_THE_SPOT = "on_the_spot", _("on the spot")

    ACTIVE = (Status.PENDING, Status.CONFIRMED, Status.WAITING)

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ONLINE)
    # Contact data: the minimum, erased by the purge after the event.
    pseudonym = models.CharField(_("first name or pseudonym"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail address (optional)"), blank=True)
    language = models.CharField(max_length=8, default=site_language)
    code = models.CharField(max_length=8, unique=True, default=new_code, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the owner of the address pressed "confirm" in the page of our e-mail's link: only then
    # do our e-mails greet them by the pseudonym (typed by whoever registered the address).
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            # The same e-mail address never takes two places in one event.
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=~Q(email="") & Q(status__in=["pending", "confirmed", "waiting"]),
                name="registration_one_per_email",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "created_at"], name="registration_queue_idx"),
            models.Index(
                fields=["status", "reminder_sent_at"],
                name="registration_reminder_idx",
                condition=Q(status="confirmed", reminder_sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.code}"


class RegistrationKey(models.Model):
    """One secret link to a registration: to see or cancel it (`manage`), or to confirm its
    e-mail address (`confirm`). Only the SHA-256 of the secret is stored, so neither the
    database nor its backups hand out links; the secret itself is in the e-mail (or on the
    screen) it was made for. Every e-mail gets a link of its own, so an older e-mail's link
    keeps working; all are deleted when the registration is cancelled and when its contact data
    is purged (events.keys)."""

    class Purpose(models.TextChoices):
        MANAGE = "manage", _("see or cancel")
        CONFIRM = "confirm", _("confirm the e-mail address")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="keys")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.registration_id} · {self.purpose}"
