"""Anonymous usage counters: views per resource per day, searches and empty searches per day."""

from django.db.models import F
from django.utils import timezone

from .models import ResourceViewCount, SearchCount
from .text import fold


def count_view(resource_id: int) -> None:
    day = timezone.localdate()
    ResourceViewCount.objects.bulk_create(
        [ResourceViewCount(resource_id=resource_id, day=day, views=0)], ignore_conflicts=True
    )
    ResourceViewCount.objects.filter(resource_id=resource_id, day=day).update(views=F("views") + 1)


def count_search(query: str, found: int) -> None:
    day = timezone.localdate()
    # Only queries that found nothing are kept word for word (to know what to acquire); the
    # others are counted together under "".
    key = fold(query)[:120] if found == 0 else ""
    SearchCount.objects.bulk_create([SearchCount(day=day, query=key)], ignore_conflicts=True)
    SearchCount.objects.filter(day=day, query=key).update(
        searches=F("searches") + 1, empty=F("empty") + (1 if found == 0 else 0)
    )
