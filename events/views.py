from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.cache import CacheUnavailable
from citedesmetiers.ids import parse_id
from citedesmetiers.links import secret_page
from citedesmetiers.models import Site, Theme
from citedesmetiers.qr import qr_svg
from citedesmetiers.refusals import attempt
from citedesmetiers.roles import Role

from . import guard, keys, services
from .availability import availability
from .calendar import calendar_bytes
from .forms import FindRegistrationForm, OnTheSpotForm, RegistrationForm
from .models import Event, Registration

PAGE_SIZE = 20
CHECK_NOT_DONE = gettext_lazy(
    "Your registration is not sent yet: the automatic check below has to be done first."
)


def _public_events():
    return Event.objects.filter(status=Event.Status.PUBLISHED, site__active=True).select_related(
        "site"
    )


def _visible_events():
    """Published or cancelled, of a site in use: the events whose page stays (a cancelled
    event's page is the link of its cancellation e-mail)."""
    return Event.objects.filter(
        status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED], site__active=True
    ).select_related("site")


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
    if parse_id(theme_id) is not None:
        events = events.filter(themes__pk=parse_id(theme_id))
    if kind in Event.Kind.values:
        events = events.filter(kind=kind)
    if audience in Event.Audience.values:
        events = events.filter(audience=audience)
    if start:
        events = events.filter(starts_at__date__gte=start)
    events = events.annotate(
        taken=Count(
            "registrations",
            filter=Q(registrations__status=Registration.Status.CONFIRMED),
            distinct=True,
        )
    )
    page = Paginator(events.distinct().order_by("starts_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page") or 1
    )
    for event in page:
        places_left = None if event.capacity is None else max(0, event.capacity - event.taken)
        event.availability = availability(event, places_left)
    params = request.GET.copy()
    params.pop("page", None)
    filtered = [site_slug, theme_id, kind, audience, start]
    return render(
        request,
        "events/list.html",
        {
            "page": page,
            # The filters stay folded on a phone unless one is in use (events/list.html).
            "filters_used": sum(1 for value in filtered if value),
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


def _check(event: Event, reason: str | None) -> dict | None:
    """What the form needs to ask the automatic check (events.guard), or None."""
    if reason is None:
        return None
    return {"reason": reason, "challenge": json.dumps(guard.new_challenge(event.pk))}


def _detail_page(
    request: HttpRequest,
    event: Event,
    form: RegistrationForm,
    *,
    counts: guard.Counts | None = None,
    status: int = 200,
) -> HttpResponse:
    """The event's page with its form; `counts`: those of the attempt just posted, if any."""
    places_left = _places_left(event)
    check = None
    if event.is_open_for_registration:
        reason = guard.reason_for_check(
            counts or guard.counts_so_far(request, event.pk),
            capacity=event.capacity,
            places_left=places_left,
            counted=counts is not None,
        )
        check = _check(event, reason)
    with timezone.override(event.site.zone):
        return render(
            request,
            "events/detail.html",
            {
                "event": event,
                "form": form,
                "places_left": places_left,
                "availability": availability(event, places_left),
                "check": check,
            },
            status=status,
        )


@require_GET
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    # Cancelled events keep their page: it is the link of the cancellation e-mail.
    event = get_object_or_404(
        Event.objects.filter(
            status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED], site__active=True
        ).prefetch_related("themes"),
        pk=event_id,
    )
    return _detail_page(request, event, RegistrationForm())


def _refused(request: HttpRequest, event_id: int, message: str) -> HttpResponse:
    """Back to the event's page with the reason (a 404 for an event that is not public)."""
    event = get_object_or_404(_public_events(), pk=event_id)
    messages.error(request, message)
    return redirect(event)


@require_POST
def register(request: HttpRequest, event_id: int) -> HttpResponse:
    # The event is read (and locked) by services.register; this view reads it only to refuse,
    # and to see whether the automatic check is needed.
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        event = get_object_or_404(_public_events(), pk=event_id)
        return _detail_page(request, event, form, status=400)
    if form.cleaned_data["website"]:
        # The honeypot was filled in: a robot. Say nothing useful, write nothing.
        return _refused(request, event_id, _("Your registration could not be recorded."))
    try:
        counts = guard.count_attempt(request, event_id)
    except CacheUnavailable:
        # The limits cannot count: a public write is refused rather than let through unlimited.
        return _refused(
            request,
            event_id,
            _(
                "Online registration is paused for a moment. Please try again in a few "
                "minutes, or ask at reception."
            ),
        )
    if guard.refusal(counts):
        return _refused(
            request,
            event_id,
            _(
                "Too many registrations from this connection. Please try "
                "again in an hour, or ask at reception."
            ),
        )
    if settings.EVENT_CHALLENGE_DIFFICULTY:
        event = get_object_or_404(_public_events(), pk=event_id)
        reason = guard.reason_for_check(
            counts,
            capacity=event.capacity,
            places_left=_places_left(event),
            counted=True,
        )
        if reason and not guard.solved(form.cleaned_data["altcha"], event_id):
            # No solution (no JavaScript), or a stale one: the page explains, with a new check.
            form.add_error(None, CHECK_NOT_DONE)
            return _detail_page(request, event, form, counts=counts, status=400)
    try:
        registration, _created = services.register(
            event_id=event_id,
            pseudonym=form.cleaned_data["pseudonym"],
            email=form.cleaned_data["email"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    except services.EventError as refusal:
        return _refused(request, event_id, str(refusal))
    if registration.email:
        # The same answer whether the address was new here or registered already (then its
        # owner gets their e-mail again): the page must not tell a stranger which it was.
        return redirect("events:check_mail", event_id=event_id)
    return redirect("events:registration", token=registration.manage_token)


@require_GET
def check_mail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(_public_events(), pk=event_id)
    with timezone.override(event.site.zone):
        return render(request, "events/check_mail.html", {"event": event})


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "events/bad_link.html", status=404)


def _by_link(token: str) -> tuple[Registration | None, bool]:
    """The registration a manage link opens, and whether the link may do everything. A link
    signed by an older version is trusted only for a registration without an e-mail address:
    that version showed the link of an address's registration to anyone who typed the address,
    so such a link only offers to send fresh links to the address (`legacy_link.html`)."""
    found = keys.find(token, keys.MANAGE)
    if found is not None:
        return found, True
    legacy = keys.find_legacy(token)
    if legacy is None:
        return None, False
    return legacy, not legacy.email


def _legacy_page(request: HttpRequest, found: Registration, token: str) -> HttpResponse:
    with timezone.override(found.event.site.zone):
        return render(
            request,
            "events/legacy_link.html",
            {"registration": found, "event": found.event, "token": token},
        )


@secret_page
@require_GET
def registration(request: HttpRequest, token: str) -> HttpResponse:
    found, trusted = _by_link(token)
    if found is None:
        return _bad_link(request)
    if not trusted:
        return _legacy_page(request, found, token)
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


@secret_page
@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    found, trusted = _by_link(token)
    if found is None:
        return _bad_link(request)
    if not trusted:
        return _legacy_page(request, found, token)
    if not attempt(request, services.cancel_registration, registration_id=found.pk):
        return redirect("events:registration", token=token)
    # The registration's links no longer work (this one included): a page that says so, with
    # nothing left to do for this place (no calendar entry to add).
    return redirect("events:cancelled", event_id=found.event_id)


@require_GET
def cancelled(request: HttpRequest, event_id: int) -> HttpResponse:
    """Where a cancellation lands. It shows nothing of the registration (whose links are spent):
    anyone may open it, as anyone may open the page after registering with an address."""
    event = get_object_or_404(_visible_events(), pk=event_id)
    with timezone.override(event.site.zone):
        return render(request, "events/cancelled.html", {"event": event})


@never_cache
@require_http_methods(["GET", "POST"])
def find(request: HttpRequest) -> HttpResponse:
    """Type the code of a registration (printed by reception, shown on its page) to open its
    page again, to see or cancel it. Codes are random (40 bits) and attempts are limited per
    address and network (events.guard), so typing codes at random finds nobody's place; an
    unknown code, a cancelled registration and an event that is over all get the same answer."""
    form = FindRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refused = guard.count_code_lookup(request)
        except CacheUnavailable:  # nothing can count the tries: none is made (never a 5xx)
            form.add_error(None, _("Codes cannot be looked up just now. Please try again later."))
            return render(request, "events/find.html", {"form": form}, status=429)
        if refused:
            form.add_error(
                None,
                _("Too many codes were typed. Please try again in an hour, or ask at reception."),
            )
            return render(request, "events/find.html", {"form": form}, status=429)
        found = keys.find_by_code(form.cleaned_data["code"])
        if found is not None:
            return redirect("events:registration", token=keys.issue(found.pk, keys.MANAGE))
        form.add_error(
            None,
            _(
                "We find no registration in progress with this code. Check it as it is "
                "written, or ask at reception."
            ),
        )
        return render(request, "events/find.html", {"form": form}, status=404)
    status = 400 if request.method == "POST" else 200
    return render(request, "events/find.html", {"form": form}, status=status)


@secret_page
@require_POST
def send_new_link(request: HttpRequest, token: str) -> HttpResponse:
    """From a link of an older version: e-mail fresh links to the registration's own address."""
    found = keys.find_legacy(token)
    if found is None:
        return _bad_link(request)
    services.send_links_again(registration_id=found.pk)
    return redirect("events:check_mail", event_id=found.event_id)


@secret_page
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the confirmation e-mail. A GET never changes anything (mail scanners follow
    links): the page has the button, which posts here."""
    found = keys.find(token, keys.CONFIRM)
    if found is None:
        return _bad_link(request)
    if request.method == "POST":
        attempt(request, services.confirm_email, registration_id=found.pk)
        return redirect("events:confirm", token=token)
    with timezone.override(found.event.site.zone):
        return render(
            request,
            "events/confirm.html",
            {"registration": found, "event": found.event, "token": token},
        )


@secret_page
@require_http_methods(["GET", "POST"])
def legacy_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link of an e-mail sent by an older version (the manage link then)."""
    found = keys.find_legacy(token)
    if found is None:
        return _bad_link(request)
    return _legacy_page(request, found, token)


@require_GET
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    # Like its page: published or cancelled, of a site in use.
    event = get_object_or_404(
        Event.objects.filter(
            status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED], site__active=True
        ),
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


@never_cache  # its answer holds the new registration's secret link
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
        url = request.build_absolute_uri(
            reverse("events:registration", args=[registration.manage_token])
        )
        return render(
            request,
            "events/on_the_spot_done.html",
            {
                "registration": registration,
                "event": event,
                "qr": qr_svg(url, 4),
                "url": url,
                # Printed short, to be typed: where the code opens the registration again.
                # Printed: the public address, not the host the tablet happens to use.
                "find_address": urlsplit(settings.SITE_URL).netloc + reverse("events:find"),
            },
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
