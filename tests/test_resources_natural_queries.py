"""Twenty questions as visitors type them, against the demo catalogue (`seed_demo`'s): each finds a
record that answers it in its first five results. The suite runs on SQLite and on PostgreSQL (CI
runs both), so the two searches are held to the same list. Relevance is said per query: a title
(folded: no accents, lower case) containing one of the given phrases."""

from __future__ import annotations

import pytest

from resources.demo import seed_catalogue
from resources.models import Resource, SearchTerm
from resources.search import Filters, search
from resources.text import fold
from tests.conftest import make_site

# query → phrases, one of which a relevant record's title contains
QUERIES = {
    "rédiger un cv": ["cv"],
    "entretien d'embauche": ["entretien"],
    "entretien embauche": ["entretien"],
    "créer mon entreprise": ["entreprise"],
    "travailler au canada": ["canada"],
    "formation infirmière": ["infirmier"],
    "reconversion": ["reconvertir", "bilan de competences", "vae"],
    "apprentissage": ["apprentissage", "alternance"],
    "lettre de motivation": ["lettre de motivation"],
    "chercher un emploi": ["recherche d'emploi", "offres d'emploi"],
    "stage à l'étranger": ["stage a l'etranger"],
    "VAE validation des acquis": ["vae"],
    "métiers de la santé": ["metiers de la sante"],
    "salaire": ["salaire"],
    "bilan de compétences": ["bilan de competences"],
    "financer ma formation": ["financer sa formation"],
    "aide à domicile": ["aide a la personne"],
    "travailler en Europe": ["europe"],
    "comment devenir électricien ?": ["batiment"],
    "metiers": ["fiche metier"],
}


@pytest.fixture(scope="module")
def demo_catalogue(django_db_setup, django_db_blocker):
    """The demo catalogue, once for the module (it is a few hundred records), then removed with
    the suggestion terms it added (other modules' tests expect their own)."""
    with django_db_blocker.unblock():
        terms_before = set(SearchTerm.objects.values_list("pk", flat=True))
        site = make_site("demo-catalogue")
        site.language = "fr"
        site.save(update_fields=["language"])
        seed_catalogue(site)
        yield site
        Resource.objects.all().delete()
        SearchTerm.objects.exclude(pk__in=terms_before).delete()
        site.delete()


def first_five(q: str) -> list[str]:
    return [resource.title for resource in search(Filters(q=q)).page.object_list[:5]]


@pytest.mark.parametrize("q", QUERIES)
def test_a_natural_question_finds_a_relevant_record_in_the_first_five(db, demo_catalogue, q):
    titles = first_five(q)
    relevant = [title for title in titles if any(p in fold(title) for p in QUERIES[q])]
    assert relevant, (q, titles)


def test_a_word_found_in_titles_lists_those_records_first(db, demo_catalogue):
    results = search(Filters(q="metiers"))
    in_title = Resource.objects.filter(withdrawn=False, title__icontains="métier").count()
    assert 0 < in_title < results.total
    # Every record with "métier" in its title comes before every record without…
    ranked = [r.title for r in search(Filters(q="metiers"), 1).page.object_list]
    pages = (results.total + 19) // 20
    for n in range(2, pages + 1):
        ranked += [r.title for r in search(Filters(q="metiers"), n).page.object_list]
    assert len(ranked) == results.total
    flags = ["metier" in fold(title) for title in ranked]
    assert flags == sorted(flags, reverse=True)
    # …and the job profiles are on the first page.
    assert any(title.startswith("Fiche métier") for title in ranked[:20])
