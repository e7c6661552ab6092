from __future__ import annotations

import math
import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from citedesmetiers import languages, pdf
from citedesmetiers.access import staff_view
from citedesmetiers.cache import CacheUnavailable
from citedesmetiers.limits import over_hourly_limits
from citedesmetiers.live import current_mark, live_poll
from citedesmetiers.models import Site
from citedesmetiers.qr import qr_svg
from citedesmetiers.refusals import attempt
from citedesmetiers.roles import Role

from . import board, printouts, queues, services
from .forms import CheckInForm, ProfileForm
from .models import UNDO_WINDOW, Visit
from .proof import looks_like_a_code, read_proof
from .take_away import take_away_of

RECEPTION_ROLES = (Role.RECEPTION, Role.MANAGER)
VISITOR_LINK_DAYS = 7
# Without JavaScript the waiting-room screen reloads itself this often, to show new calls.
NO_SCRIPT_REFRESH_SECONDS = 5


# --- the tablet ----------------------------------------------------------------------------------


def _overview_context(site: Site) -> dict:
    # The mark is read before the data: a change committed in between then shows at the next
    # poll, instead of being hidden behind a mark that already includes it.
    mark = current_mark(site.slug)
    theme_queues = queues.theme_queues(site)
    return {
        "site": site,
        "queues": theme_queues,
        "long_waits": queues.long_waits(site, theme_queues),
        "waiting": list(queues.waiting_visits(site)),
        "recently_left": list(queues.recently_left(site, UNDO_WINDOW)),
        "mark": mark,
    }


def _tablet_context(request: HttpRequest, **extra) -> dict:
    site = request.site
    context = _overview_context(site)
    site_open = site.is_open()
    context.update(
        profile_form=ProfileForm(),
        checkin_key=uuid.uuid4(),
        site_open=site_open,
        late_check_ins=None if site_open else services.late_check_ins(site),
        themes=[q.theme for q in context["queues"]],
    )
    context.setdefault("visitor_language", site.language)
    context["visitor_languages"] = languages.own_names()
    cut_offs = queues.check_in_cut_offs(site, context["themes"])
    context["theme_buttons"] = [(theme, cut_offs.get(theme.pk)) for theme in context["themes"]]
    context.update(extra)
    return context


@never_cache
@staff_view(*RECEPTION_ROLES)
@require_GET
def tablet(request: HttpRequest) -> HttpResponse:
    return render(request, "reception/tablet.html", _tablet_context(request))


@never_cache
@live_poll(lambda request, kwargs: request.GET.get("s"))
@staff_view(*RECEPTION_ROLES)
@require_GET
def overview_live(request: HttpRequest) -> HttpResponse:
    return render(request, "reception/tablet.html#overview", _overview_context(request.site))


@staff_view(*RECEPTION_ROLES)
@require_POST
def check_in(request: HttpRequest) -> HttpResponse:
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a theme to check the visitor in."))
        return redirect("reception:tablet")
    data = form.cleaned_data
    try:
        visit, _created = services.check_in(
            site=request.site,
            theme_id=data["theme"],
            checkin_key=data["checkin_key"],
            age_bracket=data["age_bracket"] or "",
            situation=data["situation"] or "",
            area=data["area"] or "",
            language=data["language"],
            override_hours=data["override_hours"],
        )
    except services.OutOfHours as refusal:
        # Not a message after a redirect: the tablet itself says it once, with this very
        # check-in ready to go through in one more tap (same key, so never twice).
        context = _tablet_context(
            request,
            checkin_key=data["checkin_key"],
            profile_form=ProfileForm(initial=data),
            visitor_language=data["language"],
        )
        theme = next((t for t in context["themes"] if str(t.pk) == str(data["theme"])), None)
        if theme is None:  # closed in between: the message says so, there is nothing to offer
            messages.error(request, str(refusal))
            return redirect("reception:tablet")
        context["refused"] = {
            "reason": str(refusal),
            "theme": theme,
            "answers": data,
            "late_day": isinstance(refusal, services.SiteClosed),
        }
        return render(request, "reception/tablet.html", context)
    except services.ReceptionError as refusal:
        messages.error(request, str(refusal))
        return redirect("reception:tablet")
    return redirect("reception:checked_in", visit_id=visit.pk)


@staff_view(*RECEPTION_ROLES)
@require_POST
def late_check_ins(request: HttpRequest) -> HttpResponse:
    """Turn late check-ins on or off for the rest of today, for every tablet of the site."""
    choice = request.POST.get("late")
    if choice == "on":
        if attempt(request, services.allow_late_check_ins, site=request.site):
            messages.success(request, _("Late arrivals can check in for the rest of today."))
    elif choice == "off":
        services.stop_late_check_ins(site=request.site)
        messages.success(request, _("Late check-ins are off: the site's opening hours apply."))
    else:
        messages.error(request, _("Choose to turn late check-ins on or off."))
    return redirect("reception:tablet")


