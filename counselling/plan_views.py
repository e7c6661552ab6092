"""The managers' presence plan: the week of their site, and the forms that change the plan.

Every write goes through `counselling.planning`; a refusal is shown on the same form with what
was typed (HTTP 200), and nothing is changed. A session or an exception of another site is a
404. A change lands back on the week it is about."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.models import Partner, Site, Theme, User
from citedesmetiers.roles import Role

from . import planning
from .models import Desk, Occurrence, PlanException, PlanMode, PlannedSession, plan_between
from .plan_forms import (
    EndSessionForm,
    ExceptionForm,
    SessionForm,
    channel_label,
    in_plan_years,
)
from .services import appointments

MANAGER = (Role.MANAGER,)
Kind = PlanException.Kind
WEEK_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- the week -------------------------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _chosen_monday(request: HttpRequest) -> dt.date:
    """The Monday of the week holding `?week=` (any day of it); this week when it is missing or
    not a date of the plan."""
    value = request.GET.get("week", "").strip()
    if WEEK_VALUE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:  # well-formed but impossible, like 2026-02-30
            day = None
        if day is not None and in_plan_years(day):
            return monday_of(day)
    return monday_of(request.site.local_date())


def week_url(day: dt.date) -> str:
    return f"{reverse('planning:week')}?week={monday_of(day):%Y-%m-%d}"


@dataclass
class Shown:
    """One occurrence as the week shows it, with the names it needs and what to act on."""

    starts: dt.time
    ends: dt.time
    desk: Desk
    partner: Partner
    themes: list[Theme]
    mode: str
    mode_label: str
    channels: list[str]
    counsellor: User | None
    session_id: int | None = None  # a weekly session, to edit
    extra_id: int | None = None  # an extra session, to remove


@dataclass
class Day:
    day: dt.date
    today: bool
    occurrences: list[Shown] = field(default_factory=list)
    notices: list[PlanException] = field(default_factory=list)  # closed, holiday, absent

    @property
    def empty(self) -> bool:
        return not self.occurrences and not self.notices


def _key(site: Site, day: dt.date, desk_id: int, starts: dt.time) -> tuple:
    # Matches `Occurrence`: its start in UTC, so a session is found across a change of time.
    return desk_id, dt.datetime.combine(day, starts, tzinfo=site.zone).astimezone(dt.UTC)


def _week(site: Site, monday: dt.date) -> list[Day]:
    sunday = monday + dt.timedelta(days=6)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    occurrences = plan_between(site, days[0], days[-1])
    weekly = list(
        PlannedSession.objects.filter(site=site, valid_from__lte=sunday).exclude(
            valid_until__lt=monday
        )
    )
    exceptions = list(
        PlanException.objects.filter(site=site, day__range=(monday, sunday)).select_related(
            "partner"
        )
    )
    sessions, extras = {}, {}
    for day in days:
        for planned in weekly:
            valid = planned.valid_from <= day and (
                planned.valid_until is None or day <= planned.valid_until
            )
            if planned.weekday == day.weekday() and valid:
                sessions[_key(site, day, planned.desk_id, planned.starts)] = planned.pk
    for exception in exceptions:
        if exception.kind == Kind.EXTRA_SESSION:
            extras[_key(site, exception.day, exception.desk_id, exception.starts)] = exception.pk
    found = [o for day_occurrences in occurrences.values() for o in day_occurrences]
    desks = Desk.objects.in_bulk({o.desk_id for o in found})
    partners = Partner.objects.in_bulk({o.partner_id for o in found})
    themes = Theme.objects.in_bulk({t for o in found for t in o.theme_ids})
    counsellors = User.objects.in_bulk({o.counsellor_id for o in found} - {None})
    modes = dict(PlanMode.choices)
    today = site.local_date()

    def shown(occurrence: Occurrence) -> Shown:
        key = (occurrence.desk_id, occurrence.starts)
        return Shown(
            starts=occurrence.starts.astimezone(site.zone).time(),
            ends=occurrence.ends.astimezone(site.zone).time(),
            desk=desks[occurrence.desk_id],
            partner=partners[occurrence.partner_id],
            themes=sorted(
                (themes[t] for t in occurrence.theme_ids), key=lambda t: (t.order, t.name)
            ),
            mode=occurrence.mode,
            mode_label=modes.get(occurrence.mode, occurrence.mode),
            channels=[channel_label(c) for c in occurrence.channels],
            counsellor=counsellors.get(occurrence.counsellor_id),
            session_id=sessions.get(key),
            extra_id=extras.get(key),
        )

    week = [
        Day(
            day=day,
            today=day == today,
            occurrences=[shown(o) for o in occurrences[day]],
            notices=[e for e in exceptions if e.day == day and e.kind != Kind.EXTRA_SESSION],
        )
        for day in days
    ]
    return week if not week[6].empty else week[:6]


@never_cache
@staff_view(*MANAGER)
@require_GET
def week(request: HttpRequest) -> HttpResponse:
    site = request.site
    monday = _chosen_monday(request)
    days = _week(site, monday)
    previous, following = monday - dt.timedelta(days=7), monday + dt.timedelta(days=7)
    return render(
        request,
        "counselling/planning/week.html",
        {
            "site": site,
            "monday": monday,
            "days": days,
            "week_value": f"{monday:%Y-%m-%d}",
            "previous": f"{previous:%Y-%m-%d}" if in_plan_years(previous) else "",
            "following": f"{following:%Y-%m-%d}" if in_plan_years(following) else "",
            "this_week": monday == monday_of(site.local_date()),
            "unplanned": appointments.without_planned_desk(site),
        },
    )


# --- weekly sessions ------------------------------------------------------------------------


def _first_day(valid_from: dt.date, weekday: int) -> dt.date:
    """The first day of a weekly session: its weekday on or after `valid_from`."""
    return valid_from + dt.timedelta(days=(weekday - valid_from.weekday()) % 7)


def _form_page(request, template: str, context: dict) -> HttpResponse:
    return render(request, f"counselling/planning/{template}", {"site": request.site, **context})


@staff_view(*MANAGER)
@require_http_methods(["GET", "POST"])
def session_add(request: HttpRequest) -> HttpResponse:
    monday = _chosen_monday(request)
    form = SessionForm(
        request.POST or None,
        site=request.site,
        initial={"valid_from": monday, "mode": PlanMode.WALK_IN},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = planning.plan_session(site=request.site, **form.plan_fields())
        except planning.PlanError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("%(desk)s is planned every %(weekday)s, %(starts)s–%(ends)s.")
                % _session_words(session),
            )
            return redirect(week_url(_first_day(session.valid_from, session.weekday)))
    return _form_page(
        request, "session_form.html", {"form": form, "session": None, "back": week_url(monday)}
    )


def _session_words(session: PlannedSession) -> dict:
    return {
        "desk": session.desk.name,
        "weekday": WEEKDAYS[session.weekday],
        "starts": f"{session.starts:%H:%M}",
        "ends": f"{session.ends:%H:%M}",
    }


def _session_of_site(request: HttpRequest, session_id: int) -> PlannedSession:
    return get_object_or_404(
        PlannedSession.objects.select_related("desk", "partner", "counsellor").prefetch_related(
            "themes"
        ),
        pk=session_id,
        site=request.site,
    )


def _edit_page(request, session, form, end_form) -> HttpResponse:
    shown = _first_day(max(session.valid_from, request.site.local_date()), session.weekday)
    if session.valid_until is not None and shown > session.valid_until:
        shown = session.valid_until
    return _form_page(
        request,
        "session_form.html",
        {
            "form": form,
            "end_form": end_form,
            "session": session,
            "back": week_url(shown),
        },
    )


@staff_view(*MANAGER)
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session_of_site(request, session_id)
    form = SessionForm(
        request.POST or None,
        site=request.site,
        current=session,
        initial=SessionForm.initial_of(session),
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = planning.change_session(session_id=session.pk, **form.plan_fields())
        except planning.PlanError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("Saved: %(desk)s every %(weekday)s, %(starts)s–%(ends)s.")
                % _session_words(session),
            )
            return redirect(week_url(_first_day(session.valid_from, session.weekday)))
    end_form = EndSessionForm(initial={"last_day": request.site.local_date()})
    return _edit_page(request, session, form, end_form)


@staff_view(*MANAGER)
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session_of_site(request, session_id)
    end_form = EndSessionForm(request.POST)
    if end_form.is_valid():
        last_day = end_form.cleaned_data["last_day"]
        try:
            session = planning.end_session(session_id=session.pk, last_day=last_day)
        except planning.PlanError as refusal:
            end_form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("%(desk)s on %(weekday)s, %(starts)s–%(ends)s, ends after %(day)s.")
                % {**_session_words(session), "day": date_format(last_day)},
            )
            return redirect(week_url(last_day))
    form = SessionForm(site=request.site, current=session, initial=SessionForm.initial_of(session))
    return _edit_page(request, session, form, end_form)


# --- exceptions -----------------------------------------------------------------------------


@staff_view(*MANAGER)
@require_http_methods(["GET", "POST"])
def exception_add(request: HttpRequest) -> HttpResponse:
    monday = _chosen_monday(request)
    form = ExceptionForm(
        request.POST or None,
        site=request.site,
        initial={"day": max(monday, request.site.local_date()), "mode": PlanMode.WALK_IN},
    )
    if request.method == "POST" and form.is_valid():
        try:
            exception = planning.add_exception(site=request.site, **form.exception_fields())
        except planning.PlanError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("%(day)s: %(kind)s.")
                % {"day": date_format(exception.day), "kind": exception.get_kind_display()},
            )
            return redirect(week_url(exception.day))
    return _form_page(request, "exception_form.html", {"form": form, "back": week_url(monday)})


@staff_view(*MANAGER)
@require_POST
def exception_remove(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = get_object_or_404(PlanException, pk=exception_id, site=request.site)
    try:
        planning.remove_exception(exception_id=exception.pk)
    except planning.PlanError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("Removed from %(day)s: %(kind)s.")
            % {"day": date_format(exception.day), "kind": exception.get_kind_display()},
        )
    return redirect(week_url(exception.day))
