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
beat runs every five minutes, or the progress page; the officer can run it again.

The modules, in the order they build on each other: `errors` (what is refused, and the signals
between the steps), `heartbeat` (a job says it is alive), `writing` (the chunked write and its
undo), `running` (claiming, running and finishing one import; jobs whose worker stopped), `jobs`
(an upload's life: check, confirm, run again, drop, forget, sweep) and `at_once` (the whole import
in this process, for scripts and tests)."""

from .at_once import import_catalogue
from .errors import ImportGone, ImportRefused
from .jobs import (
    LIFETIME,
    check,
    confirm,
    drop,
    forget_old,
    retry,
    runs_here,
    sweep,
    upload,
)
from .running import recover_stale, run
from .writing import CHUNK_ROWS, SQLITE_PAUSE_SECONDS

__all__ = [
    "CHUNK_ROWS",
    "LIFETIME",
    "SQLITE_PAUSE_SECONDS",
    "ImportGone",
    "ImportRefused",
    "check",
    "confirm",
    "drop",
    "forget_old",
    "import_catalogue",
    "recover_stale",
    "retry",
    "run",
    "runs_here",
    "sweep",
    "upload",
]
