"""Desks, who sits at them, and the interviews held there. Nothing here can identify a visitor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from citedesmetiers.models import Partner, Site, Theme
from reception.models import APPOINTMENT_CHANNELS, Channel  # noqa: F401 — re-exported


class Desk(models.Model):
    """A counselling place in the open space, serving one or more themes. Visitors see its name
    only — never who sits there or which institution they come from."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="desks")
    name = models.CharField(_("public name"), max_length=40, help_text=_("For example “Desk 3”."))
    spoken_name = models.CharField(
        _("name to announce"),
        max_length=60,
        blank=True,
        help_text=_("How the waiting-room screen says it, if different (e.g. “desk three”)."),
    )
    themes = models.ManyToManyField(Theme, related_name="desks", verbose_name=_("themes served"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("desk")
        verbose_name_plural = _("desks")
        ordering = ["site", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="desk_unique_name_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class DeskSession(models.Model):
    """A counsellor at a desk, from opening to closing. At most one open session per desk and per
    counsellor: enforced by the database, whatever the screens do."""

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="sessions")
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="desk_sessions"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="desk_sessions"
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    resumed_at = models.DateTimeField(
        _("resumed"),
        null=True,
        blank=True,
        help_text=_("The end of the last pause (a desk resumed this morning is in use)."),
    )
    outside_plan = models.BooleanField(
        _("opened outside the plan"),
        default=False,
        db_default=False,  # rows written by code that predates the field (a rolling deployment)
        help_text=_(
            "Set when the presence plan had no session for this desk or this counsellor at the "
            "opening: allowed, and counted apart."
        ),
    )
    themes = models.ManyToManyField(
        Theme,
        verbose_name=_("themes served"),
        related_name="+",
        help_text=_(
            "The themes this sitting calls visitors for: some or all of the desk's, proposed at "
            "the opening from the plan."
        ),
    )
    referred_on = models.BooleanField(
        _("referred a visitor on"),
        default=False,
        help_text=_(
            "Set when this sitting first refers a visitor to another theme: only then does call "
            "next look for the visitors it should leave to other desks."
        ),
    )

    class Meta:
        verbose_name = _("desk session")
        verbose_name_plural = _("desk sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["desk"], condition=Q(closed_at__isnull=True), name="desk_one_open_session"
            ),
            models.UniqueConstraint(
                fields=["counsellor"],
                condition=Q(closed_at__isnull=True),
                name="counsellor_one_open_desk",
            ),
        ]
        indexes = [models.Index(fields=["desk", "closed_at"], name="desksession_open_idx")]

    def __str__(self) -> str:
        return f"{self.desk} ({self.opened_at:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None


class DeskPause(models.Model):
    """One pause of a sitting, from “pause” to “resume” or to the desk's closing: the history the
    desk-time figures read (`DeskSession.paused_since` is the live state the screens read)."""

    session = models.ForeignKey(DeskSession, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("paused"))
    ended_at = models.DateTimeField(_("resumed"), null=True, blank=True)

    class Meta:
        verbose_name = _("desk pause")
        verbose_name_plural = _("desk pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(ended_at__isnull=True), name="deskpause_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="deskpause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        ends = f"{self.ended_at:%H:%M}" if self.ended_at else "…"
        return f"{self.session}: {self.started_at:%H:%M}–{ends}"


# Longer than this, an interview was left running (finished the next morning, or closed by the
# day close): its length is not a sample, neither for the figures nor for the wait estimates.
MAX_INTERVIEW = dt.timedelta(hours=4)


class Interview(models.Model):
    """One conversation at a desk. Coded, never free text about the person."""

    visit = models.ForeignKey(
        "reception.Visit", on_delete=models.CASCADE, related_name="interviews"
    )
    session = models.ForeignKey(DeskSession, on_delete=models.PROTECT, related_name="interviews")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="interviews")
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interviews"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="interviews"
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="interviews", verbose_name=_("theme")
    )
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.IN_PERSON
    )
    topics = models.ManyToManyField("Topic", blank=True, related_name="interviews")
    called_at = models.DateTimeField(
        _("called"),
        null=True,
        blank=True,
        help_text=_(
            "When the visitor was called to this desk (a recall does not move it): the walk to "
            "the desk lasts from here to the start."
        ),
    )
    by_appointment = models.BooleanField(_("by appointment"), default=False, db_default=False)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by_day_close = models.BooleanField(
        _("ended by the day close"),
        default=False,
        help_text=_(
            "Left running when the desk was forgotten open: it ends at closing time, without "
            "outcome, and its length is not counted."
        ),
    )

    class Meta:
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        constraints = [
            models.UniqueConstraint(
                fields=["counsellor"],
                condition=Q(ended_at__isnull=True),
                name="counsellor_one_open_interview",
            ),
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(ended_at__isnull=True),
                name="visit_one_open_interview",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="interview_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["theme", "-ended_at"], name="interview_recent_idx")]

    def __str__(self) -> str:
        return f"{self.desk} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return (self.ended_at - self.started_at) if self.ended_at else None

    @property
    def duration_minutes(self) -> int | None:
        duration = self.duration
        return None if duration is None else max(1, round(duration.total_seconds() / 60))


class Topic(models.Model):
    """A coded topic of an interview; each site keeps its list per theme."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["theme", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["theme", "name"], name="topic_unique_name_per_theme")
        ]

    def __str__(self) -> str:
        return self.name


class Outcome(models.Model):
    """A coded outcome of an interview. Several per interview; a referral records where to."""

    class Code(models.TextChoices):
        INFORMATION = "information", _("information given")
        RESOURCES = "resources", _("resources suggested")
        EVENT = "event", _("event suggested")
        REFERRED_DESK = "referred_desk", _("referred to another desk")
        REFERRED_PARTNER = "referred_partner", _("referred to a partner institution outside")
        COME_BACK = "come_back", _("advised to come back")

    class Reason(models.TextChoices):
        OTHER_VIEW = "other_view", _("another point of view")
        SPECIALIST = "specialist", _("a more specialised question")
        WRONG_THEME = "wrong_theme", _("the question was for another theme")

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="outcomes")
    code = models.CharField(_("outcome"), max_length=20, choices=Code.choices)
    referred_theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referral_reason = models.CharField(max_length=14, choices=Reason.choices, blank=True)
    partner_kind = models.CharField(max_length=30, choices=Partner.Kind.choices, blank=True)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "code"], name="outcome_once_per_interview"
            ),
            models.CheckConstraint(
                condition=~Q(code="referred_desk") | Q(referred_theme__isnull=False),
                name="outcome_referral_has_theme",
            ),
        ]

    def __str__(self) -> str:
        return self.get_code_display()


class PlanMode(models.TextChoices):
    WALK_IN = "walk_in", _("walk-in")
    APPOINTMENTS = "appointments", _("appointments")


class PlannedSession(models.Model):
    """A weekly range of the presence plan: on `weekday`, from `starts` to `ends` (wall-clock
    times in the site's zone), a partner staffs a desk for some themes, every week from
    `valid_from` until `valid_until` (open-ended when empty). Ended, never deleted."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="planned_sessions")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="planned_sessions")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="planned_sessions")
    themes = models.ManyToManyField(Theme, related_name="planned_sessions")
    mode = models.CharField(_("mode"), max_length=12, choices=PlanMode.choices)
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("Appointments only: how they are held (in person, phone, video)."),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="planned_sessions",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("planned session")
        verbose_name_plural = _("planned sessions")
        ordering = ["site", "weekday", "starts", "desk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="planned_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="planned_weekday_range"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="planned_valid_until_after_from",
            ),
        ]
        indexes = [models.Index(fields=["site", "weekday"], name="planned_site_weekday_idx")]

    def __str__(self) -> str:
        return f"{self.desk} {self.weekday} {self.starts:%H:%M}–{self.ends:%H:%M}"


class PlanException(models.Model):
    """A date where the weekly plan does not hold: the site closed, a public holiday, a partner
    absent, or an extra session (with its own desk, partner, themes, mode and times)."""

    class Kind(models.TextChoices):
        SITE_CLOSED = "site_closed", _("site closed")
        PUBLIC_HOLIDAY = "public_holiday", _("public holiday")
        PARTNER_ABSENT = "partner_absent", _("partner absent")
        EXTRA_SESSION = "extra_session", _("extra session")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="plan_exceptions")
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=80, blank=True)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_exceptions"
    )
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_exceptions"
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="plan_exceptions")
    mode = models.CharField(_("mode"), max_length=12, choices=PlanMode.choices, blank=True)
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("Appointments only: how they are held (in person, phone, video)."),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plan_exceptions",
    )
    starts = models.TimeField(_("starts"), null=True, blank=True)
    ends = models.TimeField(_("ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan exception")
        verbose_name_plural = _("plan exceptions")
        ordering = ["site", "day", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="partner_absent") | Q(partner__isnull=False),
                name="plan_absence_has_partner",
            ),
            models.CheckConstraint(
                condition=~Q(kind="extra_session")
                | (
                    Q(desk__isnull=False, partner__isnull=False, starts__isnull=False)
                    & Q(ends__isnull=False, ends__gt=models.F("starts"))
                    & ~Q(mode="")
                ),
                name="plan_extra_session_complete",
            ),
        ]
        indexes = [models.Index(fields=["site", "day"], name="planexception_site_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()}"


# --- What the plan says about a day ------------------------------------------------------------
# Reads of the plan live beside its models so that reception (the queue, the display, the phone
# page) can say when a theme is next served through the one allowed `reception -> counselling`
# dependency on models.


@dataclass(frozen=True)
class Occurrence:
    """One planned session on one day, its times aware and in UTC."""

    desk_id: int
    partner_id: int
    theme_ids: frozenset[int]
    mode: str
    channels: tuple[str, ...]
    counsellor_id: int | None
    starts: dt.datetime
    ends: dt.datetime

    @property
    def walk_in(self) -> bool:
        return self.mode == PlanMode.WALK_IN


def _occurrence(site: Site, day: dt.date, planned, theme_ids) -> Occurrence:
    def utc(time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=site.zone).astimezone(dt.UTC)

    return Occurrence(
        desk_id=planned.desk_id,
        partner_id=planned.partner_id,
        theme_ids=frozenset(theme_ids),
        mode=planned.mode,
        channels=tuple(planned.channels or ()),
        counsellor_id=planned.counsellor_id,
        starts=utc(planned.starts),
        ends=utc(planned.ends),
    )


def plan_between(site: Site, first: dt.date, last: dt.date) -> dict[dt.date, list[Occurrence]]:
    """What the plan holds on each of the site's local days from `first` to `last` (both
    included), exceptions applied, each day's sessions by start. A fixed four queries whatever
    the range: the polled screens ask it for a fortnight."""
    Kind = PlanException.Kind
    exceptions: dict[dt.date, list[PlanException]] = {}
    for exception in PlanException.objects.filter(
        site=site, day__range=(first, last)
    ).prefetch_related("themes"):
        exceptions.setdefault(exception.day, []).append(exception)
    weekly = list(
        PlannedSession.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=first),
            site=site,
            valid_from__lte=last,
        ).prefetch_related("themes")
    )
    themes = {p.pk: [t.pk for t in p.themes.all()] for p in weekly}
    plan: dict[dt.date, list[Occurrence]] = {}
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        todays = exceptions.get(day, [])
        if any(e.kind in (Kind.SITE_CLOSED, Kind.PUBLIC_HOLIDAY) for e in todays):
            plan[day] = []
            continue
        absent = {e.partner_id for e in todays if e.kind == Kind.PARTNER_ABSENT}
        occurrences = [
            _occurrence(site, day, p, themes[p.pk])
            for p in weekly
            if p.weekday == day.weekday()
            and p.valid_from <= day
            and (p.valid_until is None or p.valid_until >= day)
            and p.partner_id not in absent
        ]
        occurrences += [
            _occurrence(site, day, e, (t.pk for t in e.themes.all()))
            for e in todays
            if e.kind == Kind.EXTRA_SESSION
        ]
        plan[day] = sorted(occurrences, key=lambda o: (o.starts, o.desk_id))
    return plan


