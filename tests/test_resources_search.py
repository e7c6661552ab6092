"""The catalogue search understands a question: accents, case, plurals, feminine forms, stop words,
typos; words that match nothing are dropped and said; titles weigh more than keywords, keywords
more than summaries; facets count the whole result set. The same expectations hold on SQLite
(folded text) and PostgreSQL (full-text search); the stored search vector is PostgreSQL's alone."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import Audience, Holding, Purpose, Resource, SearchCount
from resources.search import PAGE_SIZE, refresh_terms
from tests.conftest import make_site

CATALOGUE = "/catalogue/"
# The network's purposes and audiences (created by migration 0003; created again here because a
# transactional test elsewhere may have flushed them).
PURPOSES = {
    "find-a-job": "Trouver un emploi",
    "learn-about-professions": "S'informer sur les métiers",
    "find-a-training": "Trouver une formation",
    "change-your-job": "Changer de métier",
    "create-a-business": "Créer une entreprise",
}
AUDIENCES = {"everyone": "Tout public", "young-people": "Jeunes", "job-seekers": "Demandeurs"}

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL full-text search only (CI runs the suite on PostgreSQL too)",
)


def ensure_purposes() -> dict[str, Purpose]:
    return {
        slug: Purpose.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})[0]
        for order, (slug, name) in enumerate(PURPOSES.items())
    }


def ensure_audiences() -> dict[str, Audience]:
    return {
        slug: Audience.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})[0]
        for order, (slug, name) in enumerate(AUDIENCES.items())
    }


@pytest.fixture
def purposes(db) -> dict[str, Purpose]:
    return ensure_purposes()


@pytest.fixture
def audiences(db) -> dict[str, Audience]:
    return ensure_audiences()


def add_resource(
    title: str,
    *,
    purposes=(),
    audiences=(),
    holdings=(),
    **fields,
) -> Resource:
    """A catalogue record; `holdings` are (site, shelf mark) pairs."""
    resource = Resource.objects.create(title=title, **fields)
    resource.purposes.set(purposes)
    resource.audiences.set(audiences)
    for site, shelf_mark in holdings:
        Holding.objects.create(resource=resource, site=site, shelf_mark=shelf_mark)
    return resource


ENGLISH = {"accept-language": "en"}


def search(client, **params):
    response = client.get(CATALOGUE, params)
    assert response.status_code == 200
    return response.context["results"]


def titles(results) -> list[str]:
    return [r.title for r in results.page]


@pytest.fixture
def shelf(purposes) -> dict[str, Resource]:
    training = purposes["find-a-training"]
    professions = purposes["learn-about-professions"]
    shelf = {
        "health": add_resource(
            "Les métiers de la santé",
            kind=Resource.Kind.BOOK,
            purposes=[professions],
            summary="Infirmier, aide-soignant, sage-femme : qui fait quoi à l'hôpital.",
        ),
        "training": add_resource(
            "Trouver sa formation en alternance",
            kind=Resource.Kind.WEBSITE,
            purposes=[training],
            url="https://example.org/alternance",
        ),
        "garden": add_resource(
            "Jardinier paysagiste",
            kind=Resource.Kind.LEAFLET,
            purposes=[professions],
            summary="Entretenir les parcs et jardins.",
        ),
    }
    refresh_terms()
    return shelf


# --- French ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["metiers", "métiers", "MÉTIERS", "Metiers", "METIERS sante"])
def test_it_finds_words_whatever_their_accents_and_case(client, shelf, q):
    assert titles(search(client, q=q)) == ["Les métiers de la santé"]


def test_it_finds_the_singular_from_the_plural(client, shelf):
    assert titles(search(client, q="formations")) == ["Trouver sa formation en alternance"]


def test_it_finds_the_plural_from_the_singular(client, shelf):
    assert titles(search(client, q="métier")) == ["Les métiers de la santé"]


def test_it_searches_the_summary_too(client, shelf):
    assert titles(search(client, q="hopital")) == ["Les métiers de la santé"]


def test_a_record_with_every_word_is_all_that_is_shown(client, shelf):
    add_resource("Les métiers du bâtiment", summary="Maçon, électricien, plombier.")
    response = client.get(CATALOGUE, {"q": "métiers santé"})
    results = response.context["results"]
    assert titles(results) == ["Les métiers de la santé"]
    assert (results.searched, results.unmatched, results.partial) == ([], [], False)
    assert 'class="narrowed"' not in response.content.decode()


@pytest.mark.parametrize(
    "q", ["les métiers de la santé", "the métiers of santé", "Comment trouver un métier ?"]
)
def test_stop_words_and_question_words_need_not_match(client, shelf, q):
    assert "Les métiers de la santé" in titles(search(client, q=q))


@pytest.mark.parametrize("q", ["infirmière", "infirmières", "INFIRMIER"])
def test_the_feminine_finds_the_masculine_and_back(client, shelf, q):
    assert titles(search(client, q=q)) == ["Les métiers de la santé"]


def test_a_word_being_typed_already_finds_what_it_starts(client, shelf):
    assert titles(search(client, q="forma")) == ["Trouver sa formation en alternance"]
    # Only the start of a word: "ier" ends "Jardinier" and starts nothing.
    assert titles(search(client, q="ier")) == []


def test_words_that_match_nothing_are_dropped_and_the_page_says_so(client, shelf):
    response = client.get(CATALOGUE, {"q": "Rédiger un métier plombière"}, headers=ENGLISH)
    results = response.context["results"]
    assert titles(results) == ["Les métiers de la santé"]
    assert results.searched == ["métier"]
    assert results.unmatched == ["rédiger", "plombière"]
    assert not results.partial
    page = response.content.decode()
    assert "Results for “métier”." in page
    assert "No record mentions “rédiger”, “plombière”." in page
    # The empty-search counter does not count it: it found something.
    assert not SearchCount.objects.filter(empty__gt=0).exists()


def test_the_narrowed_search_speaks_french(client, shelf):
    response = client.get(CATALOGUE, {"q": "métier plombière"}, headers={"accept-language": "fr"})
    page = response.content.decode()
    assert "Résultats pour «\u00a0métier\u00a0»." in page
    assert "Aucune fiche ne mentionne «\u00a0plombière\u00a0»." in page


def test_when_no_record_has_every_word_those_with_the_most_come_first(client, shelf):
    response = client.get(CATALOGUE, {"q": "jardins métiers hôpital"}, headers=ENGLISH)
    results = response.context["results"]
    # Santé has "métiers" and "hôpital", the garden "jardins": the most words first.
    assert titles(results) == ["Les métiers de la santé", "Jardinier paysagiste"]
    assert results.partial
    assert results.searched == ["jardins", "métiers", "hôpital"]
    assert "No record has every word; showing records with “jardins”, “métiers”, “hôpital”" in (
        response.content.decode()
    )


def test_a_typo_among_words_that_match_is_offered_a_correction(client, shelf):
    results = search(client, q="formation alternnace")
    assert titles(results) == ["Trouver sa formation en alternance"]
    assert results.unmatched == ["alternnace"]
    assert results.suggestion == "formation alternance"
    corrected = search(client, q=results.suggestion)
    assert (corrected.total, corrected.unmatched) == (1, [])
    # The rest of the query stays as typed.
    assert search(client, q="Formatoin d'alternance").suggestion == "formation d'alternance"


def test_a_narrowed_search_escapes_what_was_typed(client, shelf):
    page = client.get(CATALOGUE, {"q": "métiers <b>zzqx</b>"}, headers=ENGLISH).content.decode()
    assert "<b>zzqx" not in page
    assert "“zzqx”" in page


@pytest.mark.parametrize(
    ("typo", "meant"), [("formatoin", "formation"), ("metiesr", "metiers"), ("santee", "sante")]
)
def test_a_typo_gets_a_did_you_mean_suggestion(client, shelf, typo, meant):
    response = client.get(CATALOGUE, {"q": typo})
    results = response.context["results"]
    assert results.total == 0
    assert results.suggestion is not None
    assert meant in results.suggestion.split()
    # …offered as a link that runs the corrected search.
    assert f'href="?{urlencode({"q": results.suggestion})}"' in response.content.decode()
    assert search(client, q=results.suggestion).total >= 1


def test_a_typo_among_good_words_is_corrected_alone(client, shelf):
    results = search(client, q="metiers santee")
    assert results.suggestion == "metiers sante"


def test_there_is_no_suggestion_when_the_words_are_known(client, shelf):
    assert search(client, q="formation").suggestion is None


def test_there_is_no_suggestion_for_gibberish(client, shelf):
    assert search(client, q="qwxzkv").suggestion is None


def test_it_counts_a_search_that_found_nothing_as_empty(client, shelf):
    search(client, q="Plombière")
    search(client, q="plombiere")
    search(client, q="métiers")
    today = timezone.localdate()
    empty = SearchCount.objects.get(day=today, query="plombiere")
    assert (empty.searches, empty.empty) == (2, 2)
    # Searches that found something are counted together, without their words.
    found = SearchCount.objects.get(day=today, query="")
    assert (found.searches, found.empty) == (1, 0)
    assert not SearchCount.objects.filter(query__contains="metier").exists()


def test_turning_pages_does_not_count_more_searches(client, purposes):
    for n in range(PAGE_SIZE + 5):
        add_resource(f"Guide des formations n° {n}", purposes=[purposes["find-a-training"]])
    search(client, q="formation")
    search(client, q="formation", page=2)
    assert SearchCount.objects.get(query="").searches == 1


def test_a_withdrawn_resource_is_not_found(client, shelf):
    shelf["health"].withdrawn = True
    shelf["health"].save(update_fields=["withdrawn"])
    assert search(client, q="métiers").total == 0
    assert "Les métiers de la santé" not in titles(search(client, kind="book"))


def test_the_officers_opinion_is_not_searched(client, shelf):
    shelf["garden"].opinion = "Daté, remplacer par la réédition"
    shelf["garden"].save()
    assert search(client, q="réédition").total == 0


# --- ranking -------------------------------------------------------------------------------------


def test_a_title_match_ranks_above_a_summary_only_match(client, purposes):
    # Alphabetically the summary-only match would come first: the order must come from the rank.
    add_resource("Aide à domicile", summary="Un métier proche de celui d'infirmier.")
    add_resource("Infirmier en bloc opératoire", summary="Le bloc, les gardes, la formation.")
    assert titles(search(client, q="infirmiers")) == [
        "Infirmier en bloc opératoire",
        "Aide à domicile",
    ]


def test_a_keyword_match_ranks_between_title_and_summary(client, purposes):
    add_resource("Annuaire des commerces", summary="Tout sur la boulangerie.")
    add_resource("Commerces de bouche", keywords="boulangerie, pâtisserie")
    add_resource("Zoom sur la boulangerie", summary="Le fournil.")
    assert titles(search(client, q="boulangerie")) == [
        "Zoom sur la boulangerie",
        "Commerces de bouche",
        "Annuaire des commerces",
    ]


def test_records_with_more_of_the_words_in_their_titles_come_first(client, purposes):
    add_resource("Annuaire", keywords="formation, alternance")
    add_resource("L'alternance", keywords="formation")
    add_resource("Formation en alternance")
    assert titles(search(client, q="formation alternance")) == [
        "Formation en alternance",
        "L'alternance",
        "Annuaire",
    ]


# --- PostgreSQL: the stored vector ---------------------------------------------------------------


def stored_vector(resource: Resource) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text FROM resources_resource WHERE id = %s", [resource.pk]
        )
        return cursor.fetchone()[0] or ""


@postgresql_only
def test_the_trigger_fills_the_search_vector_on_insert_and_update(purposes):
    resource = add_resource("Les métiers de la santé", summary="À l'hôpital")
    vector = stored_vector(resource)
    # Unaccented French stems, title weighted A, summary D.
    assert "'meti':2A" in vector or "'metier':2A" in vector, vector
    assert "'sant':5A" in vector or "'sante':5A" in vector, vector
    # D is the default weight, written without its letter.
    assert re.search(r"'hopital':\d+(?: |$)", vector), vector

    Resource.objects.filter(pk=resource.pk).update(title="Boulanger-pâtissier")
    vector = stored_vector(resource)
    assert "boulang" in vector and "patissi" in vector, vector
    assert "meti" not in vector, vector

    resource.refresh_from_db()
    resource.keywords = "fournil"
    resource.save()
    assert "'fournil':" in stored_vector(resource)


@postgresql_only
def test_the_search_uses_the_stored_vector_under_its_gin_index(purposes):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'resource_search_vector_idx'"
        )
        (definition,) = cursor.fetchone()
        cursor.execute("SELECT cfgname FROM pg_ts_config WHERE cfgname = 'french_unaccent'")
        assert cursor.fetchone() == ("french_unaccent",)
    assert "gin" in definition.lower() and "search_vector" in definition


# --- facets ---------------------------------------------------------------------------------------


@pytest.fixture
def large_shelf(purposes, audiences) -> int:
    """More matching records than one page: 45 on formations across kinds, purposes, audiences,
    languages and two sites, and a few others."""
    alpha, beta = make_site("alpha"), make_site("beta")
    kinds = [Resource.Kind.BOOK, Resource.Kind.WEBSITE, Resource.Kind.LEAFLET, Resource.Kind.VIDEO]
    languages = [Resource.Language.FR, Resource.Language.FR, Resource.Language.EN]
    purpose_list = list(purposes.values())
    audience_list = list(audiences.values())
    for n in range(45):
        sites = [(alpha, f"FOR {n}")] + ([(beta, f"B{n}")] if n % 3 == 0 else [])
        add_resource(
            f"Guide des formations {n:02d}",
            kind=kinds[n % len(kinds)],
            language=languages[n % len(languages)],
            # Some records serve two purposes: they must still count once per facet value.
            purposes=purpose_list[n % 5 : n % 5 + 1 + (n % 2)],
            audiences=audience_list[n % 3 : n % 3 + 1] if n % 4 else [],
            holdings=sites,
        )
    for n in range(7):
        add_resource(f"Les métiers du bâtiment {n}", kind=kinds[n % 2], holdings=[(beta, "BAT")])
    refresh_terms()
    return 45


FILTERS = [
    {"q": "formations"},
    {"q": "formation", "kind": "book"},
    {"q": "formation", "purpose": "find-a-training"},
    {"purpose": "learn-about-professions"},
    {"kind": "website", "language": "fr"},
    # A site alone is a site's home page (test_resources_public): a site and a filter.
    {"site": "beta", "language": "fr"},
    {"q": "guide", "audience": "young-people", "site": "alpha"},
    {"language": "en", "purpose": "find-a-job", "audience": "job-seekers"},
]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: urlencode(p))
def test_facet_counts_add_up_and_match_what_a_click_finds(client, large_shelf, params):
    response = client.get(CATALOGUE, params)
    results = response.context["results"]
    assert results.total > 0
    assert len(results.page) == min(results.total, PAGE_SIZE)
    # One kind and one language per record: unless one is chosen, those facets partition the
    # result set; once one is chosen, it counts the whole result set.
    for name in ("kind", "language"):
        if name in params:
            (chosen,) = (v for v in results.facets[name] if v.selected)
            assert chosen.count == results.total
        else:
            assert sum(v.count for v in results.facets[name]) == results.total, name
    for name, values in results.facets.items():
        for value in values:
            clicked = client.get(CATALOGUE + value.url)
            assert clicked.status_code == 200
            if value.selected:
                # Clicking a selected facet removes it; the count shown is this result set's.
                assert value.count == results.total, (name, value.value)
                assert getattr(clicked.context["filters"], name) == ""
            else:
                assert clicked.context["results"].total == value.count, (name, value.value)
                assert getattr(clicked.context["filters"], name) == value.value


def test_facets_count_the_whole_result_set_not_the_first_page(client, large_shelf):
    results = search(client, q="formations")
    assert results.total == large_shelf > PAGE_SIZE
    assert len(results.page) == PAGE_SIZE
    by_site = {v.value: v.count for v in results.facets["site"]}
    assert by_site == {"alpha": 45, "beta": 15}
    assert sum(v.count for v in results.facets["kind"]) == 45


def test_a_record_serving_two_purposes_counts_once_in_each(client, large_shelf):
    results = search(client, q="formations")
    by_purpose = {v.value: v.count for v in results.facets["purpose"]}
    # n % 5 picks the first purpose, odd n add the next one.
    expected = dict.fromkeys(PURPOSES, 0)
    slugs = list(PURPOSES)
    for n in range(45):
        for slug in slugs[n % 5 : n % 5 + 1 + (n % 2)]:
            expected[slug] += 1
    assert by_purpose == expected


@pytest.mark.django_db
def test_a_pasted_paragraph_is_searched_for_its_first_words_and_says_so(client):
    Resource.objects.create(title="Rédiger son CV", kind=Resource.Kind.LEAFLET)
    words = ["cv"] + [f"mot{n}" for n in range(60)]

    def queries(query: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/catalogue/", {"q": query}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    nine, _page = queries(" ".join(words[:9]))
    sixty_one, page = queries(" ".join(words))
    assert "Only the first 8 words were searched." in page
    assert "Rédiger son CV" in page
    assert sixty_one == nine  # the words past the eighth cost nothing


@pytest.mark.parametrize("page", ["99999999999999999999999", "-5", "1e9", "٣"])
@pytest.mark.django_db
def test_any_page_number_answers_a_page(client, page):
    Resource.objects.create(title="Rédiger son CV", kind=Resource.Kind.LEAFLET)
    response = client.get("/catalogue/", {"q": "cv", "page": page})
    assert response.status_code == 200
    assert "Rédiger son CV" in response.content.decode()
