"""Attendance at the door: find people by name or code, mark them present, count walk-ins."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from citedesmetiers.access import staff_view

from ... import services
from ...models import Event, Registration
from .reading import ORGANISER, event_of_site


@dataclass
class DoorCount:
    present: int
    confirmed: int
    walk_ins: int

    @property
    def total(self) -> int:
        return self.present + self.walk_ins


def _door_count(event: Event) -> DoorCount:
    counts = event.registrations.filter(status=Registration.Status.CONFIRMED).aggregate(
        confirmed=Count("pk"), present=Count("pk", filter=Q(attended=True))
    )
    return DoorCount(
        present=counts["present"], confirmed=counts["confirmed"], walk_ins=event.walk_ins
    )


def _folded(text: str) -> str:
    """Lower case without accents: “Zoé” is found by typing “zoe”, and sorts with the Z's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _door_rows(event: Event, query: str) -> list[Registration]:
    """Confirmed people by name, found by a part of their name or by their code. A door list is
    at most a few hundred rows: filtering them here works the same on every database."""
    rows = sorted(
        event.registrations.filter(status=Registration.Status.CONFIRMED),
        key=lambda r: (_folded(r.pseudonym), r.code),
    )
    needle = _folded(query)
    if needle:
        rows = [r for r in rows if needle in _folded(r.pseudonym) or needle == r.code.casefold()]
    return rows


def _door_url(event: Event, query: str = "") -> str:
    url = reverse("events_organiser:door", kwargs={"event_id": event.pk})
    if query:
        url += "?" + urlencode({"q": query})
    return url


@never_cache
@staff_view(*ORGANISER)
@require_GET
def door(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_of_site(request, event_id)
    query = request.GET.get("q", "").strip()[:60]
    context = {
        "event": event,
        "rows": _door_rows(event, query),
        "q": query,
        "count": _door_count(event),
        "site": request.site,
    }
    if request.htmx and request.htmx.target == "door-rows":
        return render(request, "events/organiser/door.html#rows", context)
    return render(request, "events/organiser/door.html", context)


ATTENDANCE = {"yes": True, "no": False, "unknown": None}


@staff_view(*ORGANISER)
@require_POST
def attendance(request: HttpRequest, event_id: int, registration_id: int) -> HttpResponse:
    """Mark one person present or absent. The value is explicit (not “toggle”), so a double tap
    or a replayed request leaves the same answer."""
    event = event_of_site(request, event_id)
    registration = get_object_or_404(Registration, pk=registration_id, event=event)
    query = request.POST.get("q", "").strip()[:60]
    value = request.POST.get("attended", "")
    if value not in ATTENDANCE:
        return HttpResponse(status=400)
    try:
        registration = services.set_attendance(
            registration_id=registration.pk, attended=ATTENDANCE[value]
        )
    except services.EventError as refusal:
        messages.error(request, str(refusal))
        if request.htmx:
            return HttpResponseClientRedirect(_door_url(event, query))
        return redirect(_door_url(event, query))
    if request.htmx:
        return HttpResponse(
            render_to_string(
                "events/organiser/door_update.html",
                {
                    "event": event,
                    "registration": registration,
                    "q": query,
                    "count": _door_count(event),
                },
                request=request,
            )
        )
    return redirect(_door_url(event, query) + f"#r-{registration.pk}")


@staff_view(*ORGANISER)
@require_POST
def walk_ins(request: HttpRequest, event_id: int) -> HttpResponse:
    """One more (or one fewer) person at the door without registration. Never below zero."""
    event = event_of_site(request, event_id)
    try:
        delta = int(request.POST.get("delta", ""))
    except ValueError:
        return HttpResponse(status=400)
    if delta not in (-1, 1):
        return HttpResponse(status=400)
    event = services.add_walk_ins(event_id=event.pk, delta=delta)
    if request.htmx:
        return render(
            request,
            "events/organiser/door.html#counter",
            {"event": event, "count": _door_count(event), "q": request.POST.get("q", "")},
        )
    return redirect(_door_url(event, request.POST.get("q", "").strip()[:60]))
