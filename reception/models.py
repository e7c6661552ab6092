"""Anonymous walk-ins. A visit is known only by its ticket code and a random token; there is no
field that could hold a name, an e-mail address, a phone number or an identity number (a test
checks every model of reception and counselling for that)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from citedesmetiers.models import Site, Theme
from events.models import Event
from resources.models import Resource

# How long a ticket missed at a desk ("did not come") or marked "Left" by reception may still be
# put back in the queue at its place: the visitor's phone keeps following it that long.
UNDO_WINDOW = dt.timedelta(minutes=10)


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    PHONE = "phone", _("phone")
    VIDEO = "video", pgettext_lazy("channel", "video call")
    CHAT = "chat", _("chat")


# How appointments may be held: on site, or remotely.
APPOINTMENT_CHANNELS = (Channel.IN_PERSON, Channel.PHONE, Channel.VIDEO)


class AgeBracket(models.TextChoices):
    UNDISCLOSED = "", _("prefer not to say")
    UNDER_18 = "u18", _("under 18")
    FROM_18_TO_25 = "18-25", _("18 to 25")
    FROM_26_TO_44 = "26-44", _("26 to 44")
    FROM_45_TO_54 = "45-54", _("45 to 54")
    FROM_55 = "55+", _("55 and over")


class Situation(models.TextChoices):
    UNDISCLOSED = "", _("prefer not to say")
    STUDENT = "student", _("pupil or student")
    JOB_SEEKER = "job_seeker", _("job seeker")
    EMPLOYED = "employed", _("employed")
    SELF_EMPLOYED = "self_employed", _("self-employed")
    NOT_WORKING = "not_working", _("not working")
    RETIRED = "retired", _("retired")


class Area(models.TextChoices):
    UNDISCLOSED = "", _("prefer not to say")
    TOWN = "town", _("this town")
    METRO = "metro", _("the surrounding area")
    REGION = "region", _("elsewhere in the region")
    ELSEWHERE = "elsewhere", _("further away")


class VisitQuerySet(models.QuerySet):
    def leave_at_closing(self, at: dt.datetime) -> int:
        """`Visit.leave(AT_CLOSING, at)` for every visit of the queryset still waiting or
        called, in one statement. Returns how many it closed."""
        return self.filter(status__in=[Visit.Status.WAITING, Visit.Status.CALLED]).update(
            status=Visit.Status.LEFT, left_how=Visit.LeftHow.AT_CLOSING, desk=None, ended_at=at
        )


class Visit(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        CALLED = "called", _("called")
        IN_INTERVIEW = "in_interview", _("in interview")
        DONE = "done", _("done")
        LEFT = "left", _("left")
        NO_SHOW = "no_show", _("did not come")

    class LeftHow(models.TextChoices):
        WALKED_OUT = "walked_out", _("walked out (seen by reception)")
        BY_THEMSELVES = "by_themselves", _("left the queue from their phone")
        AT_CLOSING = "closing", _("still waiting at closing time")

    OPEN_STATUSES = (Status.WAITING, Status.CALLED, Status.IN_INTERVIEW)

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="visits", verbose_name=_("current theme")
    )
    first_theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="+", verbose_name=_("theme at arrival")
    )
    local_date = models.DateField(_("day (site's local time)"))
    letter = models.CharField(_("ticket letter"), max_length=2)
    number = models.PositiveIntegerField(_("ticket number"))
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    checkin_key = models.UUIDField(
        null=True, blank=True, editable=False, help_text="Makes a resubmitted check-in harmless."
    )
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.IN_PERSON
    )
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.WAITING
    )
    left_how = models.CharField(max_length=14, choices=LeftHow.choices, blank=True)
    desk = models.ForeignKey(
        "counselling.Desk",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        help_text=_("The desk that called the visitor, while called or in interview."),
    )
    referred_by = models.ForeignKey(
        "counselling.DeskSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        # Only ever read along the queue index (no index of its own to keep up at each check-in).
        db_index=False,
        help_text=_(
            "The desk sitting that referred the visitor to another theme: while another desk "
            "serves that theme, it leaves the visitor to it (another point of view)."
        ),
    )
    by_appointment = models.BooleanField(
        _("by appointment"),
        default=False,
        db_default=False,  # rows written by code that predates the field (a rolling deployment)
        help_text=_("Made by a desk taking an appointment: never in the walk-in queue."),
    )
    arrived_at = models.DateTimeField(_("arrived"))
    queued_at = models.DateTimeField(
        _("joined the queue"),
        help_text=_("Kept on referral: a referred visitor already waited."),
    )
    called_at = models.DateTimeField(_("called"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("did not come"), null=True, blank=True)
    started_at = models.DateTimeField(_("interview started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    age_bracket = models.CharField(
        _("age"), max_length=6, choices=AgeBracket.choices, blank=True, default=""
    )
    situation = models.CharField(
        _("situation"), max_length=14, choices=Situation.choices, blank=True, default=""
    )
    area = models.CharField(
        _("lives in"), max_length=10, choices=Area.choices, blank=True, default=""
    )
    # The visitor's own language, chosen at reception for this visit: its ticket, phone page and
    # printouts speak it. Empty: the site's language. Coarse, and counted only in aggregates.
    language = models.CharField(
        _("visitor's language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        db_default="",  # rows written by code that predates the field (a rolling deployment)
    )

    # The wait the screens showed a newcomer of the theme when the visitor checked in, to learn
    # how honest the estimates are (see queues.shown_wait). `quoted_at` empty: none was shown
    # lately; set with `quoted_wait` empty: the screens said no desk served the theme.
    quoted_wait = models.PositiveSmallIntegerField(_("wait quoted (min)"), null=True, blank=True)
    quoted_at = models.DateTimeField(_("wait quoted at"), null=True, blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "local_date", "letter", "number"], name="visit_unique_ticket"
            ),
            # A desk holds at most one visitor at a time (called or in interview).
            models.UniqueConstraint(
                fields=["desk"],
                condition=Q(status__in=["called", "in_interview"]),
                name="visit_one_per_desk",
            ),
            models.UniqueConstraint(
                fields=["site", "checkin_key"],
                condition=Q(checkin_key__isnull=False),
                name="visit_unique_checkin_key",
            ),
        ]
        indexes = [
            # The queue: waiting visits of a theme, oldest first. Partial, so it stays small.
            models.Index(
                fields=["theme", "queued_at"],
                condition=Q(status="waiting"),
                name="visit_queue_idx",
            ),
            # Matches call next's ORDER BY queued_at, id exactly: no sort, however long the queue.
            models.Index(
                fields=["site", "queued_at", "id"],
                condition=Q(status="waiting"),
                name="visit_site_queue_idx",
            ),
            models.Index(fields=["site", "local_date"], name="visit_site_day_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("reception:visitor", args=[self.token])

    @property
    def code(self) -> str:
        return f"{self.letter}-{self.number:03d}"

    @property
    def spoken_code(self) -> str:
        return f"{self.letter} {self.number}"

    @property
    def spoken_language(self) -> str:
        """The language the visitor's pages and printouts speak: theirs, else the site's."""
        return self.language or self.site.language

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def may_come_back(self, now: dt.datetime | None = None) -> bool:
        """Missed at a desk or marked "Left" by reception within UNDO_WINDOW: it may be put back."""
        now = now or timezone.now()
        if self.status == self.Status.NO_SHOW:
            return self.no_show_at is not None and now - self.no_show_at <= UNDO_WINDOW
        return (
            self.status == self.Status.LEFT
            and self.left_how == self.LeftHow.WALKED_OUT
            and self.ended_at is not None
            and now - self.ended_at <= UNDO_WINDOW
        )

    # --- the visit's life: each transition checks it is allowed, sets the fields and returns
    # the ones it changed, for `save(update_fields=…)`. The services lock the row first, refuse
    # with a message the person understands, and publish the change; `NotAllowed` here is the
    # last guard, for a service that forgot to check.

    class NotAllowed(Exception):
        """A transition asked of a visit in a status it cannot leave that way."""

    def _from(self, transition: str, *statuses: str) -> None:
        if self.status not in statuses:
            raise self.NotAllowed(f"{self.code}: cannot {transition} a visit {self.status}")

    def call(self, desk, at: dt.datetime) -> list[str]:
        """A desk calls the waiting visitor. Call next makes this same transition in one
        conditional UPDATE (counselling.services.calling._call_head): keep the two alike."""
        self._from("call", self.Status.WAITING)
        self.status = self.Status.CALLED
        self.desk = desk
        self.called_at = at
        self.referred_by = None
        return ["status", "desk", "called_at", "referred_by"]

    def start(self, at: dt.datetime) -> list[str]:
        """The called visitor sits down: the interview begins (`started_at` keeps the first
        one, before any referral). The desk makes this same transition in one conditional
        UPDATE (counselling.services.interviews._start_called): keep the two alike."""
        self._from("start", self.Status.CALLED)
        self.status = self.Status.IN_INTERVIEW
        if self.started_at is None:
            self.started_at = at
        return ["status", "started_at"]

    def finish(self, at: dt.datetime) -> list[str]:
        """The interview is over, and so is the visit. The desk makes this same transition in
        one conditional UPDATE (counselling.services.interviews._finish_held): keep the two
        alike."""
        self._from("finish", self.Status.IN_INTERVIEW)
        self.status = self.Status.DONE
        self.desk = None
        self.ended_at = at
        return ["status", "desk", "ended_at"]

    def refer(self, theme: Theme, by) -> list[str]:
        """After the interview, back to waiting for another theme, keeping the arrival time;
        `by` (the desk sitting) is not to call them back itself."""
        self._from("refer", self.Status.IN_INTERVIEW)
        self.status = self.Status.WAITING
        self.theme = theme
        self.desk = None
        self.called_at = None
        self.referred_by = by
        return ["status", "theme", "desk", "called_at", "referred_by"]

    def hand_back(self) -> list[str]:
        """The desk gives the visitor back to the queue, at their place."""
        self._from("hand back", self.Status.CALLED, self.Status.IN_INTERVIEW)
        self.status = self.Status.WAITING
        self.desk = None
        self.called_at = None
        return ["status", "desk", "called_at"]

    def miss(self, at: dt.datetime) -> list[str]:
        """Called, the visitor did not come to the desk."""
        self._from("mark as not come", self.Status.CALLED)
        self.status = self.Status.NO_SHOW
        self.no_show_at = at
        self.desk = None
        return ["status", "no_show_at", "desk"]

    def put_back(self) -> list[str]:
        """Missed at a desk, the visitor turns up after all: back to waiting at their place."""
        self._from("put back", self.Status.NO_SHOW)
        self.status = self.Status.WAITING
        self.no_show_at = None
        self.called_at = None
        return ["status", "no_show_at", "called_at"]

    def leave(self, how: str, at: dt.datetime) -> list[str]:
        """The visitor is gone from the queue (or, at closing, from a desk that called them).
        Returns the fields it changed."""
        self._from("mark as left", self.Status.WAITING, self.Status.CALLED)
        self.status = self.Status.LEFT
        self.left_how = how
        self.desk = None
        self.ended_at = at
        return ["status", "left_how", "desk", "ended_at"]

    def come_back(self) -> list[str]:
        """Back to waiting, at the place its unchanged `queued_at` gives it."""
        self._from("bring back", self.Status.LEFT)
        self.status = self.Status.WAITING
        self.left_how = ""
        self.ended_at = None
        return ["status", "left_how", "ended_at"]


class TicketCounter(models.Model):
    """The last ticket number given per site, local day and letter. Row-locked while a ticket is
    issued, so numbers never repeat nor skip, even with several tablets at once."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    letter = models.CharField(max_length=2)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "local_date", "letter"], name="ticketcounter_unique_day_letter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.letter} {self.local_date}: {self.last_number}"


