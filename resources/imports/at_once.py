"""The whole import at once, in this process, for scripts and tests: the same check, plan and
chunked write as an upload, without a worker."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Site

from .. import spreadsheets
from ..models import CatalogueImport
from . import running
from .errors import ImportRefused, errors_message

Status = CatalogueImport.Status


def import_catalogue(
    *, site: Site, data: bytes, fmt: str | None = None, holdings: bool = True
) -> spreadsheets.ImportPlan:
    """Import a file now, in this process, all or nothing (for scripts and tests): the same
    check, plan and chunked write as an upload. Returns the plan; raises ImportRefused (with the
    plan when rows have errors) or spreadsheets.SpreadsheetError."""
    table = spreadsheets.check_file(data, fmt)
    fmt = fmt or spreadsheets.detect_format(data)
    job = CatalogueImport.objects.create(
        site=site,
        name="",
        fmt=fmt,
        holdings=holdings,
        data=data,
        rows=table.estimate,
        # Not queued: no worker starts it; it is claimed straight from here.
        status=Status.CHECKED,
        heartbeat_at=timezone.now(),
    )
    try:
        plan = spreadsheets.plan_import(data, fmt, site=site, holdings=holdings)
        if not plan.ok:
            raise ImportRefused(errors_message(plan.error_count), plan)
        claimed = running.claim(job.pk, waiting=Status.CHECKED)
        if claimed is None:
            raise ImportRefused(_("Another import is being written. Try again in a moment."))
        running.run_claimed(claimed)
        claimed.refresh_from_db()
        if claimed.status != Status.DONE:
            raise ImportRefused(claimed.message)
        return plan
    finally:
        CatalogueImport.objects.filter(pk=job.pk).exclude(status=Status.RUNNING).delete()
        running.start_next()
