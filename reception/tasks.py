import logging

from celery import shared_task
from django.utils import timezone

from citedesmetiers.models import Site

from . import services

logger = logging.getLogger(__name__)


@shared_task
def close_finished_days() -> int:
    """Beat, every 15 minutes: close the queues of every site whose day is over and the desks
    left open from an earlier day, then roll the closed days into the anonymous daily figures."""
    from citedesmetiers.models import AggregatedDay
    from citedesmetiers.stats import aggregate_day
    from counselling.services import close_forgotten_desks

    closed = 0
    for site in Site.objects.filter(active=True):
        try:
            # Desks first: their visitors end at their day's closing, not at this run's time.
            for day in sorted(close_forgotten_desks(site=site)):
                aggregate_day(site, day)
            now_closed = services.close_day(site=site)
        except Exception:  # one site's trouble must not keep the others' queues open
            logger.exception("Could not close the day at site %s", site.slug)
            continue
        closed += now_closed
        today = site.local_date()
        if services.day_is_over(site, timezone.now()) and (
            now_closed or not AggregatedDay.objects.filter(site=site, day=today).exists()
        ):
            aggregate_day(site, today)
    return closed