def _ticket_to_hand(request: HttpRequest, visit_id: int) -> Visit:
    """A visit whose ticket reception may show or print again: today's, still open. A past
    visit's ticket would hand out its phone link (and so its proof) to whoever asks."""
    return get_object_or_404(
        Visit.objects.select_related("theme", "site"),
        pk=visit_id,
        site=request.site,
        local_date=request.site.local_date(),
        status__in=Visit.OPEN_STATUSES,
    )


def _visitor_url(request: HttpRequest, visit: Visit) -> str:
    return request.build_absolute_uri(reverse("reception:visitor", args=[visit.token]))


@never_cache
@staff_view(*RECEPTION_ROLES)
@require_GET
def checked_in(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _ticket_to_hand(request, visit_id)
    wait = queues.wait_of(visit) if visit.status == Visit.Status.WAITING else None
    return render(request, "reception/checked_in.html", {"visit": visit, "wait": wait})


@never_cache
@staff_view(*RECEPTION_ROLES)
@require_GET
def ticket(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The printed ticket, in the visitor's language (the tablet around it stays in reception's)."""
    visit = _ticket_to_hand(request, visit_id)
    url = _visitor_url(request, visit)
    with translation.override(visit.spoken_language):
        return render(
            request, "reception/ticket.html", {"visit": visit, "qr": qr_svg(url, 3), "url": url}
        )


@staff_view(*RECEPTION_ROLES)
@require_POST
def change_theme(request: HttpRequest, visit_id: int) -> HttpResponse:
    try:
        visit = services.change_theme(
            site=request.site, visit_id=visit_id, theme_id=request.POST.get("theme", "")
        )
        messages.success(
            request,
            _("Ticket %(code)s now waits for “%(theme)s”.")
            % {"code": visit.code, "theme": visit.theme.name},
        )
    except services.ReceptionError as refusal:
        messages.error(request, str(refusal))
    return redirect("reception:tablet")


@staff_view(*RECEPTION_ROLES)
@require_POST
def mark_left(request: HttpRequest, visit_id: int) -> HttpResponse:
    try:
        visit = services.mark_left(site=request.site, visit_id=visit_id)
        messages.success(
            request,
            _("Ticket %(code)s has left. It can be put back for 10 minutes, under “Left”.")
            % {"code": visit.code},
        )
    except services.ReceptionError as refusal:
        messages.error(request, str(refusal))
    return redirect("reception:tablet")


@staff_view(*RECEPTION_ROLES)
@require_POST
def undo_left(request: HttpRequest, visit_id: int) -> HttpResponse:
    try:
        visit = services.undo_left(site=request.site, visit_id=visit_id)
        messages.success(
            request, _("Ticket %(code)s is back in the queue at its place.") % {"code": visit.code}
        )
    except services.ReceptionError as refusal:
        messages.error(request, str(refusal))
    return redirect("reception:tablet")


# --- the waiting-room screen ---------------------------------------------------------------------


def _display_context(request: HttpRequest, site: Site) -> dict:
    mark = current_mark(site.slug)  # before the data (see _overview_context)
    now = timezone.now()
    screen = board.of(site, base_url=request.build_absolute_uri("/").rstrip("/"), now=now)
    with translation.override(site.language):
        for call in screen.calls:
            call.announcement = _("Ticket %(ticket)s, %(desk)s") % {
                "ticket": call.visit.spoken_code,
                "desk": call.desk.spoken_name or call.desk.name,
            }
    due_in = screen.due_in(now)
    return {
        "site": site,
        "board": screen,
        "calls": screen.calls,
        "mark": mark,
        "due_in": due_in,
        "no_script_refresh": min(math.ceil(due_in), NO_SCRIPT_REFRESH_SECONDS),
    }


@never_cache
@require_GET
def display(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=site_slug, active=True)
    with translation.override(site.language), timezone.override(site.zone):
        return render(request, "reception/display.html", _display_context(request, site))


@never_cache
@live_poll(lambda request, kwargs: kwargs["site_slug"])
@require_GET
def display_live(request: HttpRequest, site_slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=site_slug, active=True)
    with translation.override(site.language), timezone.override(site.zone):
        return render(request, "reception/display.html#board", _display_context(request, site))


# --- the visitor's phone -------------------------------------------------------------------------


def _visit_by_token(token: str) -> Visit | None:
    visit = Visit.objects.select_related("site", "theme", "desk").filter(token=token).first()
    if visit is None:
        return None
    age = (visit.site.local_date() - visit.local_date).days
    return None if age > VISITOR_LINK_DAYS else visit


def _visitor_context(visit: Visit) -> dict:
    mark = current_mark(visit.site.slug)
    visit.refresh_from_db()  # read after the mark (see _overview_context)
    context = {
        "visit": visit,
        "mark": mark,
        # A missed or walked-out ticket may be put back for a while: the page keeps following it.
        "follows": visit.is_open or visit.may_come_back(),
        "take_away": take_away_of(visit),
    }
    if visit.status == Visit.Status.WAITING:
        wait = queues.wait_of(visit)
        context.update(
            position=wait.position,
            estimate=wait.estimate,
            desks=wait.desks,
            next_served=wait.next_served,
        )
    return context


def _language_of(request: HttpRequest, visit: Visit) -> str:
    """The language of the visitor's pages and printouts: the one chosen on the phone (the
    page's language select, carried by its links), else the visit's, else the site's."""
    return request.language_from_link or visit.spoken_language


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "reception/visitor_unknown.html", status=404)