class Call(models.Model):
    """One call (or recall) of a ticket to a desk, as the waiting-room screen announces it."""

    class Kind(models.TextChoices):
        CALL = "call", _("call")
        RECALL = "recall", _("recall")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="calls")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="calls")
    desk = models.ForeignKey("counselling.Desk", on_delete=models.PROTECT, related_name="calls")

    class OutOfOrder(models.TextChoices):
        ACCESSIBILITY = "accessibility", _("accessibility or health need")
        CHILD = "child", _("accompanied by a child")
        PUT_BACK = "put_back", _("came back after being called")
        SHORT_QUESTION = "short", _("very short question")
        OTHER = "other", _("other reason")

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CALL)
    out_of_order = models.CharField(
        _("called out of order because"), max_length=14, choices=OutOfOrder.choices, blank=True
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["site", "-at"], name="call_site_recent_idx")]

    def __str__(self) -> str:
        return f"{self.visit} → {self.desk}"


class ProofOfAttendance(models.Model):
    """The short code printed on a visitor's proof of attendance (reception.proof), and what it
    stands for: a ticket issued at this site at this minute — nothing about who held it. Kept
    after raw visits are purged, so a slip stays verifiable; one row per ticket, so printing the
    slip again gives the same code."""

    code = models.CharField(max_length=8, unique=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    ticket = models.CharField(max_length=12)
    arrived_at = models.DateTimeField()  # to the minute, as printed
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "ticket", "arrived_at"], name="proof_once_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.ticket}"


