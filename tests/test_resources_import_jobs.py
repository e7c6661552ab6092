"""Catalogue imports as jobs: a large file is checked and imported by a worker while its page polls
(and refreshes itself without JavaScript); the import is written in short transactions, so
check-ins go on meanwhile; a double click imports once; two officers' imports run one after the
other; an import whose worker stopped is undone, counts as failed, and can be run again.

Personas (tests/conftest.py): Dan is the information officer of site Alpha; a second officer,
Olga, works there too."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from celery.signals import task_postrun
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from citedesmetiers.roles import Role
from reception import services as reception
from resources import imports
from resources.models import CatalogueImport, ImportBatch, Resource
from tests.catalogue_spreadsheets import (
    confirm,
    csv_bytes,
    make_resource,
    row,
    snapshot,
    upload,
    xlsx_bytes,
)
from tests.conftest import make_staff
from tests.test_resources_search import ensure_purposes
from tests.threads import in_parallel, needs_postgresql, together

# The worker fixtures (`celery_app`, `celery_worker`) of Celery's own pytest plugin.
pytest_plugins = ("celery.contrib.pytest",)

Status = CatalogueImport.Status


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _purposes(centre):
    # The migration's purposes, made again if an earlier transactional test flushed them.
    ensure_purposes()


@pytest.fixture
def large(settings):
    """Files of more than 10 rows count as large: checked and imported by a worker."""
    settings.IMPORT_WORKER_ROWS = 10


def page(upload_id) -> str:
    return reverse("resources_staff:import_preview", args=[upload_id])


def guides(n: int, prefix: str = "Guide") -> bytes:
    return csv_bytes([row(titre=f"{prefix} {i}", cote=f"G {i}") for i in range(n)])


def job_of(upload_id) -> CatalogueImport:
    return CatalogueImport.objects.get(token=upload_id)


def uploaded(client, data: bytes):
    response = upload(client, data)
    assert response.status_code == 302, response.context["form"].errors
    return response.url.rstrip("/").rsplit("/", 1)[-1]


# --- the page of a large file, without a worker ---------------------------------------------------


def test_a_large_file_waits_for_a_worker_on_a_page_that_refreshes_itself(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))

    response = client.get(page(upload_id))

    assert job_of(upload_id).status == Status.CHECKING
    html = response.content.decode()
    assert "Checking the file (30 rows)" in html
    assert f'hx-get="{page(upload_id)}"' in html and 'hx-trigger="every 2s"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    # Polled by htmx: the progress fragment only.
    fragment = client.get(page(upload_id), headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="import-progress"')
    assert not Resource.objects.exists()


def test_the_polled_page_reloads_itself_when_the_import_is_done(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    imports.check(import_id=job_of(upload_id).pk)  # what the worker does
    confirm(client, upload_id)
    running = client.get(page(upload_id))
    assert "Waiting to start" in running.content.decode()

    imports.run(import_id=job_of(upload_id).pk)

    polled = client.get(page(upload_id), headers={"HX-Request": "true"})
    assert polled.headers["HX-Refresh"] == "true"
    done = client.get(page(upload_id)).content.decode()
    assert "Imported: 30 new, 0 updated, 0 unchanged." in done
    assert "http-equiv" not in done
    assert Resource.objects.count() == 30


def test_a_running_import_shows_how_far_it_got(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    CatalogueImport.objects.filter(token=upload_id).update(
        status=Status.RUNNING, rows=40, written=10, runner=uuid.uuid4()
    )

    html = client.get(page(upload_id)).content.decode()

    assert "Importing: 10 of 40 rows written." in html
    assert '<progress max="100" value="25"' in html


# --- through a real worker ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    return {
        "broker_url": "memory://",
        "result_backend": "cache+memory://",
        "broker_transport_options": {"polling_interval": 0.05},
    }


@pytest.fixture(scope="session")
def celery_includes():
    return ("resources.tasks",)


@pytest.fixture
def tasks_done():
    """`wait(name, n)` blocks until the worker has finished n tasks of that name (a
    synchronisation, not a sleep), and closes the worker's connections after each task."""
    condition = threading.Condition()
    done: list[str] = []

    def on_postrun(sender=None, **kwargs):
        connections.close_all()
        with condition:
            done.append(sender.name if sender is not None else "")
            condition.notify_all()

    task_postrun.connect(on_postrun, weak=False)

    def wait(name: str, count: int = 1, timeout: float = 60) -> bool:
        with condition:
            return condition.wait_for(lambda: done.count(name) >= count, timeout=timeout)

    yield wait
    task_postrun.disconnect(on_postrun)


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_checked_and_imported_by_a_worker(
    celery_app, celery_worker, tasks_done, centre, login, large
):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))

    assert tasks_done("resources.tasks.check_catalogue_import")
    preview_page = client.get(page(upload_id), {"show": "all"})
    assert [r.status for r in preview_page.context["plan"].rows] == ["new"] * 30
    assert not Resource.objects.exists()

    response = confirm(client, upload_id)

    assert response.status_code == 302 and response.url == page(upload_id)
    assert tasks_done("resources.tasks.run_catalogue_import")
    assert "Imported: 30 new" in client.get(page(upload_id)).content.decode()
    assert Resource.objects.count() == 30
    job = job_of(upload_id)
    assert (job.status, bytes(job.data), job.written) == (Status.DONE, b"", 30)
    assert not ImportBatch.objects.exists()


