from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling

from appointments.models import Appointment
from citedesmetiers.access import staff_view
from citedesmetiers.cache import CacheUnavailable
from citedesmetiers.ids import parse_id
from citedesmetiers.limits import over_hourly_limits
from citedesmetiers.live import current_mark, live_poll
from citedesmetiers.refusals import attempt
from citedesmetiers.roles import Role
from events.models import Event
from reception.models import Call, Channel
from reception.take_away import take_away_of
from resources.search import Filters, search

from . import plan_feed, selectors, services
from .forms import CallTicketForm, FinishAnswersForm, FinishInterviewForm
from .models import Desk, DeskSession, Interview, PlanFeed
from .services import appointments

COUNSELLOR = (Role.COUNSELLOR,)


def _session_or_none(request: HttpRequest) -> DeskSession | None:
    session = selectors.open_session_of(request.user)
    if session is not None and session.desk.site_id != request.site.pk:
        return None
    return session


def _desk_context(request: HttpRequest, session: DeskSession) -> dict:
    # The mark is read before the data: a change committed in between shows at the next poll.
    mark = current_mark(request.site.slug)
    visit = services.current_visit(session)
    context = {
        "session": session,
        "desk": session.desk,
        "queues": selectors.desk_queues(session),
        "visit": visit,
        "mark": mark,
        "today": selectors.interviews_today(request.user, request.site).count(),
        "site": request.site,
    }
    if visit is not None and visit.status == visit.Status.IN_INTERVIEW:
        # The channel the visitor came by (a phone call is not recorded as a visit in person).
        # This sitting's interview (Visit.started_at is the visit's first one, before a referral).
        context["interview_since"] = (
            Interview.objects.filter(visit=visit, session=session, ended_at__isnull=True)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        ) or visit.started_at
        context["finish_form"] = FinishInterviewForm(
            theme=visit.theme, initial={"channel": visit.channel}
        )
        context["take_away"] = take_away_of(visit)
        context["tq"] = request.GET.get("tq", "")[:200]
        context["take_away_results"] = _catalogue_hits(context["tq"])
        context["upcoming_events"] = _upcoming_events(request.site, context["take_away"].events)
    if visit is None:
        context["waiting"] = selectors.waiting_for_desk(session)[:30]
        # Visitors this sitting referred on, left to another desk of their theme: marked.
        context["themes_elsewhere"] = (
            services.themes_served_elsewhere(session) if session.referred_on else set()
        )
        context["reasons"] = Call.OutOfOrder.choices
        context["no_shows"] = selectors.recent_no_shows(session)
        now = timezone.now()
        context["appointments"] = [
            (a, a.channel != Channel.IN_PERSON and a.starts - appointments.DUE_EARLY <= now)
            for a in selectors.appointments_today(session.desk, now)
        ]
    elif visit.by_appointment:
        context["appointment"] = Appointment.objects.filter(visit=visit).first()
    return context


def _upcoming_events(site, chosen):
    return (
        Event.objects.filter(site=site, status=Event.Status.PUBLISHED, starts_at__gt=timezone.now())
        .exclude(pk__in=[item.event_id for item in chosen])
        .order_by("starts_at")[:12]
    )


def _catalogue_hits(query: str):
    if not query.strip():
        return None
    return search(Filters(q=query), 1).page.object_list[:8]


@never_cache
@staff_view(*COUNSELLOR)
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    session = _session_or_none(request)
    if session is None:
        desks = (
            Desk.objects.filter(site=request.site, active=True)
            .prefetch_related("themes")
            .order_by("order", "name")
        )
        taken = set(
            DeskSession.objects.filter(desk__in=desks, closed_at__isnull=True).values_list(
                "desk_id", flat=True
            )
        )
        other = selectors.open_session_of(request.user)
        planned = selectors.planned_desks(request.user, request.site)
        # The plan's desks for this counsellor now come first, with the plan's themes ticked;
        # the others stay one tap away, with all their themes.
        tiles = sorted(
            ((d, planned.get(d.pk), _proposed_themes(d, planned.get(d.pk))) for d in desks),
            key=lambda t: t[1] is None,
        )
        return render(
            request,
            "counselling/choose_desk.html",
            {"tiles": tiles, "taken": taken, "other_session": other},
        )
    context = _desk_context(request, session)
    if context["visit"] is not None:
        # Read here, not by call next: the desk's actions keep their statements, and the live
        # poll (the queue only) does not need it.
        context["referral"] = selectors.referral_to(context["visit"])
    return render(request, "counselling/desk.html", context)


