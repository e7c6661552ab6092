"""The resource of the week: the record a site's information officer puts forward on its
waiting-room screen (with a QR code to its catalogue page), how it is chosen or taken off, and
what the screen shows.

A site may put forward a record it holds, or an online one that no site holds (a website, a
video): never a withdrawn record, nor one only other sites keep on their shelves."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers import audit
from citedesmetiers.live import publish_change
from citedesmetiers.models import AuditEntry, Site, User

from .models import Holding, Resource, ResourceOfTheWeek
from .services import CatalogueError


def _may_be_shown_at(site: Site):
    """The records `site` may put forward, as a filter on Resource."""
    held_here = Holding.objects.filter(resource=OuterRef("pk"), site=site)
    held_anywhere = Holding.objects.filter(resource=OuterRef("pk"))
    return Exists(held_here) | ~Exists(held_anywhere)


def shown_at(site: Site) -> Resource | None:
    """The site's resource of the week, if it may still be shown: one query."""
    return (
        Resource.objects.filter(_may_be_shown_at(site), weeks__site=site, withdrawn=False)
        .order_by()
        .first()
    )


def chosen_at(site: Site) -> ResourceOfTheWeek | None:
    """The site's choice as the officer made it (shown on the staff pages even when the screen
    no longer shows it, so that they see why)."""
    return ResourceOfTheWeek.objects.filter(site=site).select_related("resource").first()


def may_be_shown(resource: Resource, site: Site) -> bool:
    return (
        not resource.withdrawn
        and Resource.objects.filter(_may_be_shown_at(site), pk=resource.pk).exists()
    )


def choose(*, site: Site, resource_id: int, officer: User) -> Resource:
    """Put the record forward on the site's screen, instead of the one before (if any)."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if resource is None:
            raise CatalogueError(_("This record does not exist."))
        if resource.withdrawn:
            raise CatalogueError(
                _("A withdrawn record cannot be the resource of the week. Restore it first.")
            )
        if not may_be_shown(resource, site):
            raise CatalogueError(
                _(
                    "%(site)s does not hold this record: only a record on its shelves, or an "
                    "online one, can be the resource of the week there."
                )
                % {"site": site.name}
            )
        # One row per site (a unique key): two officers choosing at once leave one choice.
        ResourceOfTheWeek.objects.update_or_create(
            site=site, defaults={"resource": resource, "chosen_at": timezone.now()}
        )
        audit.record(
            actor=officer,
            action=AuditEntry.Action.DISPLAY_CHANGED,
            subject="resource of the week",
            detail=f"#{resource.pk} {resource.title}",
            site=site,
        )
        publish_change(site.slug)
    return resource


def clear(*, site: Site, officer: User) -> Resource | None:
    """Take the resource of the week off the site's screen; None if there was none."""
    with transaction.atomic():
        chosen = ResourceOfTheWeek.objects.select_for_update().filter(site=site).first()
        if chosen is None:
            return None
        resource = chosen.resource
        chosen.delete()
        audit.record(
            actor=officer,
            action=AuditEntry.Action.DISPLAY_CHANGED,
            subject="resource of the week",
            detail=f"taken off: #{resource.pk} {resource.title}",
            site=site,
        )
        publish_change(site.slug)
    return resource
