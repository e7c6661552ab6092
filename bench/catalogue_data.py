"""A large catalogue for benchmarks: `ensure(count)` bulk-inserts `count` resources from
`resources.demo.records` (realistic French records), marked so they can be found, reused and
deleted without touching anything else.

The marker is the `opinion` column (staff only, never public, not part of `search_vector` nor of
`folded`), so the marked rows search exactly like real ones. The rows get what `Resource.save`
would give (`folded`, which bulk_create skips) and their purpose and audience (M2M through-table
rows); the PostgreSQL trigger fills `search_vector` on INSERT. They have no ISBN (the column is
unique and the demo's first records carry the demo's ISBNs) and no holdings (no site is created).
Afterwards the table is ANALYZEd and the suggestion lexicon (`SearchTerm`) is refreshed; the terms
this adds are removed again by `delete()`.
"""

from __future__ import annotations

import itertools
import os
import time

from django.db import connection, transaction

from resources.demo import records
from resources.models import Audience, Purpose, Resource, SearchTerm
from resources.search import refresh_terms
from resources.text import fold

MARKER = "bench-catalogue-v1"
BATCH = 5_000
RECORD_FIELDS = ("title", "kind", "authors", "publisher", "year", "url", "summary", "keywords")


def keep() -> bool:
    """Whether the marked rows stay for the next run (BENCH_KEEP_CATALOGUE=1)."""
    return os.environ.get("BENCH_KEEP_CATALOGUE", "").lower() in ("1", "true", "yes")


def marked():
    return Resource.objects.filter(opinion=MARKER)


def _terms() -> set[str]:
    return set(SearchTerm.objects.values_list("term", flat=True))


def ensure(count: int) -> tuple[bool, float, set[str]]:
    """Make sure exactly `count` marked resources exist.

    Returns (reused, seconds spent generating, the SearchTerm terms that existed before), the last
    for `delete()`. Marked rows in another number (an interrupted run) are deleted first.
    """
    existing = marked().count()
    if existing == count:
        return True, 0.0, set()
    if existing:
        delete()
    started = time.monotonic()
    terms_before = _terms()
    _insert(count)
    _analyze()

    refresh_terms(marked())
    return False, time.monotonic() - started, terms_before


def _insert(count: int) -> None:
    purposes = dict(Purpose.objects.values_list("slug", "pk"))
    audiences = dict(Audience.objects.values_list("slug", "pk"))
    PurposeLink = Resource.purposes.through
    AudienceLink = Resource.audiences.through
    source = records(count)
    while batch := list(itertools.islice(source, BATCH)):
        objects = []
        for record in batch:
            resource = Resource(**{k: record[k] for k in RECORD_FIELDS}, opinion=MARKER)
            # What Resource.save() does, which bulk_create bypasses.
            resource.folded = fold(
                " ".join([resource.title, resource.keywords, resource.authors, resource.summary])
            )
            objects.append(resource)
        with transaction.atomic():
            Resource.objects.bulk_create(objects)  # PostgreSQL returns the new pks
            PurposeLink.objects.bulk_create(
                PurposeLink(resource_id=obj.pk, purpose_id=purposes[record["purpose"]])
                for obj, record in zip(objects, batch, strict=True)
                if record["purpose"] in purposes
            )
            AudienceLink.objects.bulk_create(
                AudienceLink(resource_id=obj.pk, audience_id=audiences[record["audience"]])
                for obj, record in zip(objects, batch, strict=True)
                if record["audience"] in audiences
            )


def _analyze() -> None:
    with connection.cursor() as cursor:
        for table in (
            "resources_resource",
            "resources_resource_purposes",
            "resources_resource_audiences",
        ):
            cursor.execute(f"ANALYZE {table}")


def delete(terms_before: set[str] | None = None) -> None:
    """Delete the marked resources (and, given the terms that existed before `ensure`, the
    suggestion terms it added), in SQL: the ORM's cascade would load 100,000 objects."""
    marked_ids = "SELECT id FROM resources_resource WHERE opinion = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "resources_resource_purposes",
            "resources_resource_audiences",
            "resources_resource_themes",
            "resources_holding",
            "resources_resourceviewcount",
            "resources_takeawayitem",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE resource_id IN ({marked_ids})", [MARKER])
        cursor.execute("DELETE FROM resources_resource WHERE opinion = %s", [MARKER])
    if terms_before:
        added = _terms() - terms_before
        SearchTerm.objects.filter(term__in=added).delete()
    _analyze()