def _proposed_themes(desk: Desk, planned) -> list[tuple[object, bool]]:
    """The desk's active themes, each with whether opening it proposes to serve it."""
    themes = [t for t in desk.themes.all() if t.active]
    ticked = {t.pk for t in themes if planned is not None and t.pk in planned.theme_ids}
    return [(t, t.pk in ticked or not ticked) for t in themes]


@never_cache
@live_poll(lambda request, kwargs: request.GET.get("s"))
@staff_view(*COUNSELLOR)
@require_GET
def desk_live(request: HttpRequest) -> HttpResponse:
    session = _session_or_none(request)
    if session is None:
        return HttpResponseStopPolling()  # the desk was closed elsewhere
    return render(request, "counselling/desk.html#queue", _desk_context(request, session))


@staff_view(*COUNSELLOR)
@require_POST
def open_desk(request: HttpRequest, desk_id: int) -> HttpResponse:
    desk = get_object_or_404(Desk, pk=desk_id, site=request.site)
    theme_ids = None  # a form without the chooser's boxes: the plan's themes, or the desk's
    if "themes_shown" in request.POST:
        theme_ids = [parse_id(value) for value in request.POST.getlist("themes")]
        if None in theme_ids:
            messages.error(request, _("This is not a valid choice."))
            return redirect("counselling:desk")
    attempt(request, services.open_desk, counsellor=request.user, desk=desk, theme_ids=theme_ids)
    return redirect("counselling:desk")


def _desk_showing(visit_id: int | None, query: str = "") -> HttpResponse:
    """Back to the desk screen, at the visitor it holds (`#visit-<id>`, the id of their block on
    the page): the browser lands on them, and a script driving the desk, as the benchmark does,
    learns which visitor its next form is about. With the take-away search `query` the page
    reopens on it, to add the next document from the same results."""
    url = reverse("counselling:desk")
    if query:
        url += "?" + urlencode({"tq": query})
    return redirect(f"{url}#visit-{visit_id}" if visit_id else url)


def _refused(request: HttpRequest) -> HttpResponse:
    """Back to the desk screen with the refusal just recorded. A take-away change sent by htmx
    swaps one section only: the whole page reloads instead, so the message shows and the page is
    up to date (the visitor may have changed)."""
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("counselling:desk")


def _act(
    request: HttpRequest,
    action,
    success: str | None = None,
    *,
    showing: int | None = None,
    query: str = "",
    **extra,
) -> HttpResponse:
    """Run a desk action on the counsellor's open desk at the request's site — the service finds
    and locks it, so the view reads nothing first; without one it refuses ("This desk is closed")
    — and come back to the desk screen (at the visitor `showing`, once it is done)."""
    try:
        result = action(site_id=request.site.pk, counsellor=request.user, **extra)
    except services.CounsellingError as refusal:
        messages.error(request, str(refusal))
        return _refused(request)
    if success:
        messages.success(request, success)
    return result if isinstance(result, HttpResponse) else _desk_showing(showing, query)


