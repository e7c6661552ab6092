from celery import shared_task
from django.utils import timezone

from citedesmetiers.models import Site

from . import services


@shared_task
def close_finished_days() -> int:
    """Beat, every 15 minutes: close the queues of every site whose day is over and the desks
    left open from an earlier day, then roll the closed days into the anonymous daily figures."""
    from citedesmetiers.models import AggregatedDay
    from citedesmetiers.stats import aggregate_day
    from counselling.services import close_forgotten_desks

    closed = 0
    for site in Site.objects.filter(active=True):
        now_closed = services.close_day(site=site)
        closed += now_closed
        for day in sorted(close_forgotten_desks(site=site)):
            aggregate_day(site, day)  # an interview of that day has just ended
        today = site.local_date()
        if services.day_is_over(site, timezone.now()) and (
            now_closed or not AggregatedDay.objects.filter(site=site, day=today).exists()
        ):
            aggregate_day(site, today)
    return closed