# --- a double click, two officers -----------------------------------------------------------------


def test_a_double_click_on_import_queues_it_once(
    centre, login, large, django_capture_on_commit_callbacks
):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    imports.check(import_id=job_of(upload_id).pk)

    with django_capture_on_commit_callbacks() as first:
        confirm(client, upload_id)
    with django_capture_on_commit_callbacks() as second:
        response = confirm(client, upload_id)

    assert len(first) == 1  # the task, sent on commit
    assert second == []
    assert response.url == page(upload_id)
    assert job_of(upload_id).status == Status.QUEUED


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_the_same_moment_import_once(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    job_id = job_of(upload_id).pk
    imports.check(import_id=job_id)
    results = in_parallel(2, lambda i: imports.confirm(import_id=job_id).status)

    assert sorted(results) == [Status.QUEUED, Status.QUEUED]
    imports.run(import_id=job_id)
    imports.run(import_id=job_id)  # a second delivery of the task finds it done
    assert Resource.objects.count() == 30


@pytest.fixture
def olga(centre):
    return make_staff("olga@alpha.test", Role.INFORMATION_OFFICER, centre.alpha, is_staff=True)


def test_two_officers_importing_at_once_are_imported_one_after_the_other(
    centre, olga, client, large, django_capture_on_commit_callbacks, monkeypatch
):
    from django.test import Client

    dan, other = client, Client()
    dan.force_login(centre.officer, backend="citedesmetiers.auth_backends.ModelBackend")
    other.force_login(olga, backend="citedesmetiers.auth_backends.ModelBackend")
    first = uploaded(dan, guides(30, "Guide de Dan"))
    second = uploaded(other, guides(20, "Guide d'Olga"))
    for upload_id in (first, second):
        imports.check(import_id=job_of(upload_id).pk)
    confirm(dan, first)
    confirm(other, second)
    seen = []

    def meanwhile():  # between two writes of Dan's import, Olga's is tried
        if not seen:
            imports.run(import_id=job_of(second).pk)
            seen.append(job_of(second).status)
            seen.append(other.get(page(second)).content.decode())

    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 10)
    monkeypatch.setattr(imports.writing, "pause", meanwhile)

    with django_capture_on_commit_callbacks() as sent:
        imports.run(import_id=job_of(first).pk)

    status, html = seen
    assert status == Status.QUEUED
    assert "Waiting for another import to finish" in html
    assert Resource.objects.count() == 30
    # When Dan's import ends, Olga's is sent to a worker.
    assert len(sent) == 1
    sent[0]()
    assert job_of(second).status == Status.QUEUED  # the task was queued (to a worker)
    imports.run(import_id=job_of(second).pk)
    assert Resource.objects.count() == 50


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_imports_claimed_at_the_same_moment_run_one_after_the_other(centre, olga, large):
    jobs = []
    for officer, prefix in ((centre.officer, "Dan"), (olga, "Olga")):
        job = imports.upload(
            site=centre.alpha,
            officer=officer,
            name=f"{prefix}.csv",
            data=guides(30, prefix),
            fmt="csv",
            holdings=True,
            estimate=30,
        )
        imports.check(import_id=job.pk)
        CatalogueImport.objects.filter(pk=job.pk).update(status=Status.QUEUED)
        jobs.append(job.pk)
    claimed = in_parallel(2, lambda i: imports.running.claim(jobs[i]))

    assert len([job for job in claimed if job is not None]) == 1
    assert CatalogueImport.objects.filter(status=Status.RUNNING).count() == 1


