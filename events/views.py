from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.cache import CacheUnavailable, count_hit
from citedesmetiers.clients import client_key
from citedesmetiers.models import Site, Theme
from citedesmetiers.qr import qr_svg
from citedesmetiers.roles import Role

from . import services
from .calendar import calendar_bytes
from .emails import read_registration_token, registration_token
from .forms import OnTheSpotForm, RegistrationForm
from .models import Event, Registration

PAGE_SIZE = 20


def _public_events():
    return Event.objects.filter(status=Event.Status.PUBLISHED, site__active=True).select_related(
        "site"
    )


def _places_left(event: Event) -> int | None:
    if event.capacity is None:
        return None
    taken = event.registrations.filter(status=Registration.Status.CONFIRMED).count()
    return max(0, event.capacity - taken)


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    events = _public_events().filter(ends_at__gt=timezone.now()).prefetch_related("themes")
    site_slug = request.GET.get("site", "")
    theme_id = request.GET.get("theme", "")
    kind = request.GET.get("kind", "")
    audience = request.GET.get("audience", "")
    try:
        start = parse_date((request.GET.get("from") or "")[:10])
    except ValueError:  # well-formed but impossible, like 2026-02-30
        start = None
    if site_slug and not Site.objects.filter(slug=site_slug, active=True).exists():
        site_slug = ""
    if site_slug:
        events = events.filter(site__slug=site_slug)
    if theme_id.isdigit():
        events = events.filter(themes__pk=theme_id)
    if kind in Event.Kind.values:
        events = events.filter(kind=kind)
    if audience in Event.Audience.values:
        events = events.filter(audience=audience)
    if start:
        events = events.filter(starts_at__date__gte=start)
    page = Paginator(events.distinct().order_by("starts_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page") or 1
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "events/list.html",
        {
            "page": page,
            "sites": Site.objects.filter(active=True),
            "themes": Theme.objects.filter(active=True, site__slug=site_slug) if site_slug else [],
            "kinds": Event.Kind.choices,
            "audiences": Event.Audience.choices,
            "filters": {
                "site": site_slug,
                "theme": theme_id,
                "kind": kind,
                "audience": audience,
                "from": start.isoformat() if start else "",
            },
            "params": params.urlencode(),
        },
    )


@require_GET
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    # Cancelled events keep their page: it is the link of the cancellation e-mail.
    event = get_object_or_404(
        Event.objects.filter(
            status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED], site__active=True
        ).prefetch_related("themes", "partners"),
        pk=event_id,
    )
    with timezone.override(event.site.zone):
        return render(
            request,
            "events/detail.html",
            {
                "event": event,
                "form": RegistrationForm(),
                "places_left": _places_left(event),
            },
        )


def _too_many_attempts(request: HttpRequest) -> bool:
    key = f"events:register:{client_key(request)}:{timezone.now():%Y%m%d%H}"
    return count_hit(key, 3600) > settings.EVENT_REGISTRATIONS_PER_HOUR


def _refused(request: HttpRequest, event_id: int, message: str) -> HttpResponse:
    """Back to the event's page with the reason (a 404 for an event that is not public)."""
    event = get_object_or_404(_public_events(), pk=event_id)
    messages.error(request, message)
    return redirect(event)


