"""Managers: the live and monthly dashboard, CSV exports, and the monthly PDF reports."""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from citedesmetiers import audit, exports
from citedesmetiers.access import managed_cites, network_wide, sites_for, staff_view
from citedesmetiers.ids import MonthConverter, YearConverter, parse_id
from citedesmetiers.models import AuditEntry, Cite, Partner, Site, Theme
from citedesmetiers.replica import reads_from_replica
from citedesmetiers.roles import Role
from counselling.models import DeskSession
from reception.models import Call, Visit

from . import charts, report_runs, report_service, stats
from .feedback import feedback_section
from .models import AggregatedDay, MonthlyReport
from .reports import honesty_section, key_figures, presence_section
from .stats import month_bounds

MANAGER = (Role.MANAGER,)


def _can_see_network(user) -> bool:
    return network_wide(user, *MANAGER)


def _chosen_sites(request: HttpRequest) -> tuple[list[Site], Site | None]:
    """The dashboard's sites: one chosen site, or (“all”) every site the manager manages, to
    compare them: a Cité's for its manager, the network's for a network manager."""
    allowed = list(sites_for(request.user, *MANAGER))
    wanted = request.GET.get("site", "")
    if wanted == "all" and len(allowed) > 1:
        return allowed, None
    for site in allowed:
        if site.slug == wanted:
            return [site], site
    if wanted and wanted != "all":
        raise PermissionDenied(_("You do not work at this site."))
    return [request.site], request.site


