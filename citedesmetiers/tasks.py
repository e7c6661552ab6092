from celery import shared_task

from . import report_service, stats
from .outbox import drain_outbox  # noqa: F401 (the outbox's own task, found here by the worker)


@shared_task
def aggregate_and_purge() -> dict:
    """Nightly: roll the last days into anonymous figures, then delete expired raw rows."""
    return {"days": stats.aggregate_recent(), "deleted": stats.purge_raw()}


@shared_task(bind=True, max_retries=2, default_retry_delay=120)
def generate_report(self, report_id: int) -> None:
    report_service.make_report(report_id)


@shared_task
def generate_last_month_reports() -> int:
    return report_service.last_month_reports()
