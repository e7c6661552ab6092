"""The event organisers' screens: plan events and series, publish, cancel, follow registrations,
print or export the list of registrants, take attendance at the door.

Every event is looked up within the organiser's current site: another site's event is a 404."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

import tablib
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from citedesmetiers import audit, exports
from citedesmetiers.access import staff_view
from citedesmetiers.ids import parse_id
from citedesmetiers.models import AuditEntry
from citedesmetiers.roles import Role

from . import services
from .models import Event, Registration, Series
from .organiser_forms import EventForm, SeriesForm

ORGANISER = (Role.EVENT_ORGANISER, Role.MANAGER)
PAST_PER_PAGE = 30

CONFIRMED = Q(registrations__status=Registration.Status.CONFIRMED)


# --- reading ------------------------------------------------------------------------------------


def with_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Events with their registration counts, in one query."""
    return events.annotate(
        n_confirmed=Count("registrations", filter=CONFIRMED),
        n_attended=Count("registrations", filter=CONFIRMED & Q(registrations__attended=True)),
        n_waiting=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.WAITING)
        ),
        n_pending=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.PENDING)
        ),
        n_cancelled=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.CANCELLED)
        ),
    )


def no_show_rate(event: Event) -> float | None:
    """Confirmed registrations not marked present, over confirmed ones; None until the event is
    over (attendance is still being taken), for a cancelled event, or with nobody registered."""
    if not event.is_past or event.status == Event.Status.CANCELLED or not event.n_confirmed:
        return None
    return (event.n_confirmed - event.n_attended) / event.n_confirmed


def _event_of_site(request: HttpRequest, event_id: int, counted: bool = False) -> Event:
    events = Event.objects.select_related("site", "series")
    if counted:
        events = with_counts(events)
    event = get_object_or_404(events, pk=event_id, site=request.site)
    if counted:
        event.no_show_rate = no_show_rate(event)
    return event


# --- the list, one event --------------------------------------------------------------------------


@never_cache
@staff_view(*ORGANISER)
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    events = with_counts(Event.objects.filter(site=request.site).select_related("series"))
    # An event under way is still "upcoming": it is the one whose door is being kept.
    upcoming = list(events.filter(ends_at__gt=now).order_by("starts_at", "pk"))
    past = Paginator(
        events.filter(ends_at__lte=now).order_by("-starts_at", "-pk"), PAST_PER_PAGE
    ).get_page(request.GET.get("page"))
    for event in [*upcoming, *past]:
        event.no_show_rate = no_show_rate(event)
    return render(
        request,
        "events/organiser/list.html",
        {"upcoming": upcoming, "past": past, "site": request.site},
    )


@never_cache
@staff_view(*ORGANISER)
@require_GET
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event_of_site(request, event_id, counted=True)
    return render(
        request,
        "events/organiser/detail.html",
        {
            "event": event,
            "themes": event.themes.all(),
            "partners": event.partners.all(),
            "site": request.site,
        },
    )


# --- create, edit, publish, cancel ----------------------------------------------------------------


def _details(form: EventForm) -> dict:
    return {
        name: form.cleaned_data[name] for name in services.EDITABLE if name in form.cleaned_data
    }


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    form = EventForm(request.POST or None, site=request.site)
    if request.method == "POST" and form.is_valid():
        event = services.create_event(
            site=request.site,
            details=_details(form),
            themes=form.cleaned_data["themes"],
            partners=form.cleaned_data["partners"],
        )
        messages.success(
            request,
            _("“%(title)s” is saved as a draft. Publish it when it is ready.")
            % {"title": event.title},
        )
        return redirect("events_organiser:detail", event_id=event.pk)
    return render(
        request, "events/organiser/form.html", {"form": form, "event": None, "site": request.site}
    )


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event_of_site(request, event_id)
    old_capacity = event.capacity
    form = EventForm(request.POST or None, instance=event, site=request.site)
    if request.method == "POST" and form.is_valid():
        update = services.update_event(
            event_id=event.pk,
            details=_details(form),
            themes=form.cleaned_data["themes"],
            partners=form.cleaned_data["partners"],
        )
        _tell_what_saving_did(request, update, old_capacity)
        return redirect("events_organiser:detail", event_id=event.pk)
    return render(
        request, "events/organiser/form.html", {"form": form, "event": event, "site": request.site}
    )


