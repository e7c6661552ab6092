"""Appointments booked in the presence plan's appointment hours.

The one place of the product, with event registrations, that keeps how to reach a visitor: a
pseudonym and one contact, for what the visitor was told (the call, the video link, the
reminder), erased APPOINTMENT_CONTACT_RETENTION_DAYS after the slot (`purge_contacts`). Reception
and counselling keep nobody's name: the desk only reads these rows, during the slot.

Below counselling in the layers: its call next must see the appointments due at a desk. The
slots, booking and the desk's part are counselling's (counselling.services.appointments), as they
read the plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from citedesmetiers.models import Partner, Site, Theme
from reception.models import APPOINTMENT_CHANNELS, Channel


def booking_language() -> str:
    """The language the booking was made in (the active one, in the request that books): the
    appointment's e-mails speak it, the reminder too, which is sent by a worker."""
    return translation.get_language() or settings.LANGUAGE_CODE


class Appointment(models.Model):
    """A slot of the plan's appointment hours, booked by a visitor (or for them, by reception or
    a counsellor). Who they are is a pseudonym and one contact, kept only for what they were
    told (the call, the video link, the reminder) and erased
    APPOINTMENT_CONTACT_RETENTION_DAYS after the slot; what stays is anonymous: the theme, the
    channel, whether it was attended, when it was booked."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        ATTENDED = "attended", _("attended")
        NO_SHOW = "no_show", _("did not come")
        CANCELLED = "cancelled", _("cancelled")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="appointments")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="appointments")
    desk = models.ForeignKey(
        "counselling.Desk", on_delete=models.PROTECT, related_name="appointments"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="appointments")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    starts = models.DateTimeField(_("starts"))
    ends = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    # What the visitor types or says to check in, or to reception on the phone.
    code = models.CharField(_("booking code"), max_length=8, unique=True)
    # The manage link's secret is random and shown once: only its SHA-256 is kept.
    manage_digest = models.CharField(max_length=64, unique=True, editable=False)
    room = models.CharField(max_length=40, blank=True, editable=False)  # video: unguessable
    pseudonym = models.CharField(_("first name or pseudonym"), max_length=40, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    # SHA-256 of the normalised contact: one active booking per contact and theme.
    contact_digest = models.CharField(max_length=64, blank=True, editable=False)
    language = models.CharField(
        max_length=8,
        default=booking_language,
        db_default="",  # rows written by code that predates the field: the project's language
        editable=False,
    )
    booked_at = models.DateTimeField(_("booked"))
    booked_by_staff = models.BooleanField(_("booked by staff"), default=False)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    # On site, the ticket number given at check-in (the display calls it).
    ticket_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    contact_erased_at = models.DateTimeField(_("contact erased"), null=True, blank=True)
    visit = models.OneToOneField(
        "reception.Visit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointment",
        help_text=_("The visit the desk made of it when it took the appointment."),
    )

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts", "desk"]
        constraints = [
            # Two people taking the last slot at once: the database lets one of them have it.
            models.UniqueConstraint(
                fields=["desk", "starts"],
                condition=Q(status__in=["booked", "attended"]),
                name="appointment_one_per_slot",
            ),
            models.UniqueConstraint(
                fields=["theme", "contact_digest"],
                condition=Q(status="booked") & ~Q(contact_digest=""),
                name="appointment_one_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in APPOINTMENT_CHANNELS]),
                name="appointment_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "starts"], name="appointment_site_starts_idx"),
            models.Index(fields=["status", "starts"], name="appointment_status_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.starts:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.BOOKED

    @property
    def ticket_code(self) -> str:
        """The ticket given at the on-site check-in, as the display calls it (`E-007`)."""
        if self.ticket_number is None:
            return ""
        return f"{self.theme.letter}-{self.ticket_number:03d}"

    @property
    def room_url(self) -> str:
        """The video room's address, from the site's template; empty without one."""
        template = self.site.video_room_template
        if self.channel != Channel.VIDEO or not template or not self.room:
            return ""
        return template.replace("{room}", self.room)


class AppointmentKey(models.Model):
    """One more manage link to an appointment, made for one e-mail as it is sent (the one shown
    at booking is `Appointment.manage_digest`). Only the SHA-256 of the secret is stored: the
    secret itself is in the e-mail, and nowhere else (appointments.keys). Deleted with the
    contact data, which ends every link."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="keys")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.appointment_id} · {self.created_at:%Y-%m-%d %H:%M}"
