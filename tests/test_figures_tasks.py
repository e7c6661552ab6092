"""The figures' tasks under their new names, and under the names they had before they moved into
`figures`: messages queued before an upgrade name the old ones, and must still do the work."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from citedesmetiers.celery import app
from figures import report_runs, report_service, stats, tasks
from figures.models import MonthlyReport

# old name → new name
RENAMED = {
    "reception.tasks.close_finished_days": "figures.close_finished_days",
    "citedesmetiers.tasks.aggregate_and_purge": "figures.aggregate_and_purge",
    "citedesmetiers.tasks.generate_report": "figures.generate_report",
    "citedesmetiers.tasks.generate_missing_reports": "figures.generate_missing_reports",
}


def test_it_registers_the_new_and_the_old_names_in_the_worker():
    # What a worker does at its start: import every app's tasks module.
    app.loader.import_default_modules()

    assert set(RENAMED) | set(RENAMED.values()) <= set(app.tasks)


def test_the_beat_schedule_names_only_the_new_names(settings):
    names = {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()}

    assert names >= {"figures.close_finished_days", "figures.aggregate_and_purge"}
    assert not names & set(RENAMED)


def test_a_report_queued_under_either_name_goes_to_the_reports_queue(settings):
    for name in ("figures.generate_report", "citedesmetiers.tasks.generate_report"):
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": "reports"}


def test_the_old_report_task_has_the_same_limits_as_the_new():
    old, new = app.tasks["citedesmetiers.tasks.generate_report"], tasks.generate_report

    for option in ("acks_late", "reject_on_worker_lost", "soft_time_limit", "time_limit"):
        assert getattr(old, option) == getattr(new, option)


@pytest.mark.parametrize(
    ("old", "expected"),
    [
        ("citedesmetiers.tasks.aggregate_and_purge", {"days": 3, "deleted": 4, "proofs": 0}),
        ("citedesmetiers.tasks.generate_missing_reports", 2),
    ],
)
def test_it_does_the_work_under_the_old_name(db, monkeypatch, old, expected):
    monkeypatch.setattr(stats, "aggregate_recent", lambda: 3)
    monkeypatch.setattr(stats, "purge_raw", lambda: 4)
    monkeypatch.setattr(report_service, "missing_reports", lambda: 2)

    assert app.tasks[old].apply().get() == expected


def test_it_closes_the_days_under_the_old_name(centre):
    assert app.tasks["reception.tasks.close_finished_days"].apply().get() == 0


def test_it_makes_a_report_queued_under_the_old_name(centre, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(report_runs, "render_pdf", lambda *args, **kwargs: b"%PDF-1.7 made")
    report = MonthlyReport.objects.create(
        site=centre.alpha, month=dt.date(2025, 2, 1), requested_at=timezone.now()
    )

    app.tasks["citedesmetiers.tasks.generate_report"].apply(args=[report.pk], task_id="old-run")

    report.refresh_from_db()
    # The run is the message's own: a redelivered message would take it over.
    assert (report.status, report.task_id) == (MonthlyReport.Status.DONE, "old-run")
    assert report.file.read() == b"%PDF-1.7 made"


def test_every_task_of_the_project_survives_a_killed_worker():
    """Acknowledged once done and given back if its worker dies (settings.py says why each may
    run twice); tests/test_reports_worker.py kills one in the middle of a report."""
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}

    assert len(ours) >= 15  # every app's tasks, registered
    for name, task in ours.items():
        assert task.acks_late and task.reject_on_worker_lost, name
    assert app.conf.worker_prefetch_multiplier == 1
