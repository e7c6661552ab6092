"""The demo catalogue speaks the language of the site it is seeded for: French keywords in a French
catalogue (its titles are French), English ones for an English-speaking site."""

from __future__ import annotations

from resources.demo import seed_catalogue
from resources.models import Resource
from resources.search import Filters, search
from resources.text import words
from tests.conftest import make_site

ENGLISH_WORDS = {"learn", "about", "professions", "find", "job", "training", "your", "business"}


def site_in(language: str, slug: str = "demo"):
    site = make_site(slug)
    site.language = language
    site.save(update_fields=["language"])
    return site


def keyword_words(site) -> set[str]:
    return set(
        words(
            " ".join(
                Resource.objects.filter(holdings__site=site).values_list("keywords", flat=True)
            )
        )
    )


def test_a_french_site_gets_french_keywords(db):
    site = site_in("fr")
    seed_catalogue(site)
    assert not ENGLISH_WORDS & keyword_words(site)
    cv = Resource.objects.get(title="Le CV de la santé")
    assert "lettre de motivation" in cv.keywords and "infirmier" in cv.keywords


def test_an_english_speaking_site_gets_english_keywords(db):
    site = site_in("en")
    seed_catalogue(site, count=20)
    health = Resource.objects.get(title="Les métiers de la santé")
    assert "nurse" in health.keywords
    assert "infirmier" not in health.keywords
    assert {"nurse", "careers"} <= keyword_words(site)


def test_seeding_again_turns_old_english_keywords_into_french_ones(db):
    site = site_in("fr")
    seed_catalogue(site, count=5)
    Resource.objects.update(keywords="santé, learn about professions, orientation, métiers")
    seed_catalogue(site, count=5)
    assert not ENGLISH_WORDS & keyword_words(site)
    # Saved as a record is saved: the search reads the new keywords.
    found = [r.title for r in search(Filters(q="infirmier")).page.object_list]
    assert "Les métiers de la santé" in found
