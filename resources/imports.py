"""Importing a catalogue spreadsheet, all or nothing, without holding the database for long.

The path of an upload (a `CatalogueImport` row, which keeps the file):

    checking → checked → queued → running → done
        ↘ failed ↙         ↘ failed (nothing imported; can be run again)

*Check* (the dry run) reads and plans the whole file, writing nothing but its summary. *Import*
plans it again (the catalogue may have changed since the preview) and refuses it if any row has
an error. A file of up to IMPORT_WORKER_ROWS rows is checked and imported in the request; a
larger one by a Celery worker, while the officer watches a progress page.

How all-or-nothing and short write transactions go together. Planning reads only, outside any
transaction. The rows are then written in chunks of CHUNK_ROWS, in bulk, each chunk in its own
short transaction (SQLite's write lock is held for tens of milliseconds, and check-ins and desks
get it in between); with each chunk, in the same transaction, an `ImportBatch` records what it
created and what the records it changed were before. If a chunk fails — a record saved meanwhile
with one of the file's ISBNs, a record deleted since the plan, the database — or the worker
stops, the chunks already written are undone from their batches (newest first, each in a short
transaction), so the catalogue ends as it was; a record someone edited in between keeps their
edit. Once every chunk is written the batches are deleted and the import is done. While it runs,
the records written so far are visible; no more than that.

One import is written at a time (a partial unique index on the running status): a second waits
in the queue and starts when the first is done. A job whose worker stopped (no heartbeat for
`CatalogueImport.STALE_AFTER`) is undone and marked failed by the next import, the sweep that
beat runs every five minutes, or the progress page; the officer can run it again."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citedesmetiers.models import Site, User
from citedesmetiers.refusals import Refusal

from . import spreadsheets
from .models import CatalogueImport, Holding, ImportBatch, Resource
from .search import refresh_terms
from .services import decide_holding

log = logging.getLogger(__name__)

Status = CatalogueImport.Status
# Rows per write: 250 bulk-written rows hold SQLite's write lock ~50 ms (measured on 2 cores).
CHUNK_ROWS = 250
# Between two writes on SQLite, a writer waiting for the lock (its busy handler retries every
# 100 ms at most) gets its turn. PostgreSQL locks rows, not the database: no pause there.
SQLITE_PAUSE_SECONDS = 0.1
# Files and finished jobs are forgotten after this.
LIFETIME = dt.timedelta(days=1)

PurposeLink = Resource.purposes.through
AudienceLink = Resource.audiences.through


class ImportRefused(Refusal):
    """Nothing was imported; `plan` (when there is one) says row by row why."""

    def __init__(self, message: str, plan: spreadsheets.ImportPlan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


class ImportGone(ImportRefused):
    """The job was forgotten meanwhile (a day old)."""


class _Superseded(Exception):
    """This job was taken over (its worker was thought dead): stop, write nothing more."""


class _Changed(Exception):
    """A record the plan updates is gone since the plan was made."""


def _changed_message() -> str:
    return _("The catalogue changed during the import, so nothing was imported. Try again.")


def _errors_message(n: int) -> str:
    return ngettext(
        "Nothing was imported: %(n)s row has errors.",
        "Nothing was imported: %(n)s rows have errors.",
        n,
    ) % {"n": n}


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
        from .tasks import check_catalogue_import  # circular: the task calls this module

        check_catalogue_import.delay_on_commit(job.pk)


def _beat(job_id: int, runner: uuid.UUID | None = None, **fields: Any) -> None:
    """Say this job is alive (and how far it got); _Superseded if someone else has it now."""
    jobs = CatalogueImport.objects.filter(pk=job_id)
    if runner is not None:
        jobs = jobs.filter(runner=runner, status=Status.RUNNING)
    if not jobs.update(heartbeat_at=timezone.now(), **fields) and runner is not None:
        raise _Superseded


def check(*, import_id: int) -> None:
    """The dry run: read and plan the whole file, keep the summary (or why the file is unusable)."""
    job = CatalogueImport.objects.filter(pk=import_id, status=Status.CHECKING).first()
    if job is None:
        return  # dropped, or checked already
    _beat(job.pk)
    checking = CatalogueImport.objects.filter(pk=job.pk, status=Status.CHECKING)
    try:
        plan = spreadsheets.plan_import(
            bytes(job.data),
            job.fmt,
            site=job.site,
            holdings=job.holdings,
            on_progress=lambda rows: _beat(job.pk),
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
            raise ImportRefused(_errors_message(summary.error_count))
        job.status = Status.QUEUED
        job.save(update_fields=["status"])
    return _start_run(job)


def _start_run(job: CatalogueImport) -> CatalogueImport:
    if runs_here(job):
        run(import_id=job.pk)
        job.refresh_from_db()
        if job.status != Status.QUEUED:
            return job
        # Another import is being written: this one waits for its turn in a worker.
    from .tasks import run_catalogue_import  # circular: the task calls this module

    run_catalogue_import.delay_on_commit(job.pk)
    return job


def retry(*, import_id: int) -> CatalogueImport:
    """Run again an import that stopped or failed without errors in the file (the catalogue
    changed meanwhile, or its worker stopped): checked again first if it stopped while checked."""
    recover_stale()
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


# --- run -----------------------------------------------------------------------------------------


def _claim(import_id: int, waiting: str = Status.QUEUED) -> CatalogueImport | None:
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


def run(*, import_id: int) -> None:
    """Write a queued import, all or nothing; then start the next one in the queue."""
    job = _claim(import_id)
    if job is None:
        return
    try:
        _run(job)
    except _Superseded:
        log.warning("catalogue import %s was taken over by the stale-job sweep", job.pk)
        return
    _next()


def _run(job: CatalogueImport) -> None:
    # Records edited after this moment were planned from what they were before: refused.
    planned_at = timezone.now()
    try:
        plan = spreadsheets.plan_import(
            bytes(job.data),
            job.fmt,
            site=job.site,
            holdings=job.holdings,
            on_progress=lambda rows: _beat(job.pk, job.runner),
        )
    except spreadsheets.SpreadsheetError as error:
        _finish(job, Status.FAILED, message=str(error), keep_data=False)
        return
    if not plan.ok:
        _finish(job, Status.FAILED, message=_errors_message(plan.error_count), plan=plan.summary())
        return
    try:
        written = _write(job, plan, planned_at)
    except _Superseded:
        raise
    except (IntegrityError, _Changed) as error:
        log.info("catalogue import %s refused: %s", job.pk, error)
        _undo(job)
        _finish(job, Status.FAILED, message=_changed_message())
        return
    except Exception:
        log.exception("catalogue import %s failed", job.pk)
        _undo(job)
        _finish(job, Status.FAILED, message=_("The import failed, so nothing was imported."))
        return
    for start in range(0, len(written), CHUNK_ROWS):
        refresh_terms(Resource.objects.filter(pk__in=written[start : start + CHUNK_ROWS]))
    changed = plan.update_count - plan.unchanged_count
    _finish(
        job,
        Status.DONE,
        result={"created": plan.new_count, "updated": changed, "unchanged": plan.unchanged_count},
        keep_data=False,
    )


def _finish(
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
            raise _Superseded
        ImportBatch.objects.filter(job=job).delete()


def _next() -> None:
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
        from .tasks import run_catalogue_import  # circular: the task calls this module

        run_catalogue_import.delay_on_commit(waiting)


def _pause() -> None:
    if connection.vendor == "sqlite":
        time.sleep(SQLITE_PAUSE_SECONDS)


# --- the write, in chunks, and its undo ----------------------------------------------------------


def _write(
    job: CatalogueImport, plan: spreadsheets.ImportPlan, planned_at: dt.datetime
) -> list[int]:
    rows = [
        row
        for row in plan.rows
        if row.status == spreadsheets.NEW or (row.status == spreadsheets.UPDATE and row.changes)
    ]
    written: list[int] = []
    # The plan is tens of thousands of objects: left to the garbage collector, a full collection
    # (a tenth of a second) would now and then fall inside a write and hold the lock meanwhile.
    gc.freeze()
    try:
        for start in range(0, len(rows), CHUNK_ROWS):
            if start:
                _pause()
            chunk = rows[start : start + CHUNK_ROWS]
            # Built before the transaction: the lock is held for the writes only.
            created = [_new_resource(row) for row in chunk if row.status == spreadsheets.NEW]
            with transaction.atomic():
                written += _write_chunk(job, chunk, created, planned_at)
                _beat(job.pk, job.runner, written=F("written") + len(chunk))
    finally:
        gc.unfreeze()
    return written


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _links(link, column: str, resource_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {pk: [] for pk in resource_ids}
    for resource_id, other in link.objects.filter(resource_id__in=resource_ids).values_list(
        "resource_id", column
    ):
        out[resource_id].append(other)
    return out


def _new_resource(row: spreadsheets.RowPlan) -> Resource:
    resource = Resource(**row.values, isbn=row.isbn, issn=row.issn)
    resource.refresh_folded()
    return resource


def _write_chunk(
    job: CatalogueImport,
    chunk: list[spreadsheets.RowPlan],
    created: list[Resource],
    planned_at: dt.datetime,
) -> list[int]:
    """One short transaction: the chunk's new records (`created`, built from its new rows), its
    updates, their links and holdings, and the batch that can undo them. A record to update
    that was edited since the plan read it (`planned_at`) refuses the import: the plan would
    overwrite that edit without knowing it."""
    site = job.site
    now = timezone.now()
    new_rows = [row for row in chunk if row.status == spreadsheets.NEW]
    changed_rows = [row for row in chunk if row.status == spreadsheets.UPDATE]

    ids = [row.resource_id for row in changed_rows]
    current = Resource.objects.select_for_update().in_bulk(ids)
    if len(current) != len(ids):
        raise _Changed("a record to update is gone")
    if any(resource.updated > planned_at for resource in current.values()):
        raise _Changed("a record to update was edited meanwhile")
    purposes_before = _links(PurposeLink, "purpose_id", ids)
    audiences_before = _links(AudienceLink, "audience_id", ids)
    holdings_before = {
        holding.resource_id: holding
        for holding in Holding.objects.filter(site=site, resource_id__in=ids)
    }

    Resource.objects.bulk_create(created)  # both databases return the new ids

    previous = []
    fields = {"folded", "updated"}
    for row in changed_rows:
        resource = current[row.resource_id]
        wanted = dict(row.values)
        if row.isbn:
            wanted["isbn"] = row.isbn
        if row.issn:
            wanted["issn"] = row.issn
        before: dict[str, Any] = {
            "id": resource.pk,
            "updated": now.isoformat(),
            "was_updated": resource.updated.isoformat(),
            "values": {name: _jsonable(getattr(resource, name)) for name in wanted},
            "purposes": purposes_before[resource.pk] if row.purposes is not None else None,
            "audiences": audiences_before[resource.pk] if row.audiences is not None else None,
        }
        if row.holding is not None:
            held = holdings_before.get(resource.pk)
            before["holding"] = (
                {"shelf_mark": held.shelf_mark, "copies": held.copies} if held else None
            )
        previous.append(before)
        for name, value in wanted.items():
            setattr(resource, name, value)
        fields |= set(wanted)
        resource.refresh_folded()
        resource.updated = now
    Resource.objects.bulk_update(
        [current[row.resource_id] for row in changed_rows], sorted(fields), batch_size=500
    )

    targets = [*zip(new_rows, created, strict=True)]
    targets += [(row, current[row.resource_id]) for row in changed_rows]
    _set_links(PurposeLink, "purpose_id", [(r, obj, r.purposes) for r, obj in targets])
    _set_links(AudienceLink, "audience_id", [(r, obj, r.audiences) for r, obj in targets])
    _set_holdings(site, [(r, obj) for r, obj in targets if r.holding is not None], holdings_before)

    ImportBatch.objects.create(
        job=job, created=[resource.pk for resource in created], previous=previous
    )
    return [resource.pk for _row, resource in targets]


def _set_links(link, column: str, wanted: list[tuple[Any, Resource, list[int] | None]]) -> None:
    """Replace the links of each record given a list (None: the file has no such column)."""
    given = [(resource, ids) for _row, resource, ids in wanted if ids is not None]
    link.objects.filter(resource_id__in=[resource.pk for resource, _ids in given]).delete()
    link.objects.bulk_create(
        [link(resource_id=resource.pk, **{column: pk}) for resource, ids in given for pk in ids],
        batch_size=2000,
    )


def _set_holdings(site: Site, wanted: list[tuple[Any, Resource]], existing: dict) -> None:
    """This site's holding of each record, by the rule of services.decide_holding, in bulk."""
    changes: dict[str | None, list[Holding]] = {"delete": [], "create": [], "update": []}
    for row, resource in wanted:
        action, holding = decide_holding(
            existing.get(resource.pk),
            resource=resource,
            site=site,
            shelf_mark=row.holding["shelf_mark"],
            copies=row.holding["copies"],
        )
        if action is not None:
            changes[action].append(holding)
    Holding.objects.filter(pk__in=[held.pk for held in changes["delete"]]).delete()
    Holding.objects.bulk_create(changes["create"], batch_size=2000)
    Holding.objects.bulk_update(changes["update"], ["shelf_mark", "copies"], batch_size=500)


