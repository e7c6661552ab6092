"""An upload's life around the write: keep the file and check it (the dry run), confirm it, run
it again after it stopped or failed, drop it, forget it after a day; and the sweep that beat runs
every few minutes."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Site, User

from .. import spreadsheets
from ..models import CatalogueImport
from . import running
from .errors import ImportGone, ImportRefused, errors_message
from .heartbeat import beat

Status = CatalogueImport.Status
# Files and finished jobs are forgotten after this.
LIFETIME = dt.timedelta(days=1)


def runs_here(job: CatalogueImport) -> bool:
    """A small file is checked and imported within the request; a large one by a worker."""
    return job.rows <= settings.IMPORT_WORKER_ROWS


# --- upload and check ----------------------------------------------------------------------------


def upload(
    *,
    site: Site,
    officer: User | None,
    name: str,
    data: bytes,
    fmt: str,
    holdings: bool,
    estimate: int,
) -> CatalogueImport:
    """Keep an uploaded file (already opened by `spreadsheets.check_file`) and check it: now
    for a small file, in a worker for a large one."""
    forget_old()
    now = timezone.now()
    job = CatalogueImport.objects.create(
        site=site,
        created_by=officer,
        name=name[:120],
        fmt=fmt,
        holdings=holdings,
        data=data,
        rows=estimate,
        heartbeat_at=now,
    )
    _start_check(job)
    return job


def _start_check(job: CatalogueImport) -> None:
    if runs_here(job):
        check(import_id=job.pk)
    else:
        check_catalogue_import.delay_on_commit(job.pk)


@shared_task(name="resources.tasks.check_catalogue_import")
def check_catalogue_import(import_id: int) -> None:
    check(import_id=import_id)


def check(*, import_id: int) -> None:
    """The dry run: read and plan the whole file, keep the summary (or why the file is unusable)."""
    job = CatalogueImport.objects.filter(pk=import_id, status=Status.CHECKING).first()
    if job is None:
        return  # dropped, or checked already
    beat(job.pk)
    checking = CatalogueImport.objects.filter(pk=job.pk, status=Status.CHECKING)
    try:
        plan = spreadsheets.plan_import(
            bytes(job.data),
            job.fmt,
            site=job.site,
            holdings=job.holdings,
            on_progress=lambda rows: beat(job.pk),
        )
    except spreadsheets.SpreadsheetError as error:
        # The file cannot be used at all: nothing to run again, the file goes.
        checking.update(
            status=Status.FAILED, message=str(error)[:500], data=b"", finished_at=timezone.now()
        )
        return
    checking.update(
        status=Status.CHECKED,
        plan=plan.summary(),
        rows=plan.row_count,
        heartbeat_at=timezone.now(),
    )


# --- confirm, run again, drop --------------------------------------------------------------------


def _locked(import_id: int) -> CatalogueImport:
    """The job, locked; refused if it is gone (a day-old job is forgotten, by any upload or the
    sweep, between the page and the button)."""
    job = CatalogueImport.objects.select_for_update().filter(pk=import_id).first()
    if job is None:
        raise ImportGone(_("This file is no longer here. Upload it again."))
    return job


def confirm(*, import_id: int) -> CatalogueImport:
    """The officer confirms the checked file: import it (now, or queued for a worker). A second
    confirmation (a double click, a second tab) finds it queued or done and does nothing.

    Raises ImportRefused when the dry run found errors."""
    with transaction.atomic():
        job = _locked(import_id)
        if job.status != Status.CHECKED:
            return job
        summary = spreadsheets.PlanSummary.of(job.plan)
        if not summary.ok:
            raise ImportRefused(errors_message(summary.error_count))
        job.status = Status.QUEUED
        job.save(update_fields=["status"])
    return _start_run(job)


def _start_run(job: CatalogueImport) -> CatalogueImport:
    if runs_here(job):
        running.run(import_id=job.pk)
        job.refresh_from_db()
        if job.status != Status.QUEUED:
            return job
        # Another import is being written: this one waits for its turn in a worker.
    running.run_catalogue_import.delay_on_commit(job.pk)
    return job


def retry(*, import_id: int) -> CatalogueImport:
    """Run again an import that stopped or failed without errors in the file (the catalogue
    changed meanwhile, or its worker stopped): checked again first if it stopped while checked."""
    running.recover_stale()
    with transaction.atomic():
        job = _locked(import_id)
        if job.status != Status.FAILED or not job.data:
            return job
        checked = bool(job.plan) and spreadsheets.PlanSummary.of(job.plan).ok
        job.status = Status.QUEUED if checked else Status.CHECKING
        job.message = ""
        job.written = 0
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "message", "written", "heartbeat_at"])
    if job.status == Status.CHECKING:
        _start_check(job)
        return job
    return _start_run(job)


def drop(*, import_id: int) -> bool:
    """Forget a file that is not being imported. False if it is being written."""
    return bool(
        CatalogueImport.objects.filter(pk=import_id).exclude(status=Status.RUNNING).delete()[0]
    )


def forget_old(*, now: dt.datetime | None = None) -> int:
    """Files and finished imports are kept a day; a running or queued import is never dropped."""
    cutoff = (now or timezone.now()) - LIFETIME
    return (
        CatalogueImport.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=[Status.RUNNING, Status.QUEUED])
        .delete()[0]
    )


def sweep() -> int:
    """Every few minutes: recover stopped jobs, start a queued import nobody started (its
    message lost), forget old files."""
    count = running.recover_stale()
    running.start_next()
    forget_old()
    return count
