"""The pages of three-tap feedback: the visitor's questions after their visit (`/t/<token>/
feedback/`, also loaded into the phone page once the visit is over) and the exit kiosk
(`/feedback/<site-slug>/kiosk/`). Both work as plain forms; htmx only saves a page load."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.cache import CacheUnavailable, count_hits
from citedesmetiers.models import Site
from citedesmetiers.roles import Role
from reception.models import Visit
from reception.views import VISITOR_LINK_DAYS

from . import services
from .forms import FeedbackForm

# --- the visitor's phone -------------------------------------------------------------------------


def _visit(token: str) -> Visit | None:
    """The visit of a phone link, as the visitor's page finds it (the same days)."""
    visit = Visit.objects.select_related("site").filter(token=token).first()
    if visit is None or (visit.site.local_date() - visit.local_date).days > VISITOR_LINK_DAYS:
        return None
    return visit


def _render_visit(request, visit, *, state, form=None, message="", status=200) -> HttpResponse:
    template = "feedback/visit.html"
    if request.htmx:  # loaded into the visitor's page, or sent from it
        template += "#questions"
        # htmx swaps in only a 2xx answer: a refusal shows in place, a tap never goes unanswered.
        status = 200
    context = {"visit": visit, "state": state, "form": form or FeedbackForm(), "message": message}
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def visit_feedback(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit(token)
    if visit is None:
        return render(request, "reception/visitor_unknown.html", status=404)
    with translation.override(request.language_from_link or visit.spoken_language):
        if request.method == "GET":
            return _render_visit(request, visit, state=services.state_of(visit))
        form = FeedbackForm(request.POST)
        if not form.is_valid():
            state = services.state_of(visit)
            return _render_visit(request, visit, state=state, form=form, status=400)
        try:
            services.answer_visit(token=token, answers=form.answers())
        except services.AlreadyAnswered as refusal:
            return _render_visit(request, visit, state="answered", message=str(refusal), status=409)
        except services.FeedbackRefused as refusal:
            state = services.state_of(visit)
            return _render_visit(request, visit, state=state, message=str(refusal), status=409)
        if request.htmx:
            return _render_visit(request, visit, state="thanks")
        page = reverse("feedback:visit", args=[token])
        lang = request.language_from_link
        return redirect(page + (f"?lang={lang}" if lang else ""))


# --- the exit kiosk ------------------------------------------------------------------------------

KIOSK_COOKIE = "feedback_kiosk"
KIOSK_SALT = "feedback.kiosk"
KIOSK_COOKIE_AGE = 5 * 365 * 24 * 3600  # a terminal is set up once and used for years
# Answers one terminal takes in an hour: a person every minute is a busy exit already.
KIOSK_ANSWERS_PER_HOUR = 60
# Seconds the thank-you stays before the questions come back for the next person, and seconds
# without a touch after which half-given answers are dropped for the next person.
KIOSK_THANKS_SECONDS = 6
KIOSK_IDLE_SECONDS = 45


def kiosk_device(request: HttpRequest, site: Site) -> str | None:
    """The id of this terminal if it was set up as the kiosk of `site`, else None. The cookie
    holds "<site slug>:<random id>", signed: only the set-up button (staff of the site) writes
    it, so a shared link never turns a phone into a kiosk, nor a script into many."""
    value = request.get_signed_cookie(KIOSK_COOKIE, default="", salt=KIOSK_SALT)
    slug, _sep, device = value.partition(":")
    return device if slug == site.slug and device else None


def _kiosk_context(site: Site, **extra) -> dict:
    return {
        "site": site,
        "form": FeedbackForm(),
        "kiosk_url": reverse("feedback:kiosk", args=[site.slug]),
        "thanks_seconds": KIOSK_THANKS_SECONDS,
        "idle_seconds": KIOSK_IDLE_SECONDS,
        **extra,
    }


def _over_limit(device: str, site: Site) -> bool:
    hour = f"{timezone.now():%Y%m%d%H}"
    (count,) = count_hits([f"feedback-kiosk:{site.pk}:{device}:{hour}"], 3600)
    return count > KIOSK_ANSWERS_PER_HOUR


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=site_slug, active=True)
    device = kiosk_device(request, site)
    with translation.override(request.language_from_link or site.language):
        if device is None:  # an ordinary browser: the page that sets a terminal up
            status = 200 if request.method == "GET" else 403
            return render(request, "feedback/kiosk_setup.html", {"site": site}, status=status)
        if request.method == "GET":
            context = _kiosk_context(site, thanks="thanks" in request.GET)
            return render(request, "feedback/kiosk.html", context)
        form = FeedbackForm(request.POST)
        if not form.is_valid():
            return render(
                request, "feedback/kiosk.html", _kiosk_context(site, form=form), status=400
            )
        try:
            refused = _over_limit(device, site)
        except CacheUnavailable:
            refused = True  # nothing else guards a kiosk's answers: none is taken uncounted
        if refused:
            message = _(
                "Thank you! This terminal cannot take more answers for now. Please try again "
                "in a little while."
            )
            context = _kiosk_context(site, refusal=message)
            return render(request, "feedback/kiosk.html", context, status=429)
        services.answer_at_kiosk(site=site, answers=form.answers())
        lang = request.language_from_link
        thanks = reverse("feedback:kiosk", args=[site.slug]) + "?thanks=1"
        return redirect(thanks + (f"&lang={lang}" if lang else ""))


@require_POST
@staff_view(Role.RECEPTION, Role.MANAGER, site_kwarg="site_slug")
def kiosk_setup(request: HttpRequest, site_slug: str) -> HttpResponse:
    """Reception or a manager of the site turns this browser into its exit kiosk, and is logged
    out of it: the terminal keeps no staff session."""
    site = request.site
    response = redirect("feedback:kiosk", site_slug=site.slug)
    response.set_signed_cookie(
        KIOSK_COOKIE,
        f"{site.slug}:{secrets.token_urlsafe(12)}",
        salt=KIOSK_SALT,
        max_age=KIOSK_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    logout(request)
    return response
