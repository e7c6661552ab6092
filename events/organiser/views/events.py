"""The organiser's events: the list, one event, create, edit, publish, cancel.

Every event is looked up within the organiser's current site: another site's event is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.refusals import attempt

from ... import services
from ...models import Event, Registration
from ..forms import EventForm
from .reading import ORGANISER, event_of_site, no_show_rate, with_counts

PAST_PER_PAGE = 30


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
    event = event_of_site(request, event_id, counted=True)
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


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    form = EventForm(request.POST or None, site=request.site)
    if request.method == "POST" and form.is_valid():
        event = services.create_event(
            site=request.site,
            details=services.editable(form.cleaned_data),
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
    event = event_of_site(request, event_id)
    old_capacity = event.capacity
    form = EventForm(request.POST or None, instance=event, site=request.site)
    if request.method == "POST" and form.is_valid():
        update = services.update_event(
            event_id=event.pk,
            details=services.editable(form.cleaned_data),
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
    event = event_of_site(request, event_id)
    if attempt(request, services.publish_event, event_id=event.pk):
        messages.success(request, _("“%(title)s” is published.") % {"title": event.title})
    return redirect("events_organiser:detail", event_id=event.pk)


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET asks for confirmation (and says who will be told); POST cancels."""
    event = event_of_site(request, event_id, counted=True)
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
