import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from citedesmetiers.models import Site
from counselling.services import close_forgotten_desks
from reception import services as reception_services
from reception.proof import forget_old_proofs

from . import report_runs, report_service, stats
from .models import AggregatedDay
from .report_runs import generate_report  # noqa: F401 (the report's own task, found here by the worker)

logger = logging.getLogger(__name__)


@shared_task(name="figures.close_finished_days")
def close_finished_days() -> int:
    """Beat, every 15 minutes: close the queues of every site whose day is over and the desks
    left open from an earlier day, then roll the closed days into the anonymous daily figures."""
    closed, failures = 0, []
    for site in Site.objects.filter(active=True):
        try:
            with transaction.atomic():  # one site's trouble rolls back that site only
                # Desks first: their visitors end at their day's closing, not at this run's time.
                days = close_forgotten_desks(site=site)
                now_closed = reception_services.close_day(site=site)
        except Exception as exc:  # the other sites' queues must still close
            logger.exception("Could not close the day at site %s", site.slug)
            failures.append(exc)
            continue
        closed += now_closed
        today = site.local_date()
        if site.day_is_over(timezone.now()) and (
            now_closed or not AggregatedDay.objects.filter(site=site, day=today).exists()
        ):
            days.add(today)
        try:
            # Apart from the closing: figures that fail are made again at the next run or at
            # night (`aggregate_recent`); the queues stay closed meanwhile.
            with transaction.atomic():
                for day in sorted(days):
                    stats.aggregate_day(site, day)
        except Exception as exc:
            logger.exception("Could not aggregate the closed days of site %s", site.slug)
            failures.append(exc)
    if failures:  # after every site was done: the task still fails, for the monitoring
        raise ExceptionGroup("the day close failed at some sites", failures)
    return closed


@shared_task(name="figures.aggregate_and_purge")
def aggregate_and_purge() -> dict:
    """Nightly: roll the last days into anonymous figures, then delete expired raw rows and the
    codes of proofs too old to be checked."""
    return {
        "days": stats.aggregate_recent(),
        "deleted": stats.purge_raw(),
        "proofs": forget_old_proofs(),
    }


@shared_task(name="figures.generate_missing_reports")
def generate_missing_reports() -> int:
    return report_service.missing_reports()


# The names these tasks had before they moved into this app, kept for one release: messages
# queued (or beat entries sent) before the upgrade name them, and a worker that does not know a
# name drops its message. Remove them in the release after.


@shared_task(name="reception.tasks.close_finished_days")
def close_finished_days_old_name() -> int:
    return close_finished_days()


@shared_task(name="citedesmetiers.tasks.aggregate_and_purge")
def aggregate_and_purge_old_name() -> dict:
    return aggregate_and_purge()


@shared_task(name="citedesmetiers.tasks.generate_missing_reports")
def generate_missing_reports_old_name() -> int:
    return generate_missing_reports()


@shared_task(name="citedesmetiers.tasks.generate_report", **report_runs.TASK_OPTIONS)
def generate_report_old_name(self, report_id: int) -> None:
    # Not through `generate_report()`: the run is this message's, whose id lets a redelivered
    # message take its lost run over (`make_report`).
    report_runs.make_report(report_id, run=self.request.id)