def _posting_visit(view):
    """For the actions about the visitor the counsellor's page shows: the page posts their id,
    and the action runs only for that visitor. A missing or malformed id is refused like a
    stale page — never taken as "whoever the desk holds"."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        visit_id = parse_id(request.POST.get("visit", ""))
        if visit_id is None:
            messages.error(request, _("Your page was out of date; nothing was changed."))
            return _refused(request)
        return view(request, visit_id, *args, **kwargs)

    return wrapper


@staff_view(*COUNSELLOR)
@require_POST
def call_next(request: HttpRequest) -> HttpResponse:
    try:
        visit = services.call_next(site_id=request.site.pk, counsellor=request.user)
    except services.CounsellingError as refusal:
        messages.error(request, str(refusal))
        return redirect("counselling:desk")
    if visit is not None:
        return _desk_showing(visit.pk)
    session = _session_or_none(request)  # nobody called: why
    messages.info(
        request,
        _(
            "Only visitors you referred on are waiting: another desk serving their theme "
            "will call them. You can still call their ticket from the list."
        )
        if session is not None and _own_referrals_waiting(session) == "elsewhere"
        else _("Nobody is waiting for your desk's themes right now."),
    )
    return redirect("counselling:desk")


def _own_referrals_waiting(session: DeskSession) -> str | None:
    """After a call found nobody: does the desk's queue hold visitors this sitting referred on?
    "elsewhere" when another desk serving their theme will call them, "here" when this desk
    will (nobody else serves it: see `services._call_next_at`), None when there are none."""
    themes = set(
        selectors.waiting_for_desk(session)
        .filter(referred_by=session)
        .values_list("theme_id", flat=True)
    )
    if not themes:
        return None
    return "elsewhere" if themes <= services.themes_served_elsewhere(session) else "here"


@staff_view(*COUNSELLOR)
@require_POST
def call_ticket(request: HttpRequest) -> HttpResponse:
    form = CallTicketForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a ticket and why it is called out of order."))
        return redirect("counselling:desk")
    return _act(
        request,
        services.call_ticket,
        visit_id=form.cleaned_data["visit"],
        reason=form.cleaned_data["reason"],
    )


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def recall(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(request, services.recall, _("Called again."), visit_id=visit_id)


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def no_show(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(request, services.mark_no_show, visit_id=visit_id)


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def put_back(request: HttpRequest, visit_id: int) -> HttpResponse:
    try:
        visit = services.put_back(site_id=request.site.pk, visit_id=visit_id)
        messages.success(
            request, _("Ticket %(code)s is back in the queue at its place.") % {"code": visit.code}
        )
    except services.CounsellingError as refusal:
        messages.error(request, str(refusal))
    return redirect("counselling:desk")


@staff_view(*COUNSELLOR)
@require_POST
def start_appointment(request: HttpRequest) -> HttpResponse:
    """Start a phone or video appointment of the desk, during its slot."""
    appointment_id = parse_id(request.POST.get("appointment", ""))
    if appointment_id is None:
        messages.error(request, _("Your page was out of date; nothing was changed."))
        return redirect("counselling:desk")

    def start_it(**desk):
        interview = appointments.start_remote(**desk, appointment_id=appointment_id)
        return _desk_showing(interview.visit_id)

    return _act(request, start_it)


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def start(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(request, services.start_interview, visit_id=visit_id, showing=visit_id)


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def finish(request: HttpRequest, visit_id: int) -> HttpResponse:
    # The service locks the desk and its visitor, tells a repeat or a stale page (before
    # anything else) and holds the answers against the visitor's theme and site. So neither the
    # session nor the visit is read here first.
    form = FinishAnswersForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Some answers are not valid choices; nothing was saved."))
        return redirect("counselling:desk")
    data = form.cleaned_data
    answers = {
        "visit_id": visit_id,
        "channel": data["channel"],
        "topic_ids": data["topics"],
        "outcomes": data["outcomes"],
        "refer_theme_id": data["refer_theme"],
        "referral_reason": data["referral_reason"],
        "partner_kind": data["partner_kind"],
    }
    if request.POST.get("then") != "call_next":
        return _act(
            request,
            services.finish_interview,
            _("Interview recorded."),
            **answers,
        )
    try:
        done = services.finish_and_call_next(
            site_id=request.site.pk, counsellor=request.user, **answers
        )
    except services.CounsellingError as refusal:
        messages.error(request, str(refusal))
        return redirect("counselling:desk")
    if done.paused:
        messages.success(request, _("Interview recorded. Your desk is paused: nobody was called."))
    elif done.called is None:
        waiting = _own_referrals_waiting(done.session)
        if waiting == "elsewhere":
            text = _(
                "Interview recorded. Only visitors you referred on are waiting: another desk "
                "serving their theme will call them."
            )
        elif waiting == "here":
            text = _(
                "Interview recorded. Nobody else is waiting: the visitor you referred on is next "
                "at your desk, as no other desk serves their theme now."
            )
        else:
            text = _("Interview recorded. Nobody is waiting for your desk's themes right now.")
        messages.success(request, text)
    else:
        messages.success(
            request,
            _("Interview recorded. Ticket %(code)s is called.") % {"code": done.called.code},
        )
        return _desk_showing(done.called.pk)
    return redirect("counselling:desk")


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def hand_back(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(
        request,
        services.hand_back,
        _("The visitor is back in the queue at their place."),
        visit_id=visit_id,
    )


@staff_view(*COUNSELLOR)
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    return _act(request, services.pause_desk)


@staff_view(*COUNSELLOR)
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    return _act(request, services.resume_desk)


@staff_view(*COUNSELLOR)
@require_POST
def close(request: HttpRequest) -> HttpResponse:
    return _act(request, services.close_desk, _("Your desk is closed. Thank you!"))


@staff_view(*COUNSELLOR)
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    interviews = list(selectors.interviews_today(request.user, request.site))
    sittings = selectors.sittings_today(request.user, request.site)
    return render(request, "counselling/day.html", {"interviews": interviews, "sittings": sittings})


@staff_view(*COUNSELLOR)
@require_GET
def take_away_search(request: HttpRequest) -> HttpResponse:
    """The inline catalogue search of the interview screen (htmx fragment)."""
    session = _session_or_none(request)
    visit = services.current_visit(session) if session else None
    query = request.GET.get("tq", "")[:200]
    return render(
        request,
        "counselling/desk.html#take_away_results",
        {"take_away_results": _catalogue_hits(query), "tq": query, "visit": visit},
    )


def _resource_id(request: HttpRequest) -> int:
    return parse_id(request.POST.get("resource", "")) or 0


def _take_away_query(request: HttpRequest) -> str:
    """The search the counsellor added or removed a document from (the page posts it back)."""
    return request.POST.get("tq", "").strip()[:200]


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def take_away_add(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(
        request,
        services.add_to_take_away,
        query=_take_away_query(request),
        resource_id=_resource_id(request),
        visit_id=visit_id,
    )


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def take_away_remove(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(
        request,
        services.remove_from_take_away,
        query=_take_away_query(request),
        resource_id=_resource_id(request),
        visit_id=visit_id,
    )


def _event_id(request: HttpRequest) -> int:
    return parse_id(request.POST.get("event", "")) or 0


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def take_away_add_event(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(
        request,
        services.add_event_to_take_away,
        event_id=_event_id(request),
        visit_id=visit_id,
    )


@staff_view(*COUNSELLOR)
@require_POST
@_posting_visit
def take_away_remove_event(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _act(
        request,
        services.remove_event_from_take_away,
        event_id=_event_id(request),
        visit_id=visit_id,
    )


# --- The counsellor's own plan, and its calendar address ---------------------------------------


def _plan_page(request: HttpRequest, secret: str | None = None) -> HttpResponse:
    first = request.site.local_date()
    sessions = plan_feed.plan_of(request.user, request.site, first, plan_feed.PAGE_DAYS)
    context = {
        "days": plan_feed.by_day(sessions),
        "feed": PlanFeed.objects.filter(counsellor=request.user).first(),
        "weeks": plan_feed.PAGE_DAYS // 7,
        "feed_weeks": plan_feed.FEED_DAYS // 7,
    }
    if secret is not None:
        address = request.build_absolute_uri(reverse("counselling:plan_feed", args=[secret]))
        context["address"] = address
        context["webcal"] = "webcal://" + address.split("://", 1)[1]
    response = render(request, "counselling/plan.html", context)
    # The address shown once goes to no other site as a referrer.
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@staff_view(*COUNSELLOR)
@require_GET
def my_plan(request: HttpRequest) -> HttpResponse:
    return _plan_page(request)


def _new_address(request: HttpRequest, action) -> HttpResponse:
    """Run `action` (create or replace) and show the page with the new address: the only time
    it is shown (a reload posts again and asks first, as a browser does)."""
    try:
        secret = action(counsellor=request.user, language=translation.get_language())
    except plan_feed.PlanFeedError as refusal:
        messages.error(request, str(refusal))
        return redirect("counselling:plan")
    return _plan_page(request, secret)


@never_cache
@staff_view(*COUNSELLOR)
@require_POST
def plan_feed_create(request: HttpRequest) -> HttpResponse:
    return _new_address(request, plan_feed.create_plan_feed)


@never_cache
@staff_view(*COUNSELLOR)
@require_POST
def plan_feed_replace(request: HttpRequest) -> HttpResponse:
    return _new_address(request, plan_feed.replace_plan_feed)


@staff_view(*COUNSELLOR)
@require_POST
def plan_feed_turn_off(request: HttpRequest) -> HttpResponse:
    if attempt(request, plan_feed.turn_off_plan_feed, counsellor=request.user):
        messages.success(request, _("Your calendar address is turned off."))
    return redirect("counselling:plan")


# A calendar app reads a feed every few minutes to every few hours. Those of the big providers
# read from shared networks: the limits are for load, not for guessing (a secret of 256 bits is
# not guessed).
FEED_LIMITS = {"per_address": 120, "per_network": 1200, "everyone": 20000}


@require_GET
def plan_calendar(request: HttpRequest, secret: str) -> HttpResponse:
    """The counsellor's plan as a calendar, at the private address: no login (calendar apps
    cannot log in). An unknown or replaced secret, or an account no longer in use: 404."""
    try:
        refused = over_hourly_limits(request, "plan-feed", **FEED_LIMITS)
    except CacheUnavailable:
        refused = False  # nothing can count: the feed is still read
    if refused:
        response = HttpResponse(status=429)
        response["Retry-After"] = "3600"
        return response
    feed = plan_feed.find_plan_feed(secret)
    sites = plan_feed.feed_sites(feed.counsellor) if feed is not None else []
    if not sites:
        raise Http404
    with translation.override(feed.language):
        body = plan_feed.feed_bytes(feed.counsellor, sites)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
