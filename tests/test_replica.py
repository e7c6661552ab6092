"""The optional read replica (citedesmetiers/replica.py), with DATABASE_REPLICA_URL naming a
second connection to the test database: the dashboard's figures are read there, and the session,
the user and every write stay on the primary. Run in a process of its own, whose settings come
from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from citedesmetiers.roles import Role
from tests.conftest import make_staff
from tests.test_reports_worker import database_url
from tests.test_settings import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def run_django(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """`code` in a process of its own with this run's environment (its database, its cache) and
    `env`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "citedesmetiers.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


ON_BOTH = """
import django, json
django.setup()
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from citedesmetiers.models import Site, User
from citedesmetiers.replica import replica_reads

browser = Client(HTTP_HOST="127.0.0.1")
browser.force_login(User.objects.get(email="manager@demo.test"))
seen = {}
with CaptureQueriesContext(connections["default"]) as primary, \\
        CaptureQueriesContext(connections["replica"]) as replica:
    seen["status"] = browser.get("/manage/").status_code
seen["primary"] = [q["sql"] for q in primary.captured_queries]
seen["replica"] = [q["sql"] for q in replica.captured_queries]
with CaptureQueriesContext(connections["default"]) as primary, \\
        CaptureQueriesContext(connections["replica"]) as replica:
    with replica_reads():
        list(Site.objects.all())
        Site.objects.filter(pk=0).update(active=True)
    list(Site.objects.all())
seen["block"] = [len(primary.captured_queries), len(replica.captured_queries)]
print(json.dumps(seen))
"""


def test_the_dashboard_reads_its_figures_from_the_replica(centre):
    make_staff("manager@demo.test", Role.MANAGER, centre.alpha)
    url = database_url()

    result = run_django({"DATABASE_URL": url, "DATABASE_REPLICA_URL": url}, ON_BOTH)

    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    # The figures on the replica; the session and the user on the primary, none of the figures.
    assert any("_dailystat" in sql for sql in seen["replica"])
    assert [sql[:80] for sql in seen["primary"] if "_dailystat" in sql] == []
    assert not any("django_session" in sql or '_user"' in sql for sql in seen["replica"])
    # Inside the block one read on the replica; its write and the read after it on the primary.
    assert seen["block"] == [2, 1]


def test_without_a_replica_everything_reads_the_primary(centre):
    result = run_django(
        {"DATABASE_URL": database_url(), "DATABASE_REPLICA_URL": ""},
        "import django; django.setup(); from django.conf import settings; "
        "print(sorted(settings.DATABASES), settings.DATABASE_ROUTERS)",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[0] == "['default'] []"
