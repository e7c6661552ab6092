"""Running one import: claim it (one is written at a time), plan it again, write it or undo it,
and say how it ended; then start the next one in the queue. And the imports whose worker
stopped: undone and failed, so that they can be run again."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import spreadsheets
from ..models import CatalogueImport, ImportBatch, Resource
from ..search import refresh_terms
from . import writing
from .errors import Changed, Superseded, changed_message, errors_message
from .heartbeat import beat

log = logging.getLogger(__name__)

Status = CatalogueImport.Status


def claim(import_id: int, waiting: str = Status.QUEUED) -> CatalogueImport | None:
    """Take a queued import to write it, unless another import is being written."""
    recover_stale()
    try:
        with transaction.atomic():
            job = (
                CatalogueImport.objects.select_for_update()
                .select_related("site")
                .filter(pk=import_id)
                .first()
            )
            if job is None or job.status != waiting:
                return None  # dropped, or done by an earlier delivery of this task
            if CatalogueImport.objects.filter(status=Status.RUNNING).exists():
                return None  # its turn comes when that one ends
            job.status = Status.RUNNING
            job.runner = uuid.uuid4()
            job.written = 0
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["status", "runner", "written", "heartbeat_at"])
    except IntegrityError:
        return None  # another import started at the same moment (the unique index said so)
    return job


@shared_task(name="resources.tasks.run_catalogue_import")
def run_catalogue_import(import_id: int) -> None:
    run(import_id=import_id)


def run(*, import_id: int) -> None:
    """Write a queued import, all or nothing; then start the next one in the queue."""
    job = claim(import_id)
    if job is None:
        return
    try:
        run_claimed(job)
    except Superseded:
        log.warning("catalogue import %s was taken over by the stale-job sweep", job.pk)
        return
    start_next()


def run_claimed(job: CatalogueImport) -> None:
    """Plan and write an import this process has claimed, and say how it ended."""
    # Records edited after this moment were planned from what they were before: refused.
    planned_at = timezone.now()
    try:
        plan = spreadsheets.plan_import(
            bytes(job.data),
            job.fmt,
            site=job.site,
            holdings=job.holdings,
            on_progress=lambda rows: beat(job.pk, job.runner),
        )
    except spreadsheets.SpreadsheetError as error:
        finish(job, Status.FAILED, message=str(error), keep_data=False)
        return
    if not plan.ok:
        finish(job, Status.FAILED, message=errors_message(plan.error_count), plan=plan.summary())
        return
    try:
        written = writing.write(job, plan, planned_at)
    except Superseded:
        raise
    except (IntegrityError, Changed) as error:
        log.info("catalogue import %s refused: %s", job.pk, error)
        writing.undo(job)
        finish(job, Status.FAILED, message=changed_message())
        return
    except Exception:
        log.exception("catalogue import %s failed", job.pk)
        writing.undo(job)
        finish(job, Status.FAILED, message=_("The import failed, so nothing was imported."))
        return
    chunk = writing.CHUNK_ROWS
    for start in range(0, len(written), chunk):
        refresh_terms(Resource.objects.filter(pk__in=written[start : start + chunk]))
    changed = plan.update_count - plan.unchanged_count
    finish(
        job,
        Status.DONE,
        result={"created": plan.new_count, "updated": changed, "unchanged": plan.unchanged_count},
        keep_data=False,
    )


def finish(
    job: CatalogueImport,
    status: str,
    *,
    message: str = "",
    plan: dict | None = None,
    result: dict | None = None,
    keep_data: bool = True,
) -> None:
    with transaction.atomic():
        fields: dict[str, Any] = {
            "status": status,
            "message": message[:500],
            "finished_at": timezone.now(),
            "runner": None,
        }
        if plan is not None:
            fields["plan"] = plan
        if result is not None:
            fields["result"] = result
        if not keep_data:
            fields["data"] = b""
        owned = CatalogueImport.objects.filter(pk=job.pk, runner=job.runner)
        if not owned.update(**fields):
            raise Superseded
        ImportBatch.objects.filter(job=job).delete()


def start_next() -> None:
    """Start the oldest queued import, if none is being written."""
    if CatalogueImport.objects.filter(status=Status.RUNNING).exists():
        return
    waiting = (
        CatalogueImport.objects.filter(status=Status.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        run_catalogue_import.delay_on_commit(waiting)


# --- jobs whose worker stopped -------------------------------------------------------------------


def recover_stale(*, now: dt.datetime | None = None) -> int:
    """Undo and fail the imports whose worker stopped, fail the checks that stopped; they can be
    run again. Returns how many."""
    now = now or timezone.now()
    cutoff = now - CatalogueImport.STALE_AFTER
    stopped = CatalogueImport.objects.filter(heartbeat_at__lt=cutoff)
    count = stopped.filter(status=Status.CHECKING).update(
        status=Status.FAILED,
        message=_("The check stopped before the end. Check the file again."),
        finished_at=now,
    )
    for job_id in stopped.filter(status=Status.RUNNING).values_list("pk", flat=True):
        with transaction.atomic():
            job = (
                CatalogueImport.objects.select_for_update()
                .select_related("site")
                .filter(pk=job_id, status=Status.RUNNING, heartbeat_at__lt=cutoff)
                .first()
            )
            if job is None:
                continue  # alive after all, or taken over by another sweep
            # Take it over: the stopped worker, if it ever wakes up, may write no more.
            job.runner = uuid.uuid4()
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["runner", "heartbeat_at"])
        writing.undo(job)
        finish(
            job,
            Status.FAILED,
            message=_(
                "The import stopped before the end (its worker stopped); what it had written "
                "was removed, so nothing was imported. Run it again."
            ),
        )
        count += 1
    return count