@never_cache
@require_GET
def visitor(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit_by_token(token)
    if visit is None:
        return _not_found(request)
    with translation.override(_language_of(request, visit)):
        return render(request, "reception/visitor.html", _visitor_context(visit))


@never_cache
@live_poll(lambda request, kwargs: request.GET.get("s"))
@require_GET
def visitor_live(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit_by_token(token)
    if visit is None:
        return _not_found(request)
    with translation.override(_language_of(request, visit)):
        return render(request, "reception/visitor.html#live", _visitor_context(visit))


@require_POST
def leave(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit_by_token(token)
    if visit is None:
        return _not_found(request)
    with translation.override(_language_of(request, visit)):
        if attempt(request, services.leave_queue, token=token):
            messages.success(request, _("You have left the queue. See you soon!"))
    page = reverse("reception:visitor", args=[token])
    # Back in the language chosen on the phone, if one was (else the visit's, as before).
    return redirect(
        page + (f"?lang={request.language_from_link}" if request.language_from_link else "")
    )


def _printout(request: HttpRequest, token: str, make, filename: str) -> HttpResponse:
    visit = _visit_by_token(token)
    if visit is None:
        return _not_found(request)
    with translation.override(_language_of(request, visit)):
        return _printout_of(request, visit, make, filename)


def _printout_of(request: HttpRequest, visit: Visit, make, filename: str) -> HttpResponse:
    try:
        document = make(request, visit, keep=(VISITOR_LINK_DAYS + 1) * 24 * 3600)
    except pdf.TooManyRenders as refusal:
        response = render(
            request,
            "reception/printout_refused.html",
            {
                "visit": visit,
                "paused": refusal.paused,
                "minutes": max(1, math.ceil(refusal.retry_after / 60)),
            },
            status=429,  # a pause too: never a server error for what a visitor asks
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}-{visit.code}.pdf"'
    return response


@require_GET
def proof_pdf(request: HttpRequest, token: str) -> HttpResponse:
    return _printout(request, token, printouts.proof_pdf, "attendance")


@require_GET
def take_away_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The visitor's take-away list, printable, with a QR code per document. No identity."""
    return _printout(request, token, printouts.take_away_pdf, "list")


# Enough for an employer checking a pile of slips; not for a script reading them all.
VERIFY_LIMITS = {"per_address": 60, "per_network": 300, "everyone": 5000}


@require_GET
def verify(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The page to type a proof's code into (`/verify/`, `?code=`), and its answer (also at
    `/verify/<code>/`, the address of the slip's QR code). The field is always there, so a
    code typed wrong can be typed again."""
    typed = (code if code is not None else request.GET.get("code", ""))[:200]
    if not typed.strip():
        return render(request, "reception/verify.html", {"typed": ""})
    try:
        refused = over_hourly_limits(request, "verify", **VERIFY_LIMITS)
    except CacheUnavailable:
        refused = False  # a proof names nobody: it is still checked when nothing can count
    if refused:
        context = {"typed": typed, "too_many": True}
        return render(request, "reception/verify.html", context, status=429)
    proof = read_proof(typed)
    if proof is None:
        context = {"typed": typed, "malformed": not looks_like_a_code(typed)}
        return render(request, "reception/verify.html", context, status=404)
    with timezone.override(proof.site.zone):
        return render(request, "reception/verify.html", {"proof": proof, "typed": proof.code})
