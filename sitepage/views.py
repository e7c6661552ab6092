"""A site's public page (`/s/<site-slug>/`) and its poster: no login, in the language the
visitor chose (like the catalogue and the events), with nothing about any visitor — counts and
estimates only, and the visits of past weeks with their small cells suppressed."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from citedesmetiers import pdf
from citedesmetiers.models import Site
from counselling.services import appointments
from reception.models import Channel
from reception.queues import theme_queues

from .best_hours import best_hours, heat_map_of
from .hours import hours_of
from .models import protocol_of
from .poster import SIZES, poster_pdf


def _site(site_slug: str) -> Site:
    return get_object_or_404(
        Site.objects.select_related("cite").prefetch_related("opening_periods"),
        slug=site_slug,
        active=True,
    )


def _language() -> str:
    language = translation.get_language() or settings.LANGUAGE_CODE
    known = dict(settings.LANGUAGES)
    return language if language in known else language.split("-")[0]


def _protocol(site: Site) -> tuple[list[str], bool]:
    return protocol_of(site, _language())


def _parent_sites(site: Site) -> list[Site]:
    """For an associated centre: the sites of its Cité, which offer everything."""
    if site.kind != Site.Kind.ASSOCIATED or site.cite_id is None:
        return []
    return list(
        Site.objects.filter(cite_id=site.cite_id, kind=Site.Kind.SITE, active=True).exclude(
            pk=site.pk
        )
    )


@never_cache  # the waits change by the minute
@require_GET
def page(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = _site(site_slug)
    paragraphs, own_protocol = _protocol(site)
    with timezone.override(site.zone):
        return render(
            request,
            "sitepage/page.html",
            {
                "site": site,
                "hours": hours_of(site),
                "queues": theme_queues(site),
                "best": best_hours(site, heat_map_of(site)),
                "protocol": paragraphs,
                "own_protocol": own_protocol,
                "parent_sites": _parent_sites(site),
                "appointment_channels": [
                    Channel(c).label for c in appointments.channels_offered(site)
                ],
                "sizes": SIZES,
            },
        )


@require_GET
def poster(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = _site(site_slug)
    size = request.GET.get("size", "a4")
    if size not in SIZES:
        raise Http404
    paragraphs, _own = _protocol(site)
    try:
        with timezone.override(site.zone):
            document = poster_pdf(request, site, size=size, paragraphs=paragraphs)
    except pdf.TooManyRenders as refusal:
        response = render(
            request,
            "sitepage/poster_refused.html",
            {
                "site": site,
                "paused": refusal.paused,
                "minutes": max(1, math.ceil(refusal.retry_after / 60)),
            },
            status=429,  # a pause, never a server error for what anyone asks
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{site.slug}-{size}.pdf"'
    return response
