"""`python -m bench [names...]`: run `bench/bench_<name>.py`'s `run()`, all of them by default.

Each benchmark prints one `BENCH <name> … ratio=<x> target=<y> PASS|FAIL` line; the exit status is
1 if any failed, 2 if the run could not start. Benchmarks compare on PostgreSQL, so DATABASE_URL
must point to one; the schema is migrated first.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlparse

import django
from django.core.management import call_command
from django.db import connection

from bench.report import start_steal_clock
from bench.server import bench_environ

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = available()
    wanted = argv or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(names)}.")
        return 2

    database_url = os.environ.get("DATABASE_URL", "")
    if urlparse(database_url).scheme not in POSTGRES_SCHEMES:
        print(
            "Benchmarks compare on PostgreSQL: set DATABASE_URL=postgres://user:password@host:5432/db"
            f" (got {database_url or 'nothing'!r})."
        )
        return 2

    os.chdir(ROOT)
    # The same settings here (for benchmarks that prepare data with the ORM) as in the servers.
    os.environ.update(bench_environ())
    django.setup()
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except Exception as exc:
        print(f"Could not migrate the benchmark database ({database_url}): {exc}")
        return 2

    failed = []
    for name in wanted:
        _settle()
        # Only now, Django set up: the benchmarks import the apps' models at their top.
        module = importlib.import_module(f"bench.bench_{name}")
        start_steal_clock()
        started = time.monotonic()
        try:
            passed = module.run()
        except Exception:
            traceback.print_exc()
            print(f"BENCH {name} error=exception ratio=0.00 target=n/a FAIL", flush=True)
            passed = False
        print(f"# {name}: {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
        if not passed:
            failed.append(name)
    return 1 if failed else 0


def _settle() -> None:
    """Start each benchmark from a settled database: what the previous one wrote and deleted is
    vacuumed and analysed now, and flushed to disk, instead of by autovacuum and a checkpoint in
    the middle of the next measurement."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        try:
            cursor.execute("CHECKPOINT")  # needs a superuser or pg_checkpoint; only helps
        except Exception as exc:
            print(f"# no CHECKPOINT before the benchmark: {exc}", file=sys.stderr, flush=True)
    connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
