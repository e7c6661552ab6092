from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from citedesmetiers.models import Site
from citedesmetiers.qr import qr_svg

from . import search as catalogue_search
from . import usage
from .models import Holding, Purpose, Resource
from .text import MAX_TERMS

KIOSK_COOKIE = "kiosk"
KIOSK_SALT = "resources.kiosk"
# A terminal is set up once and used for years.
KIOSK_COOKIE_AGE = 5 * 365 * 24 * 3600


def kiosk_site(request: HttpRequest) -> Site | None:
    """The site this browser is the catalogue kiosk of, else None. The cookie holds the site's
    slug, signed: only the kiosk address writes it (a cookie of the old “1” kind reads as None)."""
    if not hasattr(request, "_kiosk_site"):
        slug = request.get_signed_cookie(KIOSK_COOKIE, default="", salt=KIOSK_SALT)
        request._kiosk_site = Site.objects.filter(slug=slug, active=True).first() if slug else None
    return request._kiosk_site


def is_kiosk(request: HttpRequest) -> bool:
    return kiosk_site(request) is not None


def kiosk_home_url(request: HttpRequest) -> str:
    """Where an idle kiosk goes back to: the home page of its own site's catalogue."""
    site = kiosk_site(request)
    if site is None:
        return reverse("resources:catalogue")
    return reverse("resources:kiosk", args=[site.slug])


def _context(request: HttpRequest, **extra) -> dict:
    return {
        "kiosk": is_kiosk(request),
        "kiosk_idle_seconds": settings.KIOSK_IDLE_SECONDS,
        "kiosk_warning_seconds": settings.KIOSK_WARNING_SECONDS,
        "kiosk_home": kiosk_home_url(request),
        **extra,
    }


def _home(request: HttpRequest, site: Site | None = None) -> HttpResponse:
    """The catalogue's home: browse by purpose, on a site's shelves if given."""
    filters = catalogue_search.Filters(site=site.slug if site else "")
    context = _context(request, purposes=Purpose.objects.all(), filters=filters, site=site)
    return render(request, "resources/home.html", context)


def _quoted(words: list[str]) -> str:
    return ", ".join(gettext("“%(word)s”") % {"word": word} for word in words)


@vary_on_headers("HX-Request", "Cookie")
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = catalogue_search.Filters.from_query(request.GET)
    if not filters.q and not filters.active:
        return _home(request)
    if not filters.q and filters.active.keys() == {"site"}:
        # A site alone is where to look, not something looked for: its home, not all it holds.
        site = Site.objects.filter(slug=filters.site, active=True).first()
        if site is not None:
            return _home(request, site)
    results = catalogue_search.search(filters, request.GET.get("page") or 1)
    if filters.q and results.page.number == 1 and not request.GET.get("page"):
        usage.count_search(filters.q, results.total)
    for name, values in results.facets.items():
        for value in values:
            value.url = _toggle_url(request, name, value.value, value.selected)
    template = "resources/results.html"
    if request.htmx:
        template += "#results"
    home_url = reverse("resources:catalogue")
    if is_kiosk(request):
        home_url = kiosk_home_url(request)
    elif filters.site:
        home_url += "?" + urlencode({"site": filters.site})
    context = _context(
        request,
        filters=filters,
        results=results,
        kinds=Resource.Kind.choices,
        params=_params_without_page(request),
        home_url=home_url,
        searched_words=_quoted(results.searched),
        max_terms=MAX_TERMS,
        unmatched_words=_quoted(results.unmatched),
    )
    return render(request, template, context)


def _toggle_url(request: HttpRequest, name: str, value: str, selected: bool) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    if selected:
        params.pop(name, None)
    else:
        params[name] = value
    return f"?{params.urlencode()}"


def _params_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
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


@require_http_methods(["GET", "POST"])
def kiosk_home(request: HttpRequest, site_slug: str) -> HttpResponse:
    """The kiosk address of a site. On the site's kiosk: the home page of its catalogue. In any
    other browser: a page that sets the terminal up, with a button, so that following a shared
    link never turns a visitor's phone into a kiosk."""
    site = get_object_or_404(Site, slug=site_slug, active=True)
    current = kiosk_site(request)
    if request.method == "POST":
        response = redirect("resources:kiosk", site_slug=site.slug)
        response.set_signed_cookie(
            KIOSK_COOKIE,
            site.slug,
            salt=KIOSK_SALT,
            max_age=KIOSK_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
        return response
    if current is None or current.pk != site.pk:
        return render(request, "resources/kiosk_setup.html", {"site": site, "current": current})
    if "forget" in request.GET:
        # The idle reset: the next person finds the terminal's own language again, not the
        # one the last person chose with the kiosk's language links (kept as a cookie).
        response = redirect("resources:kiosk", site_slug=site.slug)
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    return _home(request, site)


@require_http_methods(["GET", "POST"])
def kiosk_leave(request: HttpRequest) -> HttpResponse:
    """Turn a kiosk back into an ordinary browser (a page with a button, never a link alone)."""
    if request.method == "POST":
        response = redirect("resources:catalogue")
        response.delete_cookie(KIOSK_COOKIE, samesite="Lax")
        return response
    return render(request, "resources/kiosk_leave.html", {"current": kiosk_site(request)})


@require_POST
def kiosk_restart(request: HttpRequest) -> HttpResponse:
    """What an idle kiosk posts before going back to its home page: the next person must find
    nothing of the last one. A search lives in the address and the browser, not on the server
    (its anonymous counters know no terminal), so this forgets what the browser holds: its
    session (whatever a page put there, a login left open on the terminal included) and, where
    the browser applies it, its cache of the pages seen. The terminal stays a kiosk. In any other
    browser it changes nothing."""
    if not is_kiosk(request):
        return redirect("resources:catalogue")
    response = redirect(kiosk_home_url(request))
    request.session.flush()
    # The next person finds the terminal's own language again, not the one the last person
    # chose with the kiosk's language links (kept as a cookie).
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    # Browsers apply this on https and localhost only; the kiosk's own script replaces the
    # current page in the history anyway.
    response["Clear-Site-Data"] = '"cache"'
    return response