@require_POST
def register(request: HttpRequest, event_id: int) -> HttpResponse:
    # The event is read (and locked) by services.register; this view reads it only to refuse.
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        event = get_object_or_404(_public_events(), pk=event_id)
        return render(
            request,
            "events/detail.html",
            {"event": event, "form": form, "places_left": _places_left(event)},
            status=400,
        )
    if form.cleaned_data["website"]:
        # The honeypot was filled in: a robot. Say nothing useful, write nothing.
        return _refused(request, event_id, _("Your registration could not be recorded."))
    try:
        too_many = _too_many_attempts(request)
    except CacheUnavailable:
        # The limit cannot count: a public write is refused rather than let through unlimited.
        return _refused(
            request,
            event_id,
            _(
                "Online registration is paused for a moment. Please try again in a few "
                "minutes, or ask at reception."
            ),
        )
    if too_many:
        return _refused(
            request,
            event_id,
            _(
                "Too many registrations from this connection. Please try "
                "again in an hour, or ask at reception."
            ),
        )
    try:
        registration, created = services.register(
            event_id=event_id,
            pseudonym=form.cleaned_data["pseudonym"],
            email=form.cleaned_data["email"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    except services.EventError as refusal:
        return _refused(request, event_id, str(refusal))
    if not created:
        messages.info(request, _("This e-mail address is already registered for this event."))
    return redirect("events:registration", token=registration_token(registration))


def _registration_from(token: str) -> Registration | None:
    registration_id = read_registration_token(token)
    if registration_id is None:
        return None
    return (
        Registration.objects.select_related("event", "event__site")
        .filter(pk=registration_id)
        .first()
    )


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "events/bad_link.html", status=404)


@require_GET
def registration(request: HttpRequest, token: str) -> HttpResponse:
    found = _registration_from(token)
    if found is None:
        return _bad_link(request)
    position = None
    if found.status == Registration.Status.WAITING:
        position = (
            found.event.registrations.filter(
                status=Registration.Status.WAITING, created_at__lte=found.created_at
            )
            .exclude(created_at=found.created_at, pk__gt=found.pk)
            .count()
        )
    url = request.build_absolute_uri(reverse("events:registration", args=[token]))
    with timezone.override(found.event.site.zone):
        return render(
            request,
            "events/registration.html",
            {
                "registration": found,
                "event": found.event,
                "token": token,
                "position": position,
                "qr": qr_svg(url, 3),
            },
        )


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    found = _registration_from(token)
    if found is None:
        return _bad_link(request)
    try:
        services.cancel_registration(registration_id=found.pk)
        messages.success(request, _("Your registration is cancelled. Thank you for telling us!"))
    except services.EventError as refusal:
        messages.error(request, str(refusal))
    return redirect("events:registration", token=token)


@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    found = _registration_from(token)
    if found is None:
        return _bad_link(request)
    try:
        services.confirm_email(registration_id=found.pk)
    except services.EventError as refusal:
        messages.error(request, str(refusal))
    return redirect("events:registration", token=token)


@require_GET
def confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    # A GET never changes anything (mail scanners follow links): the page has the button.
    found = _registration_from(token)
    if found is None:
        return _bad_link(request)
    return render(request, "events/confirm.html", {"registration": found, "token": token})


@require_GET
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(
        Event.objects.filter(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED]),
        pk=event_id,
    )
    response = HttpResponse(
        calendar_bytes([event], request.build_absolute_uri("/"), event.title),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response


@require_GET
def site_feed(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=site_slug, active=True)
    events = (
        _public_events()
        .filter(site=site, ends_at__gt=timezone.now() - dt.timedelta(days=30))
        .order_by("starts_at")[:500]
    )
    return HttpResponse(
        calendar_bytes(events, request.build_absolute_uri("/"), site.name),
        content_type="text/calendar; charset=utf-8",
    )


@staff_view(Role.RECEPTION, Role.COUNSELLOR, Role.EVENT_ORGANISER, Role.MANAGER)
def on_the_spot(request: HttpRequest, event_id: int) -> HttpResponse:
    """Reception or a counsellor registers a visitor without any contact: a pseudonym, and a code
    to keep (printed or as a QR code)."""
    event = get_object_or_404(Event, pk=event_id, site=request.site)
    form = OnTheSpotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration, _created = services.register(
                event_id=event.pk,
                pseudonym=form.cleaned_data["pseudonym"],
                language=translation.get_language() or settings.LANGUAGE_CODE,
                source=Registration.Source.ON_THE_SPOT,
            )
        except services.EventError as refusal:
            messages.error(request, str(refusal))
            return redirect("events:on_the_spot", event_id=event.pk)
        token = registration_token(registration)
        url = request.build_absolute_uri(reverse("events:registration", args=[token]))
        return render(
            request,
            "events/on_the_spot_done.html",
            {"registration": registration, "event": event, "qr": qr_svg(url, 4), "url": url},
        )
    return render(
        request,
        "events/on_the_spot.html",
        {"event": event, "form": form, "places_left": _places_left(event)},
    )


@staff_view(Role.RECEPTION, Role.COUNSELLOR, Role.EVENT_ORGANISER, Role.MANAGER)
@require_GET
def on_the_spot_list(request: HttpRequest) -> HttpResponse:
    """Upcoming events of the staff member's site, to register a visitor on the spot."""
    events = Event.objects.filter(
        site=request.site,
        status=Event.Status.PUBLISHED,
        capacity__isnull=False,
        starts_at__gt=timezone.now(),
    ).order_by("starts_at")[:40]
    return render(request, "events/on_the_spot_list.html", {"events": events})
