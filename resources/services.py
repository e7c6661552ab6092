"""Every write of the catalogue's staff side: save a resource (with this site's holding), withdraw
or restore it, import a spreadsheet all or nothing.

Each is keyword-only and runs in one transaction; words of new titles and keywords go to the
suggestion lexicon in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citedesmetiers.models import Site, Theme

from . import spreadsheets
from .models import Audience, Holding, Purpose, Resource
from .search import refresh_terms


class CatalogueError(Exception):
    """A refusal to show to the information officer, as it is."""


class ImportRefused(CatalogueError):
    """Nothing was imported; `plan` (when there is one) says row by row why."""

    def __init__(self, message: str, plan: spreadsheets.ImportPlan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


def _set_holding(
    resource: Resource, site: Site, *, shelf_mark: str | None, copies: int | None
) -> None:
    """copies 0: the site no longer holds it; shelf_mark None: keep the current one."""
    if copies == 0:
        Holding.objects.filter(resource=resource, site=site).delete()
        return
    holding = Holding.objects.filter(resource=resource, site=site).first()
    if holding is None:
        Holding.objects.create(
            resource=resource, site=site, shelf_mark=shelf_mark or "", copies=copies or 1
        )
        return
    if shelf_mark is not None:
        holding.shelf_mark = shelf_mark
    if copies is not None:
        holding.copies = copies
    holding.save(update_fields=["shelf_mark", "copies"])


def save_resource(
    *,
    site: Site,
    values: dict[str, Any],
    purposes: Iterable[Purpose],
    audiences: Iterable[Audience],
    themes: Iterable[Theme],
    shelf_mark: str,
    copies: int,
    resource_id: int | None = None,
) -> Resource:
    """Create (resource_id None) or change a resource, and set this site's holding.

    `themes` are this site's: the themes other sites gave the resource are kept."""
    try:
        with transaction.atomic():
            if resource_id is None:
                resource = Resource()
            else:
                resource = Resource.objects.select_for_update().get(pk=resource_id)
            for name, value in values.items():
                setattr(resource, name, value)
            resource.save()
            resource.purposes.set(purposes)
            resource.audiences.set(audiences)
            others = [] if resource_id is None else list(resource.themes.exclude(site=site))
            resource.themes.set([*others, *(t for t in themes if t.site_id == site.pk)])
            _set_holding(resource, site, shelf_mark=shelf_mark, copies=copies)
            refresh_terms(Resource.objects.filter(pk=resource.pk))
    except IntegrityError as error:
        # The form checked the ISBN/ISSN; someone else saved the same one in between.
        raise CatalogueError(
            _("Another record has just been saved with this ISBN or ISSN. Check and try again.")
        ) from error
    return resource


def _set_withdrawn(resource_id: int, withdrawn: bool) -> Resource:
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        if resource.withdrawn != withdrawn:
            resource.withdrawn = withdrawn
            resource.save(update_fields=["withdrawn", "updated"])
    return resource


def withdraw_resource(*, resource_id: int) -> Resource:
    """Take a resource out of the public catalogue; its record and holdings stay."""
    return _set_withdrawn(resource_id, True)


def restore_resource(*, resource_id: int) -> Resource:
    return _set_withdrawn(resource_id, False)


def import_catalogue(
    *, site: Site, data: bytes, fmt: str | None = None, holdings: bool = True
) -> spreadsheets.ImportPlan:
    """Import a catalogue spreadsheet all or nothing: the file is checked again inside the
    transaction, and one bad row (or a clash with a concurrent change) writes nothing.

    Raises ImportRefused (with the plan) or spreadsheets.SpreadsheetError."""
    try:
        with transaction.atomic():
            plan = spreadsheets.plan_import(data, fmt, site=site, holdings=holdings)
            if not plan.ok:
                n = len(plan.error_rows)
                raise ImportRefused(
                    ngettext(
                        "Nothing was imported: %(n)s row has errors.",
                        "Nothing was imported: %(n)s rows have errors.",
                        n,
                    )
                    % {"n": n},
                    plan,
                )
            _apply(plan, site)
    except IntegrityError as error:
        raise ImportRefused(
            _("The catalogue changed during the import, so nothing was imported. Try again.")
        ) from error
    return plan


def _apply(plan: spreadsheets.ImportPlan, site: Site) -> None:
    to_update = [
        row.resource_id for row in plan.rows if row.status == spreadsheets.UPDATE and row.changes
    ]
    existing: dict[int, Resource] = {}
    for start in range(0, len(to_update), 500):
        existing |= Resource.objects.in_bulk(to_update[start : start + 500])
    written: list[int] = []
    for row in plan.rows:
        if row.status == spreadsheets.NEW:
            resource = Resource(**row.values)
        elif row.changes:
            resource = existing[row.resource_id]
            for name, value in row.values.items():
                setattr(resource, name, value)
        else:
            continue
        if row.isbn:
            resource.isbn = row.isbn
        if row.issn:
            resource.issn = row.issn
        resource.save()
        if row.purposes is not None:
            resource.purposes.set(row.purposes)
        if row.audiences is not None:
            resource.audiences.set(row.audiences)
        if row.holding is not None:
            _set_holding(resource, site, **row.holding)
        written.append(resource.pk)
    for start in range(0, len(written), 500):
        refresh_terms(Resource.objects.filter(pk__in=written[start : start + 500]))