# --- a worker that stops ------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """What a killed worker leaves behind: nothing after this point runs."""


def stops_after_two_writes(monkeypatch):
    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 5)
    pauses = []

    def pause():
        pauses.append(1)
        if len(pauses) == 2:
            raise WorkerKilled

    monkeypatch.setattr(imports.writing, "pause", pause)


def test_an_import_whose_worker_stopped_is_undone_and_can_run_again(
    centre, login, large, monkeypatch
):
    existing = make_resource("Le CV du soin", isbn="9780306406157", site=centre.alpha)
    before = snapshot()
    client = login(centre.officer)
    data = csv_bytes(
        [row(titre="Le CV du soin, 2e édition", isbn="9780306406157", cote="NEUF 1")]
        + [row(titre=f"Guide {n}", cote=f"G {n}") for n in range(29)]
    )
    upload_id = uploaded(client, data)
    job_id = job_of(upload_id).pk
    imports.check(import_id=job_id)
    confirm(client, upload_id)
    stops_after_two_writes(monkeypatch)
    with pytest.raises(WorkerKilled):
        imports.run(import_id=job_id)
    assert Resource.objects.count() == 10  # two writes of five rows, one an update
    assert job_of(upload_id).status == Status.RUNNING

    # Five minutes without news: the page says it stopped, and offers to run it again.
    CatalogueImport.objects.filter(pk=job_id).update(
        heartbeat_at=timezone.now() - CatalogueImport.STALE_AFTER
    )
    html = client.get(page(upload_id)).content.decode()
    assert "The import stopped before the end." in html
    assert "Run the import again" in html
    assert client.get(page(upload_id), headers={"HX-Request": "true"})["HX-Refresh"] == "true"

    # The sweep undoes what it wrote: the catalogue is as it was.
    assert imports.sweep() == 1
    assert snapshot() == before
    job = job_of(upload_id)
    assert job.status == Status.FAILED
    assert "nothing was imported. Run it again." in job.message
    assert not ImportBatch.objects.exists()

    monkeypatch.undo()
    response = client.post(reverse("resources_staff:import_retry", args=[upload_id]))

    assert response.url == page(upload_id)
    imports.run(import_id=job_id)
    assert job_of(upload_id).status == Status.DONE
    assert Resource.objects.count() == 30
    existing.refresh_from_db()
    assert existing.title == "Le CV du soin, 2e édition"


