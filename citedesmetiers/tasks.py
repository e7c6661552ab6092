from celery import shared_task
from django.conf import settings

from . import report_service, stats
from .outbox import drain_outbox  # noqa: F401 (the outbox's own task, found here by the worker)


@shared_task(name="citedesmetiers.tasks.aggregate_and_purge")
def aggregate_and_purge() -> dict:
    """Nightly: roll the last days into anonymous figures, then delete expired raw rows."""
    return {"days": stats.aggregate_recent(), "deleted": stats.purge_raw()}


@shared_task(
    name="citedesmetiers.tasks.generate_report",
    bind=True,
    # Acknowledged once done, and handed to another worker if this one dies meanwhile (killed,
    # out of memory): the next run takes over (`make_report`), up to MAX_ATTEMPTS.
    acks_late=True,
    reject_on_worker_lost=True,
    # The soft limit records the failure; the hard one kills a render stuck beyond it.
    soft_time_limit=settings.REPORT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT + report_service.HARD_LIMIT_MARGIN,
)
def generate_report(self, report_id: int) -> None:
    report_service.make_report(report_id, run=self.request.id)


@shared_task(name="citedesmetiers.tasks.generate_missing_reports")
def generate_missing_reports() -> int:
    return report_service.missing_reports()
