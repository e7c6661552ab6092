from celery import shared_task

from citedesmetiers.models import Site

from . import services


@shared_task
def close_finished_days() -> int:
    """Beat, every 15 minutes: close the queues of every site whose day is over."""
    return sum(services.close_day(site=site) for site in Site.objects.filter(active=True))
