"""Three-tap feedback: what visitors answer after their visit, on their phone or at the exit
kiosk — closed questions only, no free text.

An answer is keyed to its site, its day, the theme of the visit and the partner institutions of
its interviews, never to the visit itself nor to a counsellor: the visit's token is kept apart,
as a digest in `FeedbackClaim`, which says that a visit answered but not what. The answer's
key is a random UUID, so its order says nothing about which claim it follows. Raw rows are
rolled into the daily figures (`feedback.stats`) and purged with the visits."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from citedesmetiers.models import Partner, Site, Theme


class GotWhat(models.TextChoices):
    YES = "yes", pgettext_lazy("feedback", "yes")
    PARTLY = "partly", pgettext_lazy("feedback", "partly")
    NO = "no", pgettext_lazy("feedback", "no")


class Wait(models.TextChoices):
    FINE = "fine", pgettext_lazy("feedback wait", "fine")
    LONG = "long", pgettext_lazy("feedback wait", "long")
    TOO_LONG = "too_long", pgettext_lazy("feedback wait", "too long")


class Recommend(models.TextChoices):
    YES = "yes", pgettext_lazy("feedback", "yes")
    MAYBE = "maybe", pgettext_lazy("feedback", "maybe")
    NO = "no", pgettext_lazy("feedback", "no")


class Helped(models.TextChoices):
    """What would have helped: a coded list, several may be ticked."""

    SHORTER_WAIT = "shorter_wait", _("a shorter wait")
    KNOW_WAIT = "know_wait", _("knowing the wait before coming")
    MORE_TIME = "more_time", _("more time with the counsellor")
    SIGNPOSTING = "signposting", _("clearer signs to find my way")
    LANGUAGE = "language", _("help in my language")
    DOCUMENTS = "documents", _("documents to take away")
    HOURS = "hours", _("other opening hours")
    ACCESS = "access", _("easier access (disability, pushchair)")


# The questions, in the order they are asked: (field, its choices).
QUESTIONS = (("got_what", GotWhat), ("wait", Wait), ("recommend", Recommend))


class Source(models.TextChoices):
    PHONE = "phone", _("visitor's phone")
    KIOSK = "kiosk", _("exit kiosk")


class FeedbackAnswer(models.Model):
    """One visitor's answers. Each question may be left out (empty), not all of them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day of the visit (site's local time)"))
    source = models.CharField(_("given on"), max_length=8, choices=Source.choices)
    theme = models.ForeignKey(
        Theme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The theme the visitor came for; empty at the kiosk."),
    )
    partners = models.ManyToManyField(
        Partner,
        blank=True,
        related_name="+",
        help_text=_("The partner institutions of the visit's interviews; never a counsellor."),
    )
    got_what = models.CharField(
        _("got what they came for"), max_length=8, choices=GotWhat.choices, blank=True
    )
    wait = models.CharField(_("the wait"), max_length=8, choices=Wait.choices, blank=True)
    recommend = models.CharField(
        _("would recommend"), max_length=8, choices=Recommend.choices, blank=True
    )

    class Meta:
        verbose_name = _("feedback answer")
        verbose_name_plural = _("feedback answers")
        indexes = [models.Index(fields=["site", "day"], name="feedback_site_day_idx")]
        constraints = [
            # A kiosk answer knows no visit, hence no theme nor partner.
            models.CheckConstraint(
                condition=~models.Q(source="kiosk") | models.Q(theme__isnull=True),
                name="feedback_kiosk_has_no_theme",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.source}"


class FeedbackHelp(models.Model):
    """One code ticked in an answer's "what would have helped" list."""

    answer = models.ForeignKey(FeedbackAnswer, on_delete=models.CASCADE, related_name="helped")
    code = models.CharField(max_length=16, choices=Helped.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "code"], name="feedback_help_once"),
        ]

    def __str__(self) -> str:
        return self.code


class FeedbackClaim(models.Model):
    """That a visit has answered: one row per visit token (as its SHA-256 digest, never the
    token), which makes a second answer impossible, whatever the tabs and clicks. It says
    nothing of what was answered; the site and day are there for the purge."""

    visit_digest = models.CharField(max_length=64, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}"
