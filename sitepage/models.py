"""A site's reception protocol: how it receives people, in each language, as its managers wrote
it; else the text the product ships.

Not to be confused with `Site.reception_protocol`, the one line printed on each ticket: that
stays a short line for a receipt printer, this is the whole text of the site's public page and
of the poster at its entrance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citedesmetiers.models import Site


def shipped_protocol() -> list[str]:
    """The protocol the product ships, in the active language, one string per paragraph."""
    return [
        _(
            "The Cité des métiers is free and open to everyone. You do not need to give your "
            "name: reception asks only what your question is about, and gives you a ticket."
        ),
        _(
            "No appointment is needed. Come in when we are open, tell reception what brings "
            "you, and a counsellor will see you in your turn."
        ),
        _(
            "Appointments are for those who would rather talk by phone or video, or who want "
            "to see the same counsellor again. They come from hours set aside for them: "
            "someone with an appointment never goes ahead of the people who walked in."
        ),
        _(
            "Need a proof that you came? Print it yourself from the page of your ticket (its "
            "QR code). It says that a ticket was issued here at that time, nothing about who "
            "held it."
        ),
        _(
            "Something went wrong, or could be better? Tell reception, or ask to speak to the "
            "site's manager. You do not have to give your name for that either."
        ),
    ]


class ReceptionProtocol(models.Model):
    """The protocol of one site in one language. A site with no text in a language shows the
    shipped one (`shipped_protocol`) in that language."""

    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        related_name="protocols",
        verbose_name=gettext_lazy("site"),
    )
    language = models.CharField(gettext_lazy("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(
        gettext_lazy("text"),
        max_length=4000,
        help_text=gettext_lazy(
            "Plain text; an empty line starts a new paragraph. Shown on the site's public page "
            "and on the poster for its entrance."
        ),
    )
    updated_at = models.DateTimeField(gettext_lazy("last changed"), auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("reception protocol")
        verbose_name_plural = gettext_lazy("reception protocols")
        ordering = ["site", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "language"], name="reception_protocol_unique_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} ({self.get_language_display()})"

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def protocol_of(site: Site, language: str) -> tuple[list[str], bool]:
    """The paragraphs of `site`'s protocol in `language`, and whether the site wrote them (False:
    the shipped text, translated into the active language)."""
    own = ReceptionProtocol.objects.filter(site=site, language=language).first()
    if own is not None and own.paragraphs:
        return own.paragraphs, True
    return shipped_protocol(), False