def test_a_worker_thought_dead_that_wakes_up_writes_nothing_more(centre, large, monkeypatch):
    before = snapshot()
    job = imports.upload(
        site=centre.alpha,
        officer=centre.officer,
        name="guides.csv",
        data=guides(30),
        fmt="csv",
        holdings=True,
        estimate=30,
    )
    imports.check(import_id=job.pk)
    CatalogueImport.objects.filter(pk=job.pk).update(status=Status.QUEUED)
    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 5)
    pauses = []

    def swept_meanwhile():
        # The worker hangs so long that the sweep takes its job over and undoes it.
        pauses.append(1)
        if len(pauses) == 2:
            CatalogueImport.objects.filter(pk=job.pk).update(
                heartbeat_at=timezone.now() - CatalogueImport.STALE_AFTER
            )
            assert imports.recover_stale() == 1

    monkeypatch.setattr(imports.writing, "pause", swept_meanwhile)

    imports.run(import_id=job.pk)

    assert snapshot() == before
    assert job_of(job.token).status == Status.FAILED


def test_a_check_whose_worker_stopped_can_be_run_again(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    CatalogueImport.objects.filter(token=upload_id).update(
        heartbeat_at=timezone.now() - CatalogueImport.STALE_AFTER
    )
    assert "The check stopped before the end." in client.get(page(upload_id)).content.decode()

    imports.sweep()
    response = client.post(reverse("resources_staff:import_retry", args=[upload_id]))

    assert response.url == page(upload_id)
    assert job_of(upload_id).status == Status.CHECKING
    imports.check(import_id=job_of(upload_id).pk)
    assert job_of(upload_id).status == Status.CHECKED


def test_a_running_import_cannot_be_dropped(centre, login, large):
    client = login(centre.officer)
    upload_id = uploaded(client, guides(30))
    CatalogueImport.objects.filter(token=upload_id).update(
        status=Status.RUNNING, runner=uuid.uuid4()
    )

    response = client.post(reverse("resources_staff:import_cancel", args=[upload_id]))

    assert response.url == page(upload_id)
    assert job_of(upload_id).status == Status.RUNNING


# --- check-ins while a large import is written ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_check_ins_go_on_while_a_large_import_is_written(centre, monkeypatch):
    """On SQLite (one writer at a time) as on PostgreSQL: a tablet checks visitors in, in a loop,
    while another thread imports 3,000 rows; every check-in succeeds, and some succeed while the
    import is half-written, which a single long transaction would not allow."""
    rows = 3_000
    data = guides(rows)
    theme = centre.alpha.themes.get(letter="E")
    finished = threading.Event()
    seen: list[int] = []
    latencies: list[float] = []

    def import_file():
        try:
            imports.import_catalogue(site=centre.alpha, data=data)
        finally:
            finished.set()

    def check_in_visitors():
        while not finished.is_set() and len(seen) < 100_000:
            started = time.monotonic()
            reception.check_in(site=centre.alpha, theme_id=theme.pk, checkin_key=uuid.uuid4())
            latencies.append(time.monotonic() - started)
            seen.append(Resource.objects.count())

    together(import_file, check_in_visitors, timeout=300)

    assert Resource.objects.count() == rows
    during = [count for count in seen if 0 < count < rows]
    assert during, f"no check-in while the import was being written (saw {sorted(set(seen))})"
    print(f"{len(seen)} check-ins, {len(during)} during the writes, slowest {max(latencies):.3f} s")


def test_a_large_workbook_without_the_required_columns_is_refused_by_its_check(
    centre, login, large
):
    client = login(centre.officer)
    data = xlsx_bytes(["titre", "type"], [[f"Guide {n}", "livre"] for n in range(30)])
    upload_id = uploaded(client, data)  # opened by the worker, not by the upload

    imports.check(import_id=job_of(upload_id).pk)
    response = client.get(page(upload_id), follow=True)

    assert response.redirect_chain[-1][0] == reverse("resources_staff:import")
    assert "Required columns are missing: objectifs." in response.content.decode()
    assert not CatalogueImport.objects.exists()


def test_confirming_an_import_forgotten_meanwhile_is_refused_not_raised(centre):
    job = CatalogueImport.objects.create(site=centre.alpha, created_by=centre.officer)
    gone = job.pk
    job.delete()
    for action in (imports.confirm, imports.retry):
        with pytest.raises(imports.ImportGone):
            action(import_id=gone)
