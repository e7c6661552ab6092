"""The information officers' side of the catalogue: find, create, edit, withdraw; import and export
spreadsheets. Thin views: forms parse, services write, spreadsheets read and plan."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.models import Site
from citedesmetiers.roles import Role

from . import search as catalogue_search
from . import services, spreadsheets
from .forms import ImportForm, ResourceForm
from .models import Holding, Purpose, Resource
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
    return render(
        request,
        "resources/staff/form.html",
        {"form": form, "resource": resource, "elsewhere": elsewhere, "site": request.site},
    )


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


# --- import --------------------------------------------------------------------------------------


def _pending(request: HttpRequest, upload_id: uuid.UUID) -> dict:
    """The upload this officer made in this session, else 404: an id alone opens nothing."""
    entry = request.session.get(SESSION_IMPORTS, {}).get(str(upload_id))
    if entry is None or entry.get("fmt") not in spreadsheets.FORMATS:
        raise Http404(_("This import is not yours or is already finished."))
    return entry


def _forget(request: HttpRequest, upload_id: uuid.UUID) -> None:
    pending = request.session.get(SESSION_IMPORTS, {})
    entry = pending.pop(str(upload_id), None)
    if entry is not None:
        spreadsheets.discard_upload(upload_id, entry["fmt"])
        request.session[SESSION_IMPORTS] = pending


@never_cache
@staff_view(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_id = spreadsheets.store_upload(form.content, form.fmt)
        pending = request.session.get(SESSION_IMPORTS, {})
        pending[str(upload_id)] = {
            "fmt": form.fmt,
            "name": form.cleaned_data["file"].name[:120],
            "site": request.site.pk,
            "holdings": form.cleaned_data["holdings"],
        }
        request.session[SESSION_IMPORTS] = pending
        return redirect("resources_staff:import_preview", upload_id=upload_id)
    return render(
        request,
        "resources/staff/import.html",
        {"form": form, "columns": spreadsheets.column_help()},
    )


def _render_preview(request, upload_id, entry, plan, status: int = 200) -> HttpResponse:
    show = request.GET.get("show") or ("error" if plan.error_rows else "all")
    rows = [row for row in plan.rows if show == "all" or row.status == show]
    context = {
        "upload_id": upload_id,
        "entry": entry,
        "plan": plan,
        "show": show,
        "rows": rows[:PREVIEW_ROWS],
        "hidden_rows": max(0, len(rows) - PREVIEW_ROWS),
    }
    return render(request, "resources/staff/preview.html", context, status=status)


def _read_pending(request: HttpRequest, upload_id: uuid.UUID, entry: dict) -> bytes | None:
    if entry["site"] != request.site.pk:
        messages.warning(
            request, _("This file was prepared for another site. Upload it again from this one.")
        )
        return None
    path = spreadsheets.upload_path(upload_id, entry["fmt"])
    if not path.exists():
        messages.warning(request, _("This file is no longer kept. Upload it again."))
        _forget(request, upload_id)
        return None
    return path.read_bytes()


@never_cache
@staff_view(*OFFICER_ROLES)
@require_GET
def import_preview(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    entry = _pending(request, upload_id)
    data = _read_pending(request, upload_id, entry)
    if data is None:
        return redirect("resources_staff:import")
    try:
        plan = spreadsheets.plan_import(
            data, entry["fmt"], site=request.site, holdings=entry["holdings"]
        )
    except spreadsheets.SpreadsheetError as error:
        messages.error(request, str(error))
        _forget(request, upload_id)
        return redirect("resources_staff:import")
    return _render_preview(request, upload_id, entry, plan)


@staff_view(*OFFICER_ROLES)
@require_POST
def import_confirm(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    entry = _pending(request, upload_id)
    data = _read_pending(request, upload_id, entry)
    if data is None:
        return redirect("resources_staff:import")
    try:
        plan = services.import_catalogue(
            site=request.site, data=data, fmt=entry["fmt"], holdings=entry["holdings"]
        )
    except spreadsheets.SpreadsheetError as error:
        messages.error(request, str(error))
        _forget(request, upload_id)
        return redirect("resources_staff:import")
    except services.ImportRefused as refusal:
        messages.error(request, str(refusal))
        if refusal.plan is None:
            return redirect("resources_staff:import_preview", upload_id=upload_id)
        return _render_preview(request, upload_id, entry, refusal.plan, status=409)
    _forget(request, upload_id)
    created = plan.new_count
    updated = plan.update_count - plan.unchanged_count
    messages.success(
        request,
        _("Imported: %(created)s, %(updated)s, %(unchanged)s.")
        % {
            "created": ngettext("%(n)s new record", "%(n)s new records", created) % {"n": created},
            "updated": ngettext("%(n)s record updated", "%(n)s records updated", updated)
            % {"n": updated},
            "unchanged": ngettext("%(n)s unchanged", "%(n)s unchanged", plan.unchanged_count)
            % {"n": plan.unchanged_count},
        },
    )
    return redirect("resources_staff:list")


@staff_view(*OFFICER_ROLES)
@require_POST
def import_cancel(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    _pending(request, upload_id)
    _forget(request, upload_id)
    messages.success(request, _("The file was dropped; nothing was imported."))
    return redirect("resources_staff:import")


# --- export --------------------------------------------------------------------------------------


@staff_view(*OFFICER_ROLES)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format") or "csv"
    if fmt not in spreadsheets.FORMATS:
        raise Http404(_("Unknown format."))
    slug = request.GET.get("site") or ""
    if slug and not re.fullmatch(r"[-\w]+", slug):
        raise Http404(_("Unknown site."))
    only_site = get_object_or_404(Site, slug=slug, active=True) if slug else None
    content = spreadsheets.export_catalogue(
        fmt=fmt, holding_site=only_site or request.site, only_site=only_site
    )
    response = HttpResponse(content, content_type=spreadsheets.CONTENT_TYPES[fmt])
    filename = spreadsheets.export_filename(fmt, only_site)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