def _tell_what_saving_did(
    request: HttpRequest, update: services.EventUpdate, old_capacity: int | None
) -> None:
    told, promoted, confirmed = len(update.told), len(update.promoted), update.confirmed
    new_capacity = update.event.capacity
    messages.success(request, _("Changes saved."))
    if told:
        messages.success(
            request,
            ngettext(
                "%(count)d person registered was told of the new date or place by e-mail.",
                "%(count)d people registered were told of the new date or place by e-mail.",
                told,
            )
            % {"count": told},
        )
    if promoted:
        messages.success(
            request,
            ngettext(
                "%(count)d person moved from the waiting list to a place.",
                "%(count)d people moved from the waiting list to a place.",
                promoted,
            )
            % {"count": promoted},
        )
    if new_capacity is not None and confirmed > new_capacity:
        messages.warning(
            request,
            _(
                "%(confirmed)d people already hold a place, more than the %(capacity)d "
                "places: nobody loses theirs, and nobody new gets one until some cancel."
            )
            % {"confirmed": confirmed, "capacity": new_capacity},
        )
    if new_capacity is None and old_capacity is not None and confirmed:
        messages.warning(
            request,
            _(
                "The event is now open door: registration is closed, the %(count)d people "
                "already registered keep their place."
            )
            % {"count": confirmed},
        )


@staff_view(*ORGANISER)
@require_POST
def event_publish(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event_of_site(request, event_id)
    try:
        services.publish_event(event_id=event.pk)
    except services.EventError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("“%(title)s” is published.") % {"title": event.title})
    return redirect("events_organiser:detail", event_id=event.pk)


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET asks for confirmation (and says who will be told); POST cancels."""
    event = _event_of_site(request, event_id, counted=True)
    if request.method == "POST":
        try:
            told = services.cancel_event(event_id=event.pk)
        except services.EventError as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                ngettext(
                    "The event is cancelled. %(count)d person was told by e-mail.",
                    "The event is cancelled. %(count)d people were told by e-mail.",
                    told,
                )
                % {"count": told},
            )
        return redirect("events_organiser:detail", event_id=event.pk)
    active = event.registrations.filter(status__in=Registration.ACTIVE)
    return render(
        request,
        "events/organiser/cancel.html",
        {
            "event": event,
            "with_email": active.exclude(email="").count(),
            "without_email": active.filter(email="").count(),
            "site": request.site,
        },
    )


# --- registrants: print, export -------------------------------------------------------------------

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
    event = _event_of_site(request, event_id, counted=True)
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
    event = _event_of_site(request, event_id)
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


# --- attendance at the door -----------------------------------------------------------------------


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
    event = _event_of_site(request, event_id)
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
    event = _event_of_site(request, event_id)
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
    event = _event_of_site(request, event_id)
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


# --- series ---------------------------------------------------------------------------------------


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def series_create(request: HttpRequest) -> HttpResponse:
    """POST with `preview` lists the dates; without, creates the draft sessions."""
    initial = {}
    source = parse_id(request.GET.get("from", ""))
    if request.method == "GET" and source is not None:
        initial = SeriesForm.initial_from(_event_of_site(request, source))
    form = SeriesForm(request.POST or None, initial=initial, site=request.site)
    if request.method == "POST" and form.is_valid() and "preview" not in request.POST:
        created = services.create_series(**form.series_arguments())
        count = created.events.count()
        messages.success(
            request,
            ngettext(
                "%(count)d draft session created. Check them, then publish.",
                "%(count)d draft sessions created. Check them, then publish.",
                count,
            )
            % {"count": count},
        )
        return redirect("events_organiser:series", series_id=created.pk)
    return render(
        request,
        "events/organiser/series_form.html",
        {
            "form": form,
            "sessions": form.sessions if form.is_bound and not form.errors else [],
            "site": request.site,
        },
    )


def _series_of_site(request: HttpRequest, series_id: int) -> Series:
    return get_object_or_404(Series, pk=series_id, site=request.site)


@never_cache
@staff_view(*ORGANISER)
@require_GET
def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    found = _series_of_site(request, series_id)
    events = list(with_counts(found.events.all()).order_by("starts_at", "pk"))
    for event in events:
        event.no_show_rate = no_show_rate(event)
    return render(
        request,
        "events/organiser/series.html",
        {
            "series": found,
            "events": events,
            "drafts": sum(1 for e in events if e.status == Event.Status.DRAFT),
            "site": request.site,
        },
    )


@staff_view(*ORGANISER)
@require_POST
def series_publish(request: HttpRequest, series_id: int) -> HttpResponse:
    """Publish every draft session of the series that has not started yet."""
    found = _series_of_site(request, series_id)
    try:
        published = services.publish_series(series_id=found.pk)
    except services.EventError as refusal:
        messages.error(request, str(refusal))
        return redirect("events_organiser:series", series_id=found.pk)
    messages.success(
        request,
        ngettext("%(count)d session published.", "%(count)d sessions published.", published)
        % {"count": published},
    )
    return redirect("events_organiser:series", series_id=found.pk)
