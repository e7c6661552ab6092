"""Every write of the catalogue's staff side on one record: save a resource (with this site's
holding), withdraw or restore it. Spreadsheet imports are `resources.imports`.

Each is keyword-only and runs in one transaction; words of new titles and keywords go to the
suggestion lexicon in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from citedesmetiers.models import Site, Theme
from citedesmetiers.refusals import Refusal

from .models import Audience, Holding, Purpose, Resource
from .search import refresh_terms


class CatalogueError(Refusal):
    """A refusal to show to the information officer, as it is."""


def decide_holding(
    held: Holding | None,
    *,
    resource: Resource,
    site: Site,
    shelf_mark: str | None,
    copies: int | None,
) -> tuple[str | None, Holding | None]:
    """What a site's holding of a record becomes — the one rule of the staff form and of the
    import: copies 0 removes it; a missing one is made (1 copy unless said); a shelf mark of
    None keeps the current one. Returns ("delete" | "create" | "update" | None, the holding)."""
    if copies == 0:
        return ("delete", held) if held is not None else (None, None)
    if held is None:
        made = Holding(
            resource=resource, site=site, shelf_mark=shelf_mark or "", copies=copies or 1
        )
        return "create", made
    if shelf_mark is not None:
        held.shelf_mark = shelf_mark
    if copies is not None:
        held.copies = copies
    return "update", held


def _set_holding(
    resource: Resource, site: Site, *, shelf_mark: str | None, copies: int | None
) -> None:
    held = Holding.objects.filter(resource=resource, site=site).first()
    action, holding = decide_holding(
        held, resource=resource, site=site, shelf_mark=shelf_mark, copies=copies
    )
    if action == "delete":
        holding.delete()
    elif action == "create":
        holding.save()
    elif action == "update":
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
