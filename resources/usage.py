"""Anonymous usage counters: views per resource per day, searches and empty searches per day.

The words of a search that found nothing are kept for one purpose, knowing what to acquire, and
never say who typed them: what looks like an e-mail address, a web address or a phone number
(any run of six digits or more) is removed before anything is stored; the reports show a query
only once it was asked on `MIN_DAYS` different days; and the words are forgotten, their counts
added to the day's anonymous total, when that has not happened within `GRACE_DAYS`, and in any
case after `SEARCH_QUERY_RETENTION_DAYS`."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ResourceViewCount, SearchCount
from .text import fold

MIN_DAYS = 3
GRACE_DAYS = 14
MAX_QUERY = SearchCount._meta.get_field("query").max_length

_EMAIL = re.compile(r"\S*@\S*")
_WEB_ADDRESS = re.compile(r"\S*(?:://|www\.)\S*|\S+\.[a-z]{2,}\S*")
_PHONE_OR_NUMBER = re.compile(r"\+?\d(?:[\s./()-]*\d){5,}")
_WORD = re.compile(r"[^\W_]")


def query_words(query: str) -> str:
    """What may be kept of a search that found nothing: folded, without contact details."""
    text = fold(query)
    for pattern in (_EMAIL, _WEB_ADDRESS, _PHONE_OR_NUMBER):
        text = pattern.sub(" ", text)
    text = " ".join(text.split())[:MAX_QUERY].strip()
    return text if _WORD.search(text) else ""


def count_view(resource_id: int) -> None:
    day = timezone.localdate()
    ResourceViewCount.objects.bulk_create(
        [ResourceViewCount(resource_id=resource_id, day=day, views=0)], ignore_conflicts=True
    )
    ResourceViewCount.objects.filter(resource_id=resource_id, day=day).update(views=F("views") + 1)


def _add(day: dt.date, query: str, searches: int, empty: int) -> None:
    SearchCount.objects.bulk_create([SearchCount(day=day, query=query)], ignore_conflicts=True)
    SearchCount.objects.filter(day=day, query=query).update(
        searches=F("searches") + searches, empty=F("empty") + empty
    )


def count_search(query: str, found: int) -> None:
    # Only queries that found nothing are kept word for word (to know what to acquire); the
    # others are counted together under "".
    _add(timezone.localdate(), query_words(query) if found == 0 else "", 1, int(found == 0))


def forget_searches(*, today: dt.date | None = None) -> int:
    """Fold into each day's anonymous count the words that must not be kept: those asked on
    fewer than MIN_DAYS days once GRACE_DAYS have passed, those past the retention, and any
    that looks like contact details (kept before this rule existed). Returns the rows folded."""
    today = today or timezone.localdate()
    kept_since = today - dt.timedelta(days=settings.SEARCH_QUERY_RETENTION_DAYS)
    grace_until = today - dt.timedelta(days=GRACE_DAYS)
    rows = list(
        SearchCount.objects.exclude(query="").values_list("pk", "day", "query", "searches", "empty")
    )
    days = defaultdict(set)
    for _pk, day, query, _searches, _empty in rows:
        if day >= kept_since:
            days[query].add(day)
    forgotten = [
        row
        for row in rows
        if row[1] < kept_since
        or query_words(row[2]) != row[2]
        or (row[1] <= grace_until and len(days[row[2]]) < MIN_DAYS)
    ]
    with transaction.atomic():
        for _pk, day, _query, searches, empty in forgotten:
            _add(day, "", searches, empty)
        SearchCount.objects.filter(pk__in=[row[0] for row in forgotten]).delete()
    return len(forgotten)
