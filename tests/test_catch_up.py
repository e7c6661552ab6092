"""The periodic jobs after the server was down: each catches up, at its next run, what it missed
— the monthly reports of the months without one, the reminders still worth sending, the contact
data of every event past its retention, the daily figures of the nights without aggregation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from citedesmetiers.models import MonthlyReport, Site
from citedesmetiers.report_service import CATCH_UP_MONTHS, missing_reports

PARIS = ZoneInfo("Europe/Paris")


def opened(site: Site, on: dt.datetime) -> Site:
    Site.objects.filter(pk=site.pk).update(created=on)
    site.refresh_from_db()
    return site


def months(site: Site | None) -> list[str]:
    return [
        f"{month:%Y-%m}"
        for month in MonthlyReport.objects.filter(site=site)
        .order_by("month")
        .values_list("month", flat=True)
    ]


# --- monthly reports -----------------------------------------------------------------------------


def test_the_daily_report_job_makes_the_months_it_missed(
    centre, django_capture_on_commit_callbacks
):
    for site in (centre.alpha, centre.beta):
        opened(site, dt.datetime(2025, 1, 1, tzinfo=PARIS))
    # January's report was made; the server was down on 1 February and on 1 March.
    MonthlyReport.objects.create(
        site=centre.alpha,
        month=dt.date(2025, 1, 1),
        status=MonthlyReport.Status.DONE,
        requested_at=dt.datetime(2025, 2, 1, 4, tzinfo=PARIS),
    )
    back_on = dt.datetime(2025, 3, 9, 4, tzinfo=PARIS)

    with django_capture_on_commit_callbacks() as queued:
        assert missing_reports(now=back_on) == 5  # Alpha: Feb; Beta and the network: Jan, Feb

    assert len(queued) == 5
    assert months(centre.alpha) == ["2025-01", "2025-02"]
    assert months(centre.beta) == months(None) == ["2025-01", "2025-02"]
    assert MonthlyReport.objects.get(site=centre.alpha, month=dt.date(2025, 1, 1)).status == "done"
    # The next day, nothing is missing any more.
    with django_capture_on_commit_callbacks() as again:
        assert missing_reports(now=back_on + dt.timedelta(days=1)) == 0
    assert again == []


def test_the_report_job_looks_back_a_bounded_number_of_months(
    centre, django_capture_on_commit_callbacks
):
    opened(centre.alpha, dt.datetime(2019, 6, 1, tzinfo=PARIS))
    opened(centre.beta, dt.datetime(2025, 2, 20, tzinfo=PARIS))  # only February, then
    Site.objects.filter(pk=centre.beta.pk).update(active=False)

    with django_capture_on_commit_callbacks():
        missing_reports(now=dt.datetime(2025, 3, 9, 4, tzinfo=PARIS))

    assert len(months(centre.alpha)) == len(months(None)) == CATCH_UP_MONTHS
    assert months(centre.alpha)[0] == "2024-02" and months(centre.alpha)[-1] == "2025-02"
    assert months(centre.beta) == []  # closed sites get none


def test_the_report_job_runs_every_day(settings):
    job = settings.CELERY_BEAT_SCHEDULE["reports-missing"]
    assert job["task"] == "citedesmetiers.tasks.generate_missing_reports"
    assert job["schedule"].day_of_month == set(range(1, 32))
    assert job["schedule"].hour == {4}
