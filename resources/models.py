"""The self-service documentation catalogue, shared by the sites that hold each item."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from citedesmetiers.models import Site, Theme

from .identifiers import normalize_isbn, normalize_issn
from .text import fold


class Purpose(models.Model):
    """What a visitor wants to do (find a job, learn about professions…): how the catalogue is
    organised and browsed. Configurable; five are created by a migration."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Audience(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    class Kind(models.TextChoices):
        BOOK = "book", _("book")
        PERIODICAL = "periodical", _("periodical")
        LEAFLET = "leaflet", _("leaflet")
        WEBSITE = "website", _("website")
        VIDEO = "video", pgettext_lazy("resource kind", "video")
        SOFTWARE = "software", _("software")
        OTHER = "other", pgettext_lazy("resource kind", "other")

    class Language(models.TextChoices):
        FR = "fr", _("French")
        EN = "en", _("English")
        IT = "it", _("Italian")
        ES = "es", _("Spanish")
        PT = "pt", _("Portuguese")
        DE = "de", _("German")
        OTHER = "other", _("other")

    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.BOOK)
    purposes = models.ManyToManyField(Purpose, related_name="resources", verbose_name=_("purposes"))
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="resources", verbose_name=_("themes")
    )
    audiences = models.ManyToManyField(
        Audience, blank=True, related_name="resources", verbose_name=_("audiences")
    )
    authors = models.CharField(_("authors"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=6, choices=Language.choices, default=Language.FR
    )
    isbn = models.CharField(_("ISBN"), max_length=13, null=True, blank=True, unique=True)
    issn = models.CharField(_("ISSN"), max_length=9, null=True, blank=True, unique=True)
    price = models.DecimalField(
        _("price (€)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    url = models.URLField(_("web address"), max_length=500, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=400, blank=True)
    opinion = models.TextField(
        _("information officer's opinion"), blank=True, help_text=_("Staff only; never public.")
    )
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    # Lower-case, accent-free title + keywords + authors + summary: the search on SQLite, and the
    # source of the typo suggestions everywhere. PostgreSQL also keeps a weighted tsvector column
    # (added by migration 0002, maintained by a trigger) for ranked French full-text search.
    folded = models.TextField(editable=False, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["title"]
        indexes = [models.Index(fields=["withdrawn", "kind"], name="resource_kind_idx")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.refresh_folded()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "folded"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("resources:detail", args=[self.pk])

    def refresh_folded(self) -> None:
        """What the search on SQLite and the suggestions read; bulk writes call it themselves."""
        self.folded = fold(" ".join([self.title, self.keywords, self.authors, self.summary]))

    def clean_fields(self, exclude=None) -> None:
        # Normalise identifiers before the length checks ("978-2-…" is longer than 13 characters)
        # and report a bad check digit against its own field.
        errors = {}
        exclude = set(exclude or ())
        for name, normalize in (("isbn", normalize_isbn), ("issn", normalize_issn)):
            value = getattr(self, name)
            if name in exclude or not value:
                setattr(self, name, value or None)
                continue
            try:
                setattr(self, name, normalize(value))
            except ValidationError as error:
                errors[name] = error.messages
                exclude.add(name)
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


class Holding(models.Model):
    """Where a site keeps a resource."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="holdings")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="holdings")
    shelf_mark = models.CharField(_("shelf / call number"), max_length=60, blank=True)
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        constraints = [
            models.UniqueConstraint(fields=["resource", "site"], name="holding_unique_site")
        ]

    def __str__(self) -> str:
        return f"{self.resource} @ {self.site}"


class ResourceViewCount(models.Model):
    """Anonymous: how many times a resource's page was opened on a day. No per-person tracking."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="view_counts")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="viewcount_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.day}: {self.views}"


class SearchCount(models.Model):
    """Anonymous: searches per day, and how many found nothing. The empty queries themselves are
    kept (folded, without anything about who typed them) so officers know what to acquire."""

    day = models.DateField()
    query = models.CharField(max_length=120, blank=True, help_text="Folded text; empty = all.")
    searches = models.PositiveIntegerField(default=0)
    empty = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "query"], name="searchcount_unique_day_query")
        ]
        indexes = [models.Index(fields=["day"], condition=Q(empty__gt=0), name="search_empty_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.query!r}: {self.searches}/{self.empty}"


class SearchTerm(models.Model):
    """The folded words of titles and keywords: what “did you mean …?” suggests from (trigram
    similarity on PostgreSQL, difflib on SQLite)."""

    term = models.CharField(max_length=60, unique=True)
    frequency = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.term


class CatalogueImport(models.Model):
    """A catalogue spreadsheet an information officer uploaded, from its check (the dry run) to
    its import, all or nothing. Small files are checked and imported during the request; larger
    ones by a worker, which the officer follows on a progress page."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("being checked")
        CHECKED = "checked", _("checked, waiting for confirmation")
        QUEUED = "queued", _("waiting to be imported")
        RUNNING = "running", _("being imported")
        DONE = "done", _("imported")
        FAILED = "failed", _("not imported")

    # A job whose worker has said nothing for this long has stopped (it beats at every step).
    STALE_AFTER = dt.timedelta(minutes=5)

    token = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    name = models.CharField(max_length=120)
    fmt = models.CharField(max_length=4)
    holdings = models.BooleanField(default=True)
    # The file itself, until it is imported or dropped: workers on other machines read it too.
    data = models.BinaryField(blank=True)
    rows = models.PositiveIntegerField(
        default=0, help_text="Counted by the check; estimated before."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    written = models.PositiveIntegerField(default=0, help_text="Rows written so far.")
    plan = models.JSONField(default=dict, blank=True, help_text="The dry run's summary.")
    result = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)
    # Who is working on it now: each write checks it, so a worker that was thought dead (and
    # whose work was undone) cannot write again.
    runner = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")
        constraints = [
            # Imports write one after the other: the undo of one never meets the rows of another.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="catalogueimport_one_running",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        if self.status not in (self.Status.CHECKING, self.Status.RUNNING):
            return False
        last = self.heartbeat_at or self.created_at
        return last < (now or timezone.now()) - self.STALE_AFTER


class ImportBatch(models.Model):
    """What one short write of an import changed, kept until the import is done, so that a later
    failure (or a worker that stops) can undo it: that is how an import stays all or nothing
    while never holding the database's write lock for long."""

    job = models.ForeignKey(CatalogueImport, on_delete=models.CASCADE, related_name="batches")
    created = models.JSONField(default=list, help_text="Ids of the records it created.")
    previous = models.JSONField(default=list, help_text="The records it changed, as they were.")

    def __str__(self) -> str:
        return f"{self.job_id} #{self.pk}"


class ResourceOfTheWeek(models.Model):
    """The record a site's information officer puts forward on its waiting-room screen, with a
    QR code to its page in the catalogue. One per site at most. Whether it may still be shown is
    checked when the screen reads it (`resources.week.shown_at`): a record withdrawn since, or
    no longer held at the site, is not shown."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="resource_of_the_week")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="weeks")
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("resource of the week")
        verbose_name_plural = _("resources of the week")

    def __str__(self) -> str:
        return f"{self.site}: {self.resource}"