def sessions_on(site: Site, day: dt.date) -> list[Occurrence]:
    """What the plan holds on the site's local `day`, exceptions applied, by start."""
    return plan_between(site, day, day)[day]


# How far ahead the screens look for a theme's next walk-in session.
NEXT_SERVED_HORIZON_DAYS = 14


def next_served_by_theme(
    site: Site, after: dt.datetime, horizon_days: int = NEXT_SERVED_HORIZON_DAYS
) -> dict[int, Occurrence]:
    """For each theme the plan serves, its first walk-in session that is ongoing at `after` or
    starts later, looking `horizon_days` ahead (themes with none are left out)."""
    first = site.local_date(after)
    plan = plan_between(site, first, first + dt.timedelta(days=horizon_days))
    found: dict[int, Occurrence] = {}
    for day in sorted(plan):
        for occurrence in plan[day]:
            if occurrence.walk_in and occurrence.ends > after:
                for theme_id in occurrence.theme_ids:
                    found.setdefault(theme_id, occurrence)
    return found


def next_served(
    site: Site, theme: Theme, after: dt.datetime, horizon_days: int = NEXT_SERVED_HORIZON_DAYS
) -> Occurrence | None:
    """The first walk-in session serving `theme` that is ongoing at `after` or starts later,
    looking `horizon_days` ahead; None when the plan has none."""
    return next_served_by_theme(site, after, horizon_days).get(theme.pk)