def _undo(job: CatalogueImport) -> None:
    """Undo the written chunks, newest first, each in a short transaction that also deletes its
    batch (so an undo that stops half-way goes on from there the next time)."""
    while True:
        batch = ImportBatch.objects.filter(job=job).order_by("-pk").first()
        if batch is None:
            return
        with transaction.atomic():
            _undo_batch(job.site, batch)
            batch.delete()
            _beat(job.pk, job.runner)
        _pause()


def _undo_batch(site: Site, batch: ImportBatch) -> None:
    # The records it made, but those somebody began to use meanwhile (they were visible): put
    # on a visitor's take-away list, or held at another site.
    in_use = Resource.objects.filter(pk__in=batch.created, take_away_items__isnull=False).values(
        "pk"
    )
    held_elsewhere = Holding.objects.filter(resource_id__in=batch.created).exclude(site=site)
    Resource.objects.filter(pk__in=batch.created).exclude(pk__in=in_use).exclude(
        pk__in=held_elsewhere.values("resource_id")
    ).delete()
    ids = [entry["id"] for entry in batch.previous]
    current = Resource.objects.select_for_update().in_bulk(ids)
    restored, fields = [], {"folded", "updated"}
    purposes, audiences, holdings = [], [], []
    for entry in batch.previous:
        resource = current.get(entry["id"])
        if resource is None or resource.updated != dt.datetime.fromisoformat(entry["updated"]):
            continue  # deleted or edited since the import wrote it: theirs to keep
        for name, value in entry["values"].items():
            setattr(resource, name, Resource._meta.get_field(name).to_python(value))
            fields.add(name)
        resource.refresh_folded()
        resource.updated = dt.datetime.fromisoformat(entry["was_updated"])
        restored.append(resource)
        if entry["purposes"] is not None:
            purposes.append((None, resource, entry["purposes"]))
        if entry["audiences"] is not None:
            audiences.append((None, resource, entry["audiences"]))
        if "holding" in entry:
            holdings.append((resource, entry["holding"]))
    Resource.objects.bulk_update(restored, sorted(fields), batch_size=500)
    _set_links(PurposeLink, "purpose_id", purposes)
    _set_links(AudienceLink, "audience_id", audiences)
    Holding.objects.filter(site=site, resource__in=[resource for resource, _h in holdings]).delete()
    Holding.objects.bulk_create(
        [Holding(resource=resource, site=site, **held) for resource, held in holdings if held],
        batch_size=2000,
    )


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
        _undo(job)
        _finish(
            job,
            Status.FAILED,
            message=_(
                "The import stopped before the end (its worker stopped); what it had written "
                "was removed, so nothing was imported. Run it again."
            ),
        )
        count += 1
    return count


def sweep() -> int:
    """Every few minutes: recover stopped jobs, start a queued import nobody started (its
    message lost), forget old files."""
    count = recover_stale()
    _next()
    forget_old()
    return count


# --- the whole import at once --------------------------------------------------------------------


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
            raise ImportRefused(_errors_message(plan.error_count), plan)
        claimed = _claim(job.pk, waiting=Status.CHECKED)
        if claimed is None:
            raise ImportRefused(_("Another import is being written. Try again in a moment."))
        _run(claimed)
        claimed.refresh_from_db()
        if claimed.status != Status.DONE:
            raise ImportRefused(claimed.message)
        return plan
    finally:
        CatalogueImport.objects.filter(pk=job.pk).exclude(status=Status.RUNNING).delete()
        _next()
