"""The app through a real PgBouncer in transaction mode (Debian's `pgbouncer`), as a network's
deployment runs it: each transaction may land on another server connection, so nothing may
outlive one. With `DATABASE_POOLED=true` the app's own writes — check-ins in parallel, desks
calling, starting and finishing at once — go through it without an error and the counts stay
exact: tickets without gaps, no visitor called twice. What the setting changes is in
tests/test_settings.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from bench.server import pgbouncer as bench_pgbouncer
from citedesmetiers.roles import Role
from reception.models import Call, Visit
from tests.conftest import make_staff
from tests.counselling_fixtures import make_desk, open_session, queue_visit, theme
from tests.test_reports_worker import database_url
from tests.threads import needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
DESKS = 2


@pytest.fixture
def pgbouncer():
    """A PgBouncer of this test's own, in transaction mode, with one server connection for all
    its clients; returns its port."""
    if not (shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")):
        if os.environ.get("REQUIRE_BROWSER"):  # set in CI, which installs pgbouncer
            pytest.fail("pgbouncer is not installed")
        pytest.skip("pgbouncer is not installed (CI installs it)")
    with bench_pgbouncer(connection.settings_dict, pool_size=1, max_clients=50) as port:
        yield port


@pytest.fixture
def morning(centre):
    """Alpha with two desks open on theme E and visitors already waiting for them."""
    alpha = centre.alpha
    desks = []
    for n in range(DESKS):
        counsellor = make_staff(f"pooled{n}@alpha.test", Role.COUNSELLOR, alpha, centre.partner_a)
        desks.append(
            [open_session(counsellor, make_desk(alpha, f"Desk {n}", "E")).pk, counsellor.pk]
        )
    for _ in range(DESKS * 4):
        queue_visit(alpha, "E")
    return {"site": alpha.pk, "theme": theme(alpha, "E").pk, "desks": desks}


def through(port: int, plan: dict) -> subprocess.CompletedProcess:
    direct = database_url()
    url = direct.replace(direct.split("@", 1)[1].split("/", 1)[0], f"127.0.0.1:{port}", 1)
    return subprocess.run(
        [sys.executable, "-m", "tests.pooled_client", json.dumps(plan)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DATABASE_POOLED": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_app_works_through_pgbouncer_in_transaction_mode(pgbouncer, morning):
    result = through(pgbouncer, morning)

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.strip().endswith("done")
    visits = Visit.objects.filter(site_id=morning["site"])
    numbers = sorted(visits.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, no ticket twice
    assert len(numbers) == DESKS * 4 + 3 * 8
    calls = Counter(Call.objects.filter(site_id=morning["site"]).values_list("visit_id", flat=True))
    assert set(calls.values()) == {1}  # nobody called twice
    assert visits.filter(status=Visit.Status.DONE).count() == DESKS * 4 == len(calls)
