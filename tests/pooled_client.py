"""The app's own writes through PgBouncer in transaction mode, in a process of its own (its
settings come from the environment: DATABASE_URL names PgBouncer, DATABASE_POOLED says so or not).
Run by tests/test_pgbouncer.py:

    python -m tests.pooled_client '{"site": 1, "theme": 2, "desks": [[session_id, counsellor_id]]}'

Threads check visitors in at once, and each desk calls, starts and finishes interviews at once,
each thread on its own client connection while PgBouncer runs them all on one server
connection. It prints "done" and exits 0, or prints the first error and exits 1."""

from __future__ import annotations

import json
import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")
django.setup()

from django.db import connection  # noqa: E402

from citedesmetiers.models import Site, User  # noqa: E402
from counselling import services as counselling  # noqa: E402
from reception import services as reception  # noqa: E402
from reception.models import Visit  # noqa: E402

CHECK_INS = 8  # per thread
CHECKING_IN = 3  # threads
CYCLES = 4  # per desk


def main(plan: dict) -> int:
    site = Site.objects.get(pk=plan["site"])
    errors: list[BaseException] = []

    def check_ins() -> None:
        for _ in range(CHECK_INS):
            reception.check_in(site=site, theme_id=plan["theme"], override_hours=True)

    def desk(session_id: int, counsellor_id: int) -> None:
        counsellor = User.objects.get(pk=counsellor_id)
        for _ in range(CYCLES):
            visit = counselling.call_next(session_id=session_id, counsellor=counsellor)
            if visit is None:
                continue  # the check-ins have not caught up: call again
            counselling.start_interview(
                session_id=session_id, counsellor=counsellor, visit_id=visit.pk
            )
            counselling.finish_interview(
                session_id=session_id,
                counsellor=counsellor,
                visit_id=visit.pk,
                outcomes=["information"],
            )

    def guarded(work, *args) -> None:
        try:
            work(*args)
        except BaseException as error:  # noqa: BLE001  (told to the test, whatever it is)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=guarded, args=(check_ins,)) for _ in range(CHECKING_IN)]
    threads += [threading.Thread(target=guarded, args=(desk, *seat)) for seat in plan["desks"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A read that `.iterator()` would make with a server-side cursor, outside any transaction.
    list(Visit.objects.filter(site=site).iterator(chunk_size=2))
    if errors:
        print(f"error: {type(errors[0]).__name__}: {errors[0]}", flush=True)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
