"""Documentation usage. The catalogue is shared by the sites, and its counters are already
anonymous daily figures (views per resource per day, searches and empty searches per day), so
this module only reads them for a period."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Sum

from .models import ResourceViewCount, SearchCount
from .usage import MIN_DAYS


def usage(start: dt.date, end: dt.date, top: int = 10) -> dict:
    """Figures for [start, end): total views, most viewed, searches, empty searches and the
    queries that found nothing most often, among those asked on MIN_DAYS different days."""
    views = ResourceViewCount.objects.filter(day__gte=start, day__lt=end)
    searches = SearchCount.objects.filter(day__gte=start, day__lt=end)
    totals = searches.aggregate(searches=Sum("searches"), empty=Sum("empty"))
    return {
        "views": views.aggregate(n=Sum("views"))["n"] or 0,
        "most_viewed": list(
            views.values("resource__title").annotate(n=Sum("views")).order_by("-n")[:top]
        ),
        "searches": totals["searches"] or 0,
        "empty_searches": totals["empty"] or 0,
        "empty_queries": list(
            searches.filter(empty__gt=0)
            .exclude(query="")
            .values("query")
            .annotate(n=Sum("empty"), days=Count("day", distinct=True))
            .filter(days__gte=MIN_DAYS)
            .order_by("-n", "query")[:top]
        ),
    }