class LateCheckInDay(models.Model):
    """A local day on which reception checks late arrivals in after hours at a site. One row per
    site and day, so every tablet of the site sees the same state; it holds no one's identity,
    only when it was turned on. Turned off by deleting the row; the next day starts without."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField(_("day (site's local time)"))
    since = models.DateTimeField(_("turned on at"))

    class Meta:
        verbose_name = _("day of late check-ins")
        verbose_name_plural = _("days of late check-ins")
        constraints = [
            models.UniqueConstraint(fields=["site", "local_date"], name="latecheckinday_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.local_date}"


# --- the take-away list: what a counsellor hands over during an interview -----------------------
# (Their tables keep the names they had in resources and events, where they began.)


class TakeAwayItem(models.Model):
    """A resource a counsellor handed over during an interview: the visitor sees the list on their
    phone and prints it. Tied to the anonymous visit only."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="take_away")
    # Named so that the catalogue can tell a resource in use without knowing about visits.
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="take_away_items")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "resources_takeawayitem"
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "resource"], name="takeaway_once_per_visit")
        ]

    def __str__(self) -> str:
        return f"{self.visit} · {self.resource}"


class TakeAwayEvent(models.Model):
    """An event a counsellor suggested during an interview, on the visitor's take-away list."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="take_away_events")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "events_takeawayevent"
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "event"], name="takeaway_event_once_per_visit")
        ]

    def __str__(self) -> str:
        return f"{self.visit} · {self.event}"
