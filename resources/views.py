from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from citedesmetiers.models import Site
from citedesmetiers.qr import qr_svg

from . import search as catalogue_search
from . import usage
from .models import Holding, Purpose, Resource

KIOSK_COOKIE = "kiosk"


def is_kiosk(request: HttpRequest) -> bool:
    return request.COOKIES.get(KIOSK_COOKIE, "0") not in ("", "0")


def kiosk_home_url(request: HttpRequest) -> str:
    """Where an idle kiosk goes back to: the catalogue, of its own site if it was set up for one."""
    value = request.COOKIES.get(KIOSK_COOKIE, "")
    base = reverse("resources:catalogue")
    return f"{base}?site={value}" if value not in ("", "0", "1") else base


def _kiosk_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`?kiosk=1` turns this browser into a kiosk (remembered in a cookie), `?kiosk=0` undoes it."""
    flag = request.GET.get("kiosk")
    if flag == "1":
        response.set_cookie(
            KIOSK_COOKIE,
            "1",
            max_age=5 * 365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    elif flag == "0":
        response.delete_cookie(KIOSK_COOKIE)
    return response


def _context(request: HttpRequest, **extra) -> dict:
    kiosk = is_kiosk(request) or request.GET.get("kiosk") == "1"
    if request.GET.get("kiosk") == "0":
        kiosk = False
    return {
        "kiosk": kiosk,
        "kiosk_idle_seconds": settings.KIOSK_IDLE_SECONDS,
        "kiosk_home": kiosk_home_url(request),
        **extra,
    }


@vary_on_headers("HX-Request", "Cookie")
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = catalogue_search.Filters.from_query(request.GET)
    if not filters.q and not filters.active:
        response = render(
            request,
            "resources/home.html",
            _context(request, purposes=Purpose.objects.all(), filters=filters),
        )
        return _kiosk_response(request, response)
    results = catalogue_search.search(filters, request.GET.get("page") or 1)
    if filters.q and results.page.number == 1 and not request.GET.get("page"):
        usage.count_search(filters.q, results.total)
    for name, values in results.facets.items():
        for value in values:
            value.url = _toggle_url(request, name, value.value, value.selected)
    template = "resources/results.html"
    if request.htmx:
        template += "#results"
    context = _context(
        request,
        filters=filters,
        results=results,
        kinds=Resource.Kind.choices,
        params=_params_without_page(request),
    )
    return _kiosk_response(request, render(request, template, context))


def _toggle_url(request: HttpRequest, name: str, value: str, selected: bool) -> str:
    params = request.GET.copy()
    for transient in ("page", "kiosk"):
        params.pop(transient, None)
    if selected:
        params.pop(name, None)
    else:
        params[name] = value
    return f"?{params.urlencode()}"


def _params_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("kiosk", None)
    return params.urlencode()


@require_GET
def detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = get_object_or_404(
        Resource.objects.prefetch_related(
            "purposes",
            "audiences",
            "themes",
            Prefetch(
                "holdings",
                queryset=Holding.objects.select_related("site").filter(site__active=True),
            ),
        ),
        pk=resource_id,
        withdrawn=False,
    )
    usage.count_view(resource.pk)
    page_url = request.build_absolute_uri(resource.get_absolute_url())
    context = _context(
        request,
        resource=resource,
        page_qr=qr_svg(page_url, 3),
        link_qr=qr_svg(resource.url, 3) if resource.url else None,
        back=request.META.get("HTTP_REFERER", ""),
    )
    return render(request, "resources/detail.html", context)


@require_GET
def kiosk_home(request: HttpRequest, site_slug: str) -> HttpResponse:
    """A convenient address to set up a terminal: the catalogue of one site, in kiosk mode."""
    site = get_object_or_404(Site, slug=site_slug, active=True)
    response = redirect(f"/catalogue/?site={site.slug}")
    response.set_cookie(
        KIOSK_COOKIE,
        "1",
        max_age=5 * 365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
