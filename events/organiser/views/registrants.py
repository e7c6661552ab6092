"""The list of an event's registrants: on screen, to print, and exported (CSV, XLSX)."""

from __future__ import annotations

import tablib
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from citedesmetiers import audit, exports
from citedesmetiers.access import staff_view
from citedesmetiers.models import AuditEntry

from ...models import Event, Registration
from .reading import ORGANISER, event_of_site

STATUS_ORDER = {
    Registration.Status.CONFIRMED: 0,
    Registration.Status.WAITING: 1,
    Registration.Status.PENDING: 2,
}


def _registrants(event: Event) -> list[Registration]:
    """People holding or waiting for a place: registered first, then the waiting list in its
    order, then those who have not confirmed their e-mail yet. Cancelled ones are only counted."""
    registrations = event.registrations.filter(status__in=Registration.ACTIVE).order_by(
        "created_at", "pk"
    )
    return sorted(registrations, key=lambda r: STATUS_ORDER[r.status])


@never_cache
@staff_view(*ORGANISER)
@require_GET
def registrants(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_of_site(request, event_id, counted=True)
    purged = event.contacts_purged_at is not None
    return render(
        request,
        "events/organiser/registrants.html",
        {
            "event": event,
            "purged": purged,
            "registrations": [] if purged else _registrants(event),
            "site": request.site,
        },
    )


def _attended_label(registration: Registration) -> str:
    if registration.attended is None:
        return ""
    return _("yes") if registration.attended else _("no")


def registrants_dataset(event: Event) -> tablib.Dataset:
    zone = event.site.zone
    return exports.dataset(
        [_("Pseudonym"), _("E-mail"), _("Status"), _("Registered at"), _("Code"), _("Attended")],
        (
            (
                registration.pseudonym,
                registration.email,
                registration.get_status_display(),
                registration.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                registration.code,
                _attended_label(registration),
            )
            for registration in _registrants(event)
        ),
        title=_("Registrants")[:31],
    )


@never_cache
@staff_view(*ORGANISER)
@require_GET
def registrants_export(request: HttpRequest, event_id: int, fmt: str) -> HttpResponse:
    event = event_of_site(request, event_id)
    if fmt not in exports.FORMATS:
        return HttpResponse(status=404)
    if event.contacts_purged_at is not None:
        messages.warning(
            request, _("Contact data of this event has been erased: nothing to export.")
        )
        return redirect("events_organiser:registrants", event_id=event.pk)
    dataset = registrants_dataset(event)
    audit.record(
        actor=request.user,
        action=AuditEntry.Action.EXPORT,
        subject=f"registrants: {event.title}",
        detail=f"event {event.pk}, {fmt}, {len(dataset)} rows",
        site=event.site,
    )
    filename = f"registrants-{event.pk}-{event.starts_at.astimezone(event.site.zone):%Y-%m-%d}"
    return exports.download(exports.encode(dataset, fmt), fmt, f"{filename}.{fmt}")