def _long_waits(sites: list[Site], now) -> list[tuple[Site, Theme, int]]:
    """(site, theme, minutes) of each theme whose longest wait now passed its site's alert
    threshold, longest first."""
    by_pk = {site.pk: site for site in sites}
    oldest = (
        Visit.objects.filter(site__in=sites, status=Visit.Status.WAITING)
        .values_list("site", "theme")
        .annotate(oldest=Min("queued_at"))
    )
    themes = {t.pk: t for t in Theme.objects.filter(site__in=sites)}
    alerts = []
    for site_id, theme_id, queued in oldest:
        site, minutes = by_pk[site_id], int((now - queued).total_seconds() // 60)
        if site.long_wait_minutes is not None and minutes >= site.long_wait_minutes:
            alerts.append((site, themes[theme_id], minutes))
    return sorted(alerts, key=lambda alert: -alert[2])


def _today_live(sites: list[Site]) -> dict:
    now = timezone.now()
    days = {site.pk: site.local_date(now) for site in sites}
    visits = Visit.objects.filter(site__in=sites)
    today = [
        v
        for v in visits.filter(local_date__in=set(days.values())).values(
            "site_id", "local_date", "status", "arrived_at", "pk"
        )
        if days[v["site_id"]] == v["local_date"]
    ]
    first_calls = {}
    for visit_id, at in (
        Call.objects.filter(visit_id__in=[v["pk"] for v in today], kind=Call.Kind.CALL)
        .order_by("at")
        .values_list("visit_id", "at")
    ):
        first_calls.setdefault(visit_id, at)
    waits = [
        (first_calls[v["pk"]] - v["arrived_at"]).total_seconds() / 60
        for v in today
        if v["pk"] in first_calls
    ]
    return {
        "long_waits": _long_waits(sites, now),
        "arrived": len(today),
        "waiting": sum(1 for v in today if v["status"] == Visit.Status.WAITING),
        "served": sum(1 for v in today if v["status"] == Visit.Status.DONE),
        "median_wait": round(statistics.median(waits)) if waits else None,
        "desks_open": DeskSession.objects.filter(
            desk__site__in=sites, closed_at__isnull=True
        ).count(),
    }


def _filters(request: HttpRequest, sites: list[Site]) -> dict[str, str]:
    filters = {}
    theme = parse_id(request.GET.get("theme", ""))
    if theme and Theme.objects.filter(pk=theme, site__in=sites).exists():
        filters["theme"] = str(theme)
    partner = parse_id(request.GET.get("partner", ""))
    if partner and Partner.objects.filter(pk=partner).exists():
        filters["partner"] = str(partner)
    return filters


def _tables(sites, start, end, filters) -> dict[str, list[tuple[str, int]]]:
    figures = stats.read(sites, start, end, **filters)
    themes = {str(t.pk): t.name for t in Theme.objects.filter(site__in=sites)}
    partners = {str(p.pk): p.name for p in Partner.objects.all()}
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    return {
        "visits_by_day": [(d.isoformat(), figures.by_day["visits"].get(d, 0)) for d in days],
        "visits_by_theme": sorted(
            ((themes.get(t, "?"), n) for t, n in figures.by("visits", "theme").items()),
            key=lambda r: -r[1],
        ),
        "interviews_by_partner": sorted(
            (
                (partners.get(p, _("none")), n)
                for p, n in figures.by("interviews", "partner").items()
            ),
            key=lambda r: -r[1],
        ),
        "_figures": figures,
        "_theme_names": themes,
        "_partner_names": partners,
    }


# The month picker's value, as <input type="month"> and the report form write it: 2026-03.
MONTH_VALUE = re.compile(rf"({YearConverter.regex})-({MonthConverter.regex})")
YEAR_VALUE = re.compile(YearConverter.regex)


def _month_name(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _month_before(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


class BadMonth(ValueError):
    """A month the dashboard cannot show; its message says why, in the manager's language."""


def _months_with_figures(sites: list[Site], today: dt.date) -> list[dt.date]:
    """From the first month any of these sites has daily figures for, to this month; newest
    first (this month alone when there are none yet)."""
    first_day = (
        AggregatedDay.objects.filter(site__in=sites)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    this_month = today.replace(day=1)
    month, months = this_month, []
    while month >= min(first_day or today, today).replace(day=1):
        months.append(month)
        month = _month_before(month)
    return months or [this_month]


def _chosen_month(request: HttpRequest, months: list[dt.date]) -> dt.date:
    """The month of `?month=YYYY-MM`, one of `months`; this month when none is asked."""
    value = request.GET.get("month", "").strip()
    if not value:
        return months[0]
    match = MONTH_VALUE.fullmatch(value)
    try:
        month = dt.date(int(match[1]), int(match[2]), 1) if match else None
    except ValueError:
        month = None
    if month is None:
        raise BadMonth(_("“%(value)s” is not a month: choose one in the list.") % {"value": value})
    if month not in months:
        raise BadMonth(
            _("There are no figures for %(month)s: choose a month from %(first)s to %(last)s.")
            % {
                "month": _month_name(month),
                "first": _month_name(months[-1]),
                "last": _month_name(months[0]),
            }
        )
    return month


def _period(request: HttpRequest, sites: list[Site], site: Site | None):
    """The dashboard's month, its [start, end) (up to today for this month), the months it can
    show, and the refusal of a bad `month` (then it shows this month)."""
    zone = (site or request.site).zone
    today = timezone.localtime(timezone.now(), zone).date()
    months = _months_with_figures(sites, today)
    refusal = None
    try:
        month = _chosen_month(request, months)
    except BadMonth as bad:
        month, refusal = months[0], str(bad)
    start = month
    end = min(month_bounds(month)[1], today + dt.timedelta(days=1))
    return start, end, months, refusal


@staff_view(*MANAGER)
@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    sites, site = _chosen_sites(request)
    filters = _filters(request, sites)
    start, end, months, refusal = _period(request, sites, site)
    current = start == months[0]
    tables = _tables(sites, start, end, filters)
    previous_start = _month_before(start)
    # This month so far against the same days of last month; a past month against the whole
    # month before it.
    previous_end = min(previous_start + (end - start), start) if current else start
    previous = stats.read(sites, previous_start, previous_end, **filters)
    month_figures, theme_names = tables.pop("_figures"), tables.pop("_theme_names")
    partner_names = tables.pop("_partner_names")
    now_figures, before = key_figures(month_figures), key_figures(previous)
    comparison = [
        (label, now_figures[name], before[name])
        for label, name in (
            (_("Visits"), "visits"),
            (_("Interviews"), "interviews"),
            (_("Median wait (min)"), "median_wait"),
            (_("Average walk to the desk (min)"), "walk_minutes"),
            (_("Left before being called"), "walk_outs"),
            (_("Called, did not come"), "no_shows"),
            (_("Event registrations"), "event_registered"),
        )
    ]
    index = months.index(start)
    managed = list(sites_for(request.user, *MANAGER))
    by_year: dict[int, list] = {}
    for month in months:
        by_year.setdefault(month.year, []).append(
            (f"{month:%Y-%m}", _month_name(month), month == start)
        )

    def month_query(month: dt.date) -> str:
        """The dashboard's query (site, filters) for another month."""
        query = request.GET.copy()
        query["month"] = f"{month:%Y-%m}"
        return query.urlencode()

    context = {
        "sites": managed,
        "site": site,
        "network": site is None,
        "can_compare": len(managed) > 1,
        "live": _today_live(sites),
        "month": start,
        "current_month": current,
        "month_name": _month_name(start),
        "previous_name": _month_name(previous_start),
        "month_groups": list(by_year.items()),
        "newer": month_query(months[index - 1]) if index > 0 else "",
        "newer_name": _month_name(months[index - 1]) if index > 0 else "",
        "older": month_query(months[index + 1]) if index + 1 < len(months) else "",
        "older_name": _month_name(months[index + 1]) if index + 1 < len(months) else "",
        "refusal": refusal,
        "comparison": comparison,
        "tables": tables,
        "honesty": honesty_section(month_figures, theme_names),
        "presence": presence_section(month_figures, partner_names),
        "feedback": feedback_section(month_figures, theme_names),
        "day_chart": charts.column_chart(
            [(d[-2:], n) for d, n in tables["visits_by_day"]],
            _("Visits by day, %(month)s") % {"month": _month_name(start)},
            width=880,  # the panel's width on a 1024 px tablet: its labels are not scaled down
        ),
        "theme_chart": charts.bar_chart(tables["visits_by_theme"], _("Visits by theme")),
        "partner_chart": charts.bar_chart(
            tables["interviews_by_partner"], _("Interviews by partner institution")
        ),
        "themes": Theme.objects.filter(site__in=sites, active=True),
        "partners": Partner.objects.filter(active=True),
        "filters": filters,
        "query": month_query(start),
        "by_site": [(s.name, key_figures(stats.read([s], start, end))) for s in sites]
        if site is None
        else [],
    }
    return render(request, "figures/dashboard.html", context, status=400 if refusal else 200)


def _one_cite(sites: list[Site]) -> Cite | None:
    cites = {site.cite_id for site in sites}
    return Cite.objects.filter(pk=cites.pop()).first() if len(cites) == 1 else None


@staff_view(*MANAGER)
@require_GET
@reads_from_replica
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    sites, site = _chosen_sites(request)
    start, end, _months, refusal = _period(request, sites, site)
    if refusal:
        return HttpResponseBadRequest(refusal, content_type="text/plain; charset=utf-8")
    tables = _tables(sites, start, end, _filters(request, sites))
    if table not in tables or table.startswith("_"):
        raise Http404
    audit.record(
        actor=request.user,
        action=AuditEntry.Action.EXPORT,
        subject=f"figures: {table}",
        detail=f"{start:%Y-%m} "
        + " ".join(f"{k}={v}" for k, v in _filters(request, sites).items()),
        site=site,
        # All the sites of one Cité compared: its managers read it; else the network's do.
        cite=_one_cite(sites) if site is None else None,
    )
    rows = ((str(label), value) for label, value in tables[table])
    content = exports.csv_bytes([_("label"), _("value")], rows)
    return exports.download(content, "csv", f"{table}-{start:%Y-%m}.csv")


def _with_states(reports) -> list[MonthlyReport]:
    now, limit = timezone.now(), report_runs.run_limit()
    reports = list(reports)
    for report in reports:
        report.shown_state = report.state(now, limit)
    return reports


def _report_context() -> dict:
    return {"limit_minutes": math.ceil(settings.REPORT_TIME_LIMIT / 60)}


@staff_view(*MANAGER)
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    sites = list(sites_for(request.user, *MANAGER))
    cites = list(managed_cites(request.user))
    reports = MonthlyReport.objects.filter(Q(site__in=sites) | Q(cite__in=cites))
    if _can_see_network(request.user):
        reports = reports | MonthlyReport.objects.filter(site__isnull=True, cite__isnull=True)
    today = timezone.localdate()
    months = []
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _index in range(13):
        months.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return render(
        request,
        "figures/reports.html",
        {
            "reports": _with_states(
                reports.select_related("site", "cite").order_by("-month", "site__name")[:100]
            ),
            "sites": sites,
            "cites": cites,
            "months": months,
            "years": [today.year - back for back in range(1, 4)],
            "can_see_network": _can_see_network(request.user),
            **_report_context(),
        },
    )


def _report_place(request: HttpRequest, place: str) -> tuple[Site | None, Cite | None]:
    """The site, or the Cité, a report's address names (`report_place_key`): (None, None) for
    the network's. Only for its managers."""
    if place == "network":
        if not _can_see_network(request.user):
            raise PermissionDenied(_("Only network managers see the network report."))
        return None, None
    if place.startswith("cite:"):
        cite = get_object_or_404(Cite, slug=place.removeprefix("cite:"))
        if not managed_cites(request.user).filter(pk=cite.pk).exists():
            raise PermissionDenied(_("Only the managers of this Cité see its report."))
        return None, cite
    site = get_object_or_404(Site, slug=place)
    if not sites_for(request.user, *MANAGER).filter(pk=site.pk).exists():
        raise PermissionDenied(_("You do not work at this site."))
    return site, None


def _month(year: int, month: int) -> dt.date:
    try:
        return dt.date(year, month, 1)
    except (ValueError, OverflowError):
        raise Http404 from None


@staff_view(*MANAGER)
@require_GET
def report_pdf(request: HttpRequest, place: str, year: int, month: int) -> HttpResponse:
    return _report_page(request, place, _month(year, month), MonthlyReport.Period.MONTH)


@staff_view(*MANAGER)
@require_GET
def yearly_report_pdf(request: HttpRequest, place: str, year: int) -> HttpResponse:
    return _report_page(request, place, _month(year, 1), MonthlyReport.Period.YEAR)


def _report_page(request: HttpRequest, place: str, first: dt.date, period: str) -> HttpResponse:
    """The PDF once it is made; else what became of it, with a button to make it (a GET never
    queues anything)."""
    site, cite = _report_place(request, place)
    report = MonthlyReport.objects.filter(site=site, cite=cite, month=first, period=period).first()
    shown = report or MonthlyReport(site=site, cite=cite, month=first, period=period)
    if report is not None and report.status == MonthlyReport.Status.DONE and report.file:
        return FileResponse(
            report.file.open("rb"),
            content_type="application/pdf",
            filename=f"{place.replace(':', '-')}-{shown.period_key}.pdf",
        )
    context = {
        "site": site,
        "cite": cite,
        "place": place,
        "month": first,
        "period": shown,
        **_report_context(),
    }
    if report is None:
        try:
            report_service.check_month(site, first, cite=cite, period=period)
        except report_service.ReportError as refusal:
            context["error"] = str(refusal)
            return render(request, "figures/report_status.html", context, status=400)
        return render(request, "figures/report_status.html", context, status=404)
    context["report"] = _with_states([report])[0]
    in_progress = report.shown_state in ("waiting", "running")
    return render(
        request,
        "figures/report_status.html",
        context,
        status=202 if in_progress else 404,
    )


@staff_view(*MANAGER)
@require_POST
def report_request(request: HttpRequest) -> HttpResponse:
    """Prepare the report of a `month` (2026-03) or, with `period=year`, of a `year` (2026)."""
    place = request.POST.get("site", "")
    yearly = request.POST.get("period") == MonthlyReport.Period.YEAR
    period = MonthlyReport.Period.YEAR if yearly else MonthlyReport.Period.MONTH
    try:
        if yearly:
            first = dt.date(
                int(YEAR_VALUE.fullmatch(request.POST.get("year", "").strip())[0]), 1, 1
            )
        else:
            first = dt.date.fromisoformat(request.POST.get("month", "") + "-01")
    except (TypeError, ValueError):
        messages.error(request, _("Choose a year.") if yearly else _("Choose a month."))
        return redirect("manage:reports")
    site, cite = _report_place(request, place)
    back = reverse("manage:reports")
    if request.POST.get("next") == "pdf":
        back = MonthlyReport(site=site, cite=cite, month=first, period=period).pdf_url
    try:
        report_service.request_report(
            site=site,
            cite=cite,
            month=first,
            period=period,
            force=request.POST.get("force") == "1",
        )
    except report_service.ReportError as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    if request.POST.get("next") == "pdf":
        messages.success(
            request,
            _("The report is being prepared. This page opens it as soon as it is ready."),
        )
    else:
        messages.success(request, _("The report is being prepared. It appears below when ready."))
    return redirect(back)
