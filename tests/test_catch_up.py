"""The periodic jobs after the server was down: each catches up, at its next run, what it missed
— the monthly reports of the months without one, the reminders still worth sending, the contact
data of every event past its retention, the daily figures of the nights without aggregation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from citedesmetiers.models import Site
from events import services as events
from events.models import Registration
from figures import stats
from figures.models import AggregatedDay, MonthlyReport
from figures.report_service import CATCH_UP_MONTHS, missing_reports
from reception import services as reception
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
    sent,
)

PARIS = ZoneInfo("Europe/Paris")


def opened(site: Site, on: dt.datetime) -> Site:
    Site.objects.filter(pk=site.pk).update(created=on)
    site.refresh_from_db()
    return site


def months(site: Site | None) -> list[str]:
    return [
        f"{month:%Y-%m}"
        for month in MonthlyReport.objects.filter(site=site, period="month")
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
    assert job["task"] == "figures.generate_missing_reports"
    assert job["schedule"].day_of_month == set(range(1, 32))
    assert job["schedule"].hour == {4}


# --- reminders (by design: a sweep sends every reminder due and not sent yet) -------------------


def test_the_first_reminder_sweep_after_a_stop_sends_the_reminders_still_useful(
    centre, after_commit
):
    tomorrow = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    today = dt.datetime(2027, 5, 9, 11, 0, tzinfo=PARIS)
    workshops = [
        make_event(centre.alpha, title=t, starts_at=at)
        for t, at in (("Tomorrow", tomorrow), ("This morning", today))
    ]
    with after_commit():
        for event in workshops:
            register(event, "Nadia", "nadia@example.org", now=event.starts_at - dt.timedelta(20))
    # The last sweep before the server stopped, on the 7th: nothing was due yet.
    with after_commit():
        assert events.send_reminders(now=dt.datetime(2027, 5, 7, 9, tzinfo=PARIS)) == 0

    # Back on the 9th at noon: the reminder of tomorrow's workshop goes; this morning's is over.
    with after_commit():
        assert events.send_reminders(now=dt.datetime(2027, 5, 9, 12, tzinfo=PARIS)) == 1

    (reminder,) = sent("reminder")
    assert "Tomorrow" in reminder.subject
    assert list(
        Registration.objects.filter(reminder_sent_at__isnull=False).values_list(
            "event__title", flat=True
        )
    ) == ["Tomorrow"]


# --- contact data (by design: the purge takes every event past its retention) -------------------


def test_the_first_purge_after_a_stop_erases_every_event_past_its_retention(centre, settings):
    settings.EVENT_CONTACT_RETENTION_DAYS = 7
    back_on = dt.datetime(2027, 6, 20, 3, 30, tzinfo=PARIS)
    ended = {}
    for days in (40, 20, 8, 6):
        starts = back_on - dt.timedelta(days=days, hours=2)
        event = make_event(centre.alpha, title=f"{days} days ago", starts_at=starts)
        register(event, "Nadia", "nadia@example.org", now=starts - dt.timedelta(days=10))
        ended[days] = event
    # The server stopped a month ago, after a purge that found only the oldest one due.
    assert events.purge_contacts(now=back_on - dt.timedelta(days=30)) == 1

    assert events.purge_contacts(now=back_on) == 2

    left = set(Registration.objects.exclude(email="").values_list("event", flat=True))
    assert left == {ended[6].pk}


# --- daily figures ----------------------------------------------------------------------------


def test_the_first_nightly_run_after_a_stop_aggregates_the_nights_it_missed(centre, settings):
    settings.RAW_RETENTION_DAYS = 30
    alpha = opened(centre.alpha, timezone.now() - dt.timedelta(days=60))
    back_on = timezone.now()
    today = alpha.local_date(back_on)
    # The last nightly run, 13 days ago; then the server stopped.
    assert stats.aggregate_recent(now=back_on - dt.timedelta(days=13)) > 0
    visit_day, event_day = today - dt.timedelta(days=12), today - dt.timedelta(days=10)
    reception.check_in(
        site=alpha,
        theme_id=alpha.themes.get(letter="E").pk,
        now=dt.datetime.combine(visit_day, dt.time(10), tzinfo=alpha.zone),
    )
    make_event(alpha, starts_at=dt.datetime.combine(event_day, dt.time(14), tzinfo=alpha.zone))

    stats.aggregate_recent(now=back_on)

    assert stats.read([alpha], visit_day, visit_day + dt.timedelta(days=1)).total("visits") == 1
    assert stats.read([alpha], event_day, event_day + dt.timedelta(days=1)).total("events") == 1
    missed = {today - dt.timedelta(days=n) for n in range(13)}
    assert missed <= set(AggregatedDay.objects.filter(site=alpha).values_list("day", flat=True))


def test_the_nightly_run_catches_up_no_further_than_the_retention(centre, settings):
    settings.RAW_RETENTION_DAYS = 20
    alpha = opened(centre.alpha, timezone.now() - dt.timedelta(days=400))
    Site.objects.exclude(pk=alpha.pk).update(active=False)

    assert stats.aggregate_recent() == 21  # today and the 20 days before
