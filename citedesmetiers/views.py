from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .access import SESSION_SITE_KEY, sites_for
from .cache import RedisCache
from .celery import app as celery_app
from .ids import parse_id
from .screens import screens_for


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "citedesmetiers/home.html")


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement: what is checked, how, what does not work well yet, and
    where to report a problem."""
    context = {"contact": settings.ACCESSIBILITY_CONTACT}
    return render(request, "citedesmetiers/accessibility.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return redirect(static("img/favicon.svg"), permanent=True)


@login_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    screens = screens_for(request.user)
    # One screen for this role (the administration aside): go straight there; several (a
    # manager): offer them.
    main_screens = [screen for screen in screens if not screen.needs_admin] or screens
    if len(main_screens) == 1 and request.GET.get("menu") is None:
        return redirect(main_screens[0].url_name)
    return render(request, "citedesmetiers/staff_home.html", {"screens": screens})


@login_required
@require_POST
def choose_site(request: HttpRequest) -> HttpResponse:
    site_id = parse_id(request.POST.get("site", ""))
    site = sites_for(request.user).filter(pk=site_id).first() if site_id else None
    if site is None:
        return render(
            request,
            "403.html",
            {"exception": _("You do not work at this site.")},
            status=403,
        )
    request.session[SESSION_SITE_KEY] = site.pk
    next_url = request.POST.get("next", "")
    # Only a path of ours: anything else (a view name, another host) goes to the staff home.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, request.is_secure()
    ):
        return redirect("staff_home")
    return HttpResponseRedirect(next_url)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    # A pooled connection: opening a new one on every probe costs ~30x more with Redis.
    try:
        with celery_app.pool.acquire(block=True, timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            client = getattr(conn.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()
        return True
    except Exception:
        return False


def _cache_ok() -> bool:
    return all(
        cache.reachable() if isinstance(cache, RedisCache) else True
        for cache in (caches["default"], caches["live"])
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """ "ok"; "degraded" (200) while the cache or the broker is away, as reception and the desks
    go on without them; "down" (503) without the database. It names no server or transport."""
    parts = {"database": _database_ok(), "cache": _cache_ok(), "broker": _broker_ok()}
    status = "ok" if all(parts.values()) else "degraded" if parts["database"] else "down"
    return JsonResponse(
        {"status": status, **{name: "ok" if ok else "down" for name, ok in parts.items()}},
        status=503 if status == "down" else 200,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"exception": message}, status=403)
