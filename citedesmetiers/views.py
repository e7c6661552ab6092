from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .access import SESSION_SITE_KEY, sites_for
from .celery import app as celery_app
from .ids import parse_id
from .screens import screens_for


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "citedesmetiers/home.html")


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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database_ok(), _broker_ok()
    healthy = database and broker
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "database": "ok" if database else "error",
            "broker": "ok" if broker else "error",
            "broker_transport": celery_app.conf.broker_url.split(":", 1)[0],
        },
        status=200 if healthy else 503,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"exception": message}, status=403)