# A desk opened this long before its planned start is opened as planned.
OPENED_EARLY = dt.timedelta(minutes=30)


def planned_for(
    today: list[Occurrence], counsellor, partner: Partner | None, now: dt.datetime
) -> list[Occurrence]:
    """Of the day's plan `today` (sessions_on), the sessions the counsellor may open at `now`:
    planned for them by name, or for their partner with nobody named; ongoing, or starting
    within OPENED_EARLY."""
    return [
        o
        for o in today
        if o.starts - OPENED_EARLY <= now < o.ends
        and (
            o.counsellor_id == counsellor.pk
            or (o.counsellor_id is None and partner is not None and o.partner_id == partner.pk)
        )
    ]


@dataclass(frozen=True)
class Opening:
    """What the plan says of a desk a counsellor opens now: the planned session at that desk, if
    any, and whether the opening is outside the plan (the site's plan has sessions that day, and
    none the counsellor may open now at that desk; a day without any plan, at a site that does
    not plan, has nothing to be outside of)."""

    planned: Occurrence | None
    outside_plan: bool


def opening(desk: Desk, counsellor, partner: Partner | None, now: dt.datetime) -> Opening:
    site = desk.site
    today = sessions_on(site, site.local_date(now))
    here = [o for o in planned_for(today, counsellor, partner, now) if o.desk_id == desk.pk]
    return Opening(planned=here[0] if here else None, outside_plan=bool(today) and not here)


class PlanFeed(models.Model):
    """A counsellor's private calendar address (`/desk/plan/feed/<secret>.ics`): calendar apps
    cannot log in, so the address itself is the key. Only the SHA-256 of its secret is stored;
    replacing the address draws a new secret (the old one stops working) and turning it off
    deletes the row."""

    counsellor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_feed"
    )
    digest = models.CharField(max_length=64, unique=True)
    # The feed is read by a calendar app with no language of its own: it speaks the language of
    # the page where the counsellor made the address.
    language = models.CharField(_("language"), max_length=10)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("calendar address")
        verbose_name_plural = _("calendar addresses")

    def __str__(self) -> str:
        return f"{self.counsellor} {self.created_at:%Y-%m-%d}"
