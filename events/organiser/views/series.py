"""Series of sessions: plan them (with a preview of the dates), look at one, publish it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.ids import parse_id

from ... import services
from ...models import Event, Series
from ..forms import SeriesForm
from .reading import ORGANISER, event_of_site, no_show_rate, with_counts


@staff_view(*ORGANISER)
@require_http_methods(["GET", "POST"])
def series_create(request: HttpRequest) -> HttpResponse:
    """POST with `preview` lists the dates; without, creates the draft sessions."""
    initial = {}
    source = parse_id(request.GET.get("from", ""))
    if request.method == "GET" and source is not None:
        initial = SeriesForm.initial_from(event_of_site(request, source))
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
