"""The information officers' side of the catalogue: find, create, edit, withdraw; import and export
spreadsheets. Thin views: forms parse, services write, spreadsheets read and plan."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from citedesmetiers import audit, exports
from citedesmetiers.access import staff_view
from citedesmetiers.ids import parse_id
from citedesmetiers.models import AuditEntry, Site
from citedesmetiers.refusals import attempt
from citedesmetiers.roles import Role

from . import imports, services, spreadsheets, week
from . import search as catalogue_search
from .forms import ImportForm, ResourceForm
from .models import CatalogueImport, Holding, Purpose, Resource
from .text import words

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
OFFICER_ROLES = (Role.INFORMATION_OFFICER, Role.MANAGER)
PAGE_SIZE = 25
SESSION_IMPORTS = "resource_imports"
# A preview lists at most this many rows of each kind (the counts are always complete).
PREVIEW_ROWS = 500


# --- list ----------------------------------------------------------------------------------------


@staff_view(*OFFICER_ROLES)
@require_GET
def resource_list(request: HttpRequest) -> HttpResponse:
    # PostgreSQL refuses NUL in text; no control character means anything in a search anyway.
    filters = catalogue_search.Filters.from_query(
        {name: _CONTROL.sub("", value) for name, value in request.GET.items()}
    )
    withdrawn = request.GET.get("withdrawn") == "1"
    matching = catalogue_search.matching(filters, include_withdrawn=withdrawn)
    ranked = connection.vendor == "postgresql" and words(filters.q)
    ordered = matching.distinct().order_by(*(("-rank",) if ranked else ()), "title", "pk")
    paginator = Paginator(
        ordered.prefetch_related(
            Prefetch(
                "holdings",
                queryset=Holding.objects.filter(site=request.site),
                to_attr="site_holdings",
            )
        ),
        PAGE_SIZE,
    )
    paginator.count = Resource.objects.filter(pk__in=matching.values("pk")).count()
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": paginator.get_page(request.GET.get("page") or 1),
        "filters": filters,
        "withdrawn": withdrawn,
        "kinds": Resource.Kind.choices,
        "purposes": Purpose.objects.all(),
        "sites": Site.objects.filter(active=True),
        "params": params.urlencode(),
        "week": week.chosen_at(request.site),
    }
    return render(request, "resources/staff/list.html", context)


# --- create, edit, withdraw ----------------------------------------------------------------------


def _edit(request: HttpRequest, resource: Resource | None) -> HttpResponse:
    form = ResourceForm(request.POST or None, instance=resource, site=request.site)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_resource(
                site=request.site,
                resource_id=resource.pk if resource else None,
                **form.service_arguments(),
            )
        except services.CatalogueError as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("“%(title)s” is saved.") % {"title": saved.title})
            return redirect("resources_staff:edit", resource_id=saved.pk)
    elsewhere = (
        resource.holdings.exclude(site=request.site).select_related("site") if resource else []
    )
    context = {"form": form, "resource": resource, "elsewhere": elsewhere, "site": request.site}
    if resource is not None:
        chosen = week.chosen_at(request.site)
        context.update(
            week=chosen,
            is_week=chosen is not None and chosen.resource_id == resource.pk,
            may_be_week=week.may_be_shown(resource, request.site),
        )
    return render(request, "resources/staff/form.html", context)


@staff_view(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def resource_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@staff_view(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Resource, pk=resource_id))


@staff_view(*OFFICER_ROLES)
@require_POST
def resource_withdraw(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = services.withdraw_resource(
        resource_id=get_object_or_404(Resource, pk=resource_id).pk
    )
    messages.success(
        request,
        _("“%(title)s” is withdrawn: the public catalogue no longer shows it.")
        % {"title": resource.title},
    )
    return redirect("resources_staff:edit", resource_id=resource.pk)


@staff_view(*OFFICER_ROLES)
@require_POST
def resource_restore(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = services.restore_resource(resource_id=get_object_or_404(Resource, pk=resource_id).pk)
    messages.success(
        request, _("“%(title)s” is back in the public catalogue.") % {"title": resource.title}
    )
    return redirect("resources_staff:edit", resource_id=resource.pk)


# --- the resource of the week (the waiting-room screen) ------------------------------------------


@staff_view(*OFFICER_ROLES)
@require_POST
def week_choose(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = get_object_or_404(Resource, pk=resource_id)
    if attempt(
        request, week.choose, site=request.site, resource_id=resource.pk, officer=request.user
    ):
        messages.success(
            request,
            _("“%(title)s” is the resource of the week on the waiting-room screen of %(site)s.")
            % {"title": resource.title, "site": request.site.name},
        )
    return redirect("resources_staff:edit", resource_id=resource.pk)


@staff_view(*OFFICER_ROLES)
@require_POST
def week_clear(request: HttpRequest) -> HttpResponse:
    resource = week.clear(site=request.site, officer=request.user)
    if resource is None:
        messages.info(request, _("There is no resource of the week to take off."))
    else:
        messages.success(
            request,
            _("“%(title)s” is no longer on the waiting-room screen.") % {"title": resource.title},
        )
    # Back to the record's page when taken off from there.
    back = parse_id(request.POST.get("back"))
    if back is not None and Resource.objects.filter(pk=back).exists():
        return redirect("resources_staff:edit", resource_id=back)
    return redirect("resources_staff:list")


# --- import --------------------------------------------------------------------------------------

Status = CatalogueImport.Status
# While a file is checked or imported, its page asks every this many seconds how far it got.
PROGRESS_POLL_SECONDS = 2


def _job(request: HttpRequest, upload_id: uuid.UUID) -> CatalogueImport:
    """The upload this officer made in this session, else 404: an id alone opens nothing."""
    if str(upload_id) not in request.session.get(SESSION_IMPORTS, {}):
        raise Http404(_("This import is not yours or is already finished."))
    job = (
        CatalogueImport.objects.defer("data")
        .annotate(data_kept=Length("data"))
        .filter(token=upload_id, created_by=request.user)
        .first()
    )
    if job is None:
        raise Http404(_("This import is not yours or is already finished."))
    return job


def _forget(request: HttpRequest, upload_id: uuid.UUID) -> None:
    pending = request.session.get(SESSION_IMPORTS, {})
    if pending.pop(str(upload_id), None) is not None:
        request.session[SESSION_IMPORTS] = pending


def _other_site(request: HttpRequest, job: CatalogueImport) -> bool:
    if job.site_id == request.site.pk:
        return False
    messages.warning(
        request, _("This file was prepared for another site. Upload it again from this one.")
    )
    return True


@never_cache
@staff_view(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = imports.upload(
            site=request.site,
            officer=request.user,
            name=form.cleaned_data["file"].name,
            data=form.content,
            fmt=form.fmt,
            holdings=form.cleaned_data["holdings"],
            estimate=form.rows,
        )
        pending = request.session.get(SESSION_IMPORTS, {})
        pending[str(job.token)] = job.name
        request.session[SESSION_IMPORTS] = pending
        return redirect("resources_staff:import_preview", upload_id=job.token)
    return render(
        request,
        "resources/staff/import.html",
        {"form": form, "columns": spreadsheets.column_help()},
    )


def _render_preview(
    request, job: CatalogueImport, plan: spreadsheets.PlanSummary, status: int = 200
) -> HttpResponse:
    show = request.GET.get("show") or ("error" if plan.error_count else "all")
    if show not in ("all", spreadsheets.NEW, spreadsheets.UPDATE, spreadsheets.ERROR):
        show = "all"
    rows = [row for row in plan.rows if show == "all" or row.status == show][:PREVIEW_ROWS]
    context = {
        "upload_id": job.token,
        "entry": job,
        "plan": plan,
        "show": show,
        "rows": rows,
        "hidden_rows": max(0, plan.count(show) - len(rows)),
    }
    return render(request, "resources/staff/preview.html", context, status=status)


def _imported(request: HttpRequest, job: CatalogueImport) -> None:
    created = job.result.get("created", 0)
    updated = job.result.get("updated", 0)
    unchanged = job.result.get("unchanged", 0)
    messages.success(
        request,
        _("Imported: %(created)s, %(updated)s, %(unchanged)s.")
        % {
            "created": ngettext("%(n)s new record", "%(n)s new records", created) % {"n": created},
            "updated": ngettext("%(n)s record updated", "%(n)s records updated", updated)
            % {"n": updated},
            "unchanged": ngettext("%(n)s unchanged", "%(n)s unchanged", unchanged)
            % {"n": unchanged},
        },
    )


@never_cache
@staff_view(*OFFICER_ROLES)
@require_GET
def import_preview(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    """The page of one upload, whatever its state: being checked (it polls), the dry run to
    confirm, being imported (it polls), imported, or why nothing was imported."""
    job = _job(request, upload_id)
    in_progress = job.status in (Status.CHECKING, Status.QUEUED, Status.RUNNING)
    if request.htmx:
        if not in_progress or job.is_stale():
            return HttpResponseClientRefresh()  # another kind of page now: load it whole
        return render(request, "resources/staff/import_status.html#progress", _status(job))
    if _other_site(request, job):
        return redirect("resources_staff:import")
    if job.status == Status.FAILED and not job.data_kept:
        # The file itself cannot be used: as at the upload, say why and start again.
        messages.error(request, job.message)
        imports.drop(import_id=job.pk)
        _forget(request, upload_id)
        return redirect("resources_staff:import")
    if job.status == Status.CHECKED or (job.status == Status.FAILED and job.plan):
        plan = spreadsheets.PlanSummary.of(job.plan)
        if job.status == Status.FAILED and plan.ok:
            return render(request, "resources/staff/import_status.html", _status(job))
        if job.status == Status.FAILED:
            messages.error(request, job.message)
        return _render_preview(request, job, plan)
    return render(request, "resources/staff/import_status.html", _status(job))


def _status(job: CatalogueImport) -> dict:
    return {
        "job": job,
        "upload_id": job.token,
        "stale": job.is_stale(),
        "percent": min(100, round(100 * job.written / job.rows)) if job.rows else 0,
        "waiting_for_another": job.status == Status.QUEUED
        and CatalogueImport.objects.filter(status=Status.RUNNING).exists(),
        "poll_seconds": PROGRESS_POLL_SECONDS,
    }


@staff_view(*OFFICER_ROLES)
@require_POST
def import_confirm(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    job = _job(request, upload_id)
    if _other_site(request, job):
        return redirect("resources_staff:import")
    try:
        job = imports.confirm(import_id=job.pk)
    except imports.ImportGone as refusal:
        messages.error(request, str(refusal))
        return redirect("resources_staff:import")
    except imports.ImportRefused as refusal:
        messages.error(request, str(refusal))
        return _render_preview(request, job, spreadsheets.PlanSummary.of(job.plan), status=409)
    return _after_run(request, job)


def _after_run(request: HttpRequest, job: CatalogueImport) -> HttpResponse:
    if job.status == Status.DONE and job.finished_at and job.result:
        _imported(request, job)
        _forget(request, job.token)
        return redirect("resources_staff:list")
    if job.status == Status.FAILED and job.plan and not spreadsheets.PlanSummary.of(job.plan).ok:
        # The catalogue changed since the dry run and rows now have errors: show them.
        messages.error(request, job.message)
        return _render_preview(request, job, spreadsheets.PlanSummary.of(job.plan), status=409)
    return redirect("resources_staff:import_preview", upload_id=job.token)


@staff_view(*OFFICER_ROLES)
@require_POST
def import_retry(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    job = _job(request, upload_id)
    if _other_site(request, job):
        return redirect("resources_staff:import")
    try:
        return _after_run(request, imports.retry(import_id=job.pk))
    except imports.ImportGone as refusal:
        messages.error(request, str(refusal))
        return redirect("resources_staff:import")


@staff_view(*OFFICER_ROLES)
@require_POST
def import_cancel(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    job = _job(request, upload_id)
    if not imports.drop(import_id=job.pk):
        messages.warning(request, _("This file is being imported; it can no longer be dropped."))
        return redirect("resources_staff:import_preview", upload_id=upload_id)
    _forget(request, upload_id)
    messages.success(request, _("The file was dropped; nothing was imported."))
    return redirect("resources_staff:import")


# --- export --------------------------------------------------------------------------------------


@staff_view(*OFFICER_ROLES)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format") or "csv"
    if fmt not in exports.FORMATS:
        raise Http404(_("Unknown format."))
    slug = request.GET.get("site") or ""
    if slug and not re.fullmatch(r"[-\w]+", slug):
        raise Http404(_("Unknown site."))
    only_site = get_object_or_404(Site, slug=slug, active=True) if slug else None
    content = spreadsheets.export_catalogue(
        fmt=fmt, holding_site=only_site or request.site, only_site=only_site
    )
    audit.record(
        actor=request.user,
        action=AuditEntry.Action.EXPORT,
        subject="catalogue",
        detail=f"{fmt}, {'holdings of ' + only_site.slug if only_site else 'whole catalogue'}",
        site=request.site,
    )
    return exports.download(content, fmt, spreadsheets.export_filename(fmt, only_site))
