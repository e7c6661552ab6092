"""Centre-wide data: staff accounts, sites, partner institutions, themes and who works where."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .clock import local_day_bounds
from .roles import Role


def video_room_validator(value: str) -> None:
    """A video room address template: https, and `{room}` where the room's name goes."""
    if not value:
        return
    if not value.startswith("https://") or value.count("{room}") != 1:
        raise ValidationError(
            _("Give an https:// address with {room} once, where the room's name goes.")
        )
    rest = value.replace("{room}", "")
    if "{" in rest or "}" in rest:
        raise ValidationError(_("Only {room} may stand between braces."))


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
    """A staff member. Visitors never have an account.

    What they may do comes from their memberships: each holds roles at one site, at a Cité (all
    its sites and associated centres) or across the network. Django's own `groups` are not used
    for roles."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)

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
        """The roles this member holds somewhere (at a site, a Cité or the network)."""
        if not hasattr(self, "_roles_cache"):
            names = set(
                StaffMembership.objects.filter(user=self).values_list("roles__name", flat=True)
            )
            self._roles_cache = {role for role in Role if role.value in names}
        return self._roles_cache

    def has_role(self, *roles: Role) -> bool:
        """Whether they hold one of `roles` anywhere; what they may do at a given site is
        `citedesmetiers.access.holds`."""
        return self.is_superuser or bool(self.roles() & set(roles))

    def set_password(self, raw_password) -> None:
        self.__dict__.pop("_session_auth_hash", None)
        super().set_password(raw_password)

    def set_unusable_password(self) -> None:
        self.__dict__.pop("_session_auth_hash", None)
        super().set_unusable_password()

    def get_session_auth_hash(self) -> str:
        # An account read from the directory's cache carries the hash instead of the password
        # hash it is made from (see `citedesmetiers.directory`).
        cached = self.__dict__.get("_session_auth_hash")
        return cached if cached is not None else super().get_session_auth_hash()


class Cite(models.Model):
    """One labelled Cité des métiers: its sites and associated centres. One deployment can host
    several Cités of the network; a Cité's manager manages all of its sites."""

    slug = models.SlugField(_("short name in addresses"), unique=True, max_length=40)
    name = models.CharField(_("name"), max_length=120, unique=True)
    labelled_since = models.DateField(
        _("label awarded on"),
        null=True,
        blank=True,
        help_text=_("When the network awarded the Cité des métiers label to this Cité."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("Cité des métiers")
        verbose_name_plural = _("Cités des métiers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    class Kind(models.TextChoices):
        SITE = "site", _("Cité des métiers site")
        ASSOCIATED = "associated", _("associated centre")

    slug = models.SlugField(_("short name in addresses"), unique=True, max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SITE)
    cite = models.ForeignKey(
        Cite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("Cité des métiers"),
        help_text=_("The Cité this site or associated centre belongs to."),
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
    video_room_template = models.CharField(
        _("video room address"),
        max_length=200,
        blank=True,
        default="",
        db_default="",  # rows written by code that predates the field (a rolling deployment)
        validators=[video_room_validator],
        help_text=_(
            "The address of a video appointment's room, with {room} where its unguessable name "
            "goes; for example https://visio.example.org/cdm-{room} (the centre's own Jitsi)."
        ),
    )
    long_wait_minutes = models.PositiveSmallIntegerField(
        _("alert after a wait of (minutes)"),
        null=True,
        blank=True,
        default=45,
        db_default=45,  # rows written by code that predates the field (a rolling deployment)
        validators=[MinValueValidator(5)],
        help_text=_(
            "Reception's overview and the dashboard flag a theme whose longest wait passes this. "
            "Empty: never."
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

    def day_bounds(self, day: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
        """Where the site's local `day` (today by default) starts and ends, in UTC."""
        return local_day_bounds(self.zone, day or self.local_date())

    def is_open(self, moment: dt.datetime | None = None) -> bool:
        local = (moment or timezone.now()).astimezone(self.zone)
        return any(
            period.opens <= local.time() < period.closes
            for period in self.opening_periods.all()
            if period.weekday == local.weekday()
        )

    def last_closing(self, moment: dt.datetime) -> dt.datetime | None:
        """The last closing time of the site's local day of `moment`, as an aware datetime; None
        on a day the site does not open."""
        local = moment.astimezone(self.zone)
        closings = [p.closes for p in self.opening_periods.all() if p.weekday == local.weekday()]
        if not closings:
            return None
        return dt.datetime.combine(local.date(), max(closings), tzinfo=self.zone)

    def day_is_over(self, moment: dt.datetime) -> bool:
        """Past the last closing time of the site's local day (or a day the site does not open)."""
        closing = self.last_closing(moment)
        return closing is None or moment >= closing


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
    appointment_minutes = models.PositiveSmallIntegerField(
        _("length of an appointment (minutes)"),
        default=45,
        db_default=45,  # rows written by code that predates the field (a rolling deployment)
        validators=[MinValueValidator(10), MaxValueValidator(240)],
        help_text=_("Appointment hours of the presence plan are cut into slots of this length."),
    )
    last_check_in_minutes = models.PositiveSmallIntegerField(
        _("last check-in (minutes before the last desk ends)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(240)],
        help_text=_(
            "Reception stops checking visitors in for this theme this many minutes before the "
            "last walk-in desk planned for it that day ends (it can still check one in anyway). "
            "Empty: as long as the site is open."
        ),
    )

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
    """Where a staff member works and in which roles: at one site, at a Cité (every site and
    associated centre of it), or across the network (neither). For counsellors, the partner
    that delegates them there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    cite = models.ForeignKey(
        Cite,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("Cité des métiers"),
        help_text=_("For roles at every site of a Cité. Leave both empty for the whole network."),
    )
    roles = models.ManyToManyField(
        "auth.Group", blank=True, related_name="memberships", verbose_name=_("roles")
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("delegated by"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(site__isnull=True) | Q(cite__isnull=True),
                name="membership_site_or_cite",
            ),
            models.UniqueConstraint(
                fields=["user", "site"],
                condition=Q(site__isnull=False),
                name="membership_unique_user_site",
            ),
            models.UniqueConstraint(
                fields=["user", "cite"],
                condition=Q(cite__isnull=False),
                name="membership_unique_user_cite",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(site__isnull=True, cite__isnull=True),
                name="membership_unique_user_network",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.place}"

    @property
    def place(self) -> str:
        return str(self.site or self.cite or _("the whole network"))


class AuditEntry(models.Model):
    """A change of who may do what, an export of data that leaves the system, or a change of what
    a public screen shows: who did it, when, and at which place. Read by the managers of that
    place in the administration."""

    class Action(models.TextChoices):
        ROLE_GIVEN = "role_given", _("role given")
        ROLE_TAKEN = "role_taken", _("role taken away")
        ACCOUNT_CHANGED = "account_changed", _("account changed")
        EXPORT = "export", _("export")
        DISPLAY_CHANGED = "display_changed", _("waiting-room screen changed")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept when the account is deleted.
    actor_email = models.CharField(_("by"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    subject = models.CharField(_("subject"), max_length=200)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cite = models.ForeignKey(
        Cite, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.subject}"


class OutboxMessage(models.Model):
    """Work that must not be lost (an e-mail, a task), written in the same transaction as the
    change it follows and done later by the outbox's drain (`citedesmetiers.outbox`). A broker
    or mail server that is down only delays it: the row waits, and is tried again with backoff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("to do")
        DONE = "done", _("done")
        FAILED = "failed", _("given up")

    # The handler that does the work, registered by the app that owns it ("events.mail").
    name = models.CharField(max_length=100)
    # Primary keys and kinds only, never personal data: rows outlive the purges for a while.
    payload = models.JSONField(default=dict)
    # Work queued twice with the same key is done once (e.g. one resent e-mail per hour).
    once_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # Not before: the next attempt after a failure.
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=models.Q(status="pending"),
                name="outbox_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"
