"""The searches that found nothing: kept to know what to acquire, and nothing about who asked.

What looks like an e-mail address, a web address or a phone number never reaches the database;
the monthly report lists a query only once it was asked on three different days; the words are
forgotten (their counts kept, anonymously) when that does not happen within two weeks, and in
any case after SEARCH_QUERY_RETENTION_DAYS."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from citedesmetiers.settings import CELERY_BEAT_SCHEDULE
from resources import stats, usage
from resources.models import SearchCount
from resources.tasks import forget_searches
from tests.test_resources_search import purposes, search  # noqa: F401 (a fixture)

TODAY = dt.date(2026, 5, 20)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("CV jean.dupont@example.org", "cv"),
        ("plombier 06 12 34 56 78", "plombier"),
        ("plombier +33612345678", "plombier"),
        ("soudeur 06.12.34.56.78 Lyon", "soudeur lyon"),
        ("https://evil.example/x?id=42 menuisier", "menuisier"),
        ("www.monsite.fr apprentissage", "apprentissage"),
        ("numéro 1 85 05 78 006 084 91", "numero"),
        ("Électricien en 2026", "electricien en 2026"),
    ],
)
@pytest.mark.usefixtures("purposes")
def test_a_search_that_found_nothing_is_kept_without_contact_details(client, typed, kept):
    search(client, q=typed)

    assert list(SearchCount.objects.exclude(query="").values_list("query", flat=True)) == [kept]


@pytest.mark.usefixtures("purposes")
def test_a_search_made_only_of_contact_details_is_counted_without_words(client):
    search(client, q="marie.durand@example.org 0612345678")

    row = SearchCount.objects.get()
    assert (row.query, row.searches, row.empty) == ("", 1, 1)


def empty_search(query: str, day: dt.date, times: int = 1) -> SearchCount:
    return SearchCount.objects.create(day=day, query=query, searches=times, empty=times)


def test_the_report_lists_a_query_only_once_it_was_asked_on_three_days(db):
    for offset in range(3):
        empty_search("plombier", TODAY - dt.timedelta(days=offset))
    empty_search("madame michu rue des lilas", TODAY, times=7)  # one person, one afternoon
    empty_search("soudeur", TODAY, times=2)
    empty_search("soudeur", TODAY - dt.timedelta(days=1))

    figures = stats.usage(TODAY.replace(day=1), TODAY + dt.timedelta(days=1))

    assert figures["empty_queries"] == [{"query": "plombier", "n": 3, "days": 3}]
    assert figures["empty_searches"] == 13  # every empty search is still counted


def test_the_words_asked_on_fewer_than_three_days_are_forgotten_after_two_weeks(db):
    old = TODAY - dt.timedelta(days=usage.GRACE_DAYS)
    recent = TODAY - dt.timedelta(days=3)
    empty_search("madame michu rue des lilas", old, times=7)
    empty_search("soudeur", old)
    empty_search("soudeur", recent)  # two days only
    for offset in (0, 1, 2):
        empty_search("plombier", old - dt.timedelta(days=offset))
    empty_search("menuisier", recent)  # too recent to judge
    SearchCount.objects.create(day=old, query="", searches=40, empty=2)
    totals = SearchCount.objects.aggregate(searches=Sum("searches"), empty=Sum("empty"))

    assert usage.forget_searches(today=TODAY) == 2

    kept = set(SearchCount.objects.exclude(query="").values_list("day", "query"))
    assert kept == {
        (recent, "soudeur"),
        (recent, "menuisier"),
        *((old - dt.timedelta(days=offset), "plombier") for offset in (0, 1, 2)),
    }
    anonymous = SearchCount.objects.get(day=old, query="")
    assert (anonymous.searches, anonymous.empty) == (48, 10)
    assert SearchCount.objects.aggregate(searches=Sum("searches"), empty=Sum("empty")) == totals
    assert usage.forget_searches(today=TODAY) == 0  # safe to run again


def test_every_word_is_forgotten_after_the_retention_period(db, settings):
    settings.SEARCH_QUERY_RETENTION_DAYS = 90
    expired = TODAY - dt.timedelta(days=91)
    for offset in range(5):
        empty_search("plombier", expired - dt.timedelta(days=offset))
    empty_search("plombier", TODAY)

    usage.forget_searches(today=TODAY)

    assert list(SearchCount.objects.exclude(query="").values_list("day", flat=True)) == [TODAY]
    assert SearchCount.objects.filter(query="").aggregate(n=Sum("empty"))["n"] == 5


def test_contact_details_kept_before_this_rule_are_forgotten(db):
    for offset in range(3):
        empty_search("cv jean.dupont@example.org", TODAY - dt.timedelta(days=offset))

    usage.forget_searches(today=TODAY)

    assert not SearchCount.objects.exclude(query="").exists()
    assert SearchCount.objects.aggregate(n=Sum("empty"))["n"] == 3


def test_the_nightly_job_forgets_the_words(db):
    empty_search("madame michu", timezone.localdate() - dt.timedelta(days=30))

    assert forget_searches.apply().get() == 1
    assert "resources.tasks.forget_searches" in {
        entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()
    }
