import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from citedesmetiers.models import Site

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="reception.tasks.close_finished_days")
def close_finished_days() -> int:
    """Beat, every 15 minutes: close the queues of every site whose day is over and the desks
    left open from an earlier day, then roll the closed days into the anonymous daily figures."""
    from citedesmetiers.models import AggregatedDay
    from citedesmetiers.stats import aggregate_day
    from counselling.services import close_forgotten_desks

    closed, failures = 0, []
    for site in Site.objects.filter(active=True):
        try:
            with transaction.atomic():  # one site's trouble rolls back that site only
                # Desks first: their visitors end at their day's closing, not at this run's time.
                days = close_forgotten_desks(site=site)
                now_closed = services.close_day(site=site)
        except Exception as exc:  # the other sites' queues must still close
            logger.exception("Could not close the day at site %s", site.slug)
            failures.append(exc)
            continue
        closed += now_closed
        today = site.local_date()
        if services.day_is_over(site, timezone.now()) and (
            now_closed or not AggregatedDay.objects.filter(site=site, day=today).exists()
        ):
            days.add(today)
        try:
            # Apart from the closing: figures that fail are made again at the next run or at
            # night (`aggregate_recent`); the queues stay closed meanwhile.
            with transaction.atomic():
                for day in sorted(days):
                    aggregate_day(site, day)
        except Exception as exc:
            logger.exception("Could not aggregate the closed days of site %s", site.slug)
            failures.append(exc)
    if failures:  # after every site was done: the task still fails, for the monitoring
        raise ExceptionGroup("the day close failed at some sites", failures)
    return closed
