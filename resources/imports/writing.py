"""Writing a planned import in chunks, each in its own short transaction with the batch that can
undo it; and undoing the written chunks, newest first, when the import cannot finish."""

from __future__ import annotations

import datetime as dt
import gc
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from citedesmetiers.models import Site

from .. import spreadsheets
from ..models import CatalogueImport, Holding, ImportBatch, Resource
from ..services import decide_holding
from .errors import Changed
from .heartbeat import beat

# Rows per write: 250 bulk-written rows hold SQLite's write lock ~50 ms (measured on 2 cores).
CHUNK_ROWS = 250
# Between two writes on SQLite, a writer waiting for the lock (its busy handler retries every
# 100 ms at most) gets its turn. PostgreSQL locks rows, not the database: no pause there.
SQLITE_PAUSE_SECONDS = 0.1

PurposeLink = Resource.purposes.through
AudienceLink = Resource.audiences.through


def pause() -> None:
    if connection.vendor == "sqlite":
        time.sleep(SQLITE_PAUSE_SECONDS)


def write(
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
                pause()
            chunk = rows[start : start + CHUNK_ROWS]
            # Built before the transaction: the lock is held for the writes only.
            created = [_new_resource(row) for row in chunk if row.status == spreadsheets.NEW]
            with transaction.atomic():
                written += _write_chunk(job, chunk, created, planned_at)
                beat(job.pk, job.runner, written=F("written") + len(chunk))
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
        raise Changed("a record to update is gone")
    if any(resource.updated > planned_at for resource in current.values()):
        raise Changed("a record to update was edited meanwhile")
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


def undo(job: CatalogueImport) -> None:
    """Undo the written chunks, newest first, each in a short transaction that also deletes its
    batch (so an undo that stops half-way goes on from there the next time)."""
    while True:
        batch = ImportBatch.objects.filter(job=job).order_by("-pk").first()
        if batch is None:
            return
        with transaction.atomic():
            _undo_batch(job.site, batch)
            batch.delete()
            beat(job.pk, job.runner)
        pause()


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
