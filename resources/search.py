"""Catalogue search: French-aware, accent-insensitive, ranked, with facets over the whole result
set and typo suggestions.

PostgreSQL: `websearch_to_tsquery('french_unaccent', q)` against the stored, weighted
`search_vector` (GIN index), ranked with `ts_rank_cd`; suggestions by trigram similarity.
SQLite (the embedded default): every folded query word (a trailing plural s/x dropped) must
appear in the folded text; suggestions with difflib. Accents and plurals behave the same; the
ranking is plain alphabetical.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

from .models import Audience, Purpose, Resource, SearchTerm
from .text import words

PAGE_SIZE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; no control char is useful
MAX_QUERY = 200


@dataclass
class Filters:
    q: str = ""
    kind: str = ""
    purpose: str = ""
    audience: str = ""
    language: str = ""
    site: str = ""

    @classmethod
    def from_query(cls, params) -> Filters:
        return cls(
            **{
                name: _CONTROL.sub("", params.get(name) or "").strip()[:MAX_QUERY]
                for name in ("q", "kind", "purpose", "audience", "language", "site")
            }
        )

    @property
    def active(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v and k != "q"}


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Results:
    page: Page
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _text_match(queryset: QuerySet, q: str) -> QuerySet:
    if not words(q):
        return queryset
    if connection.vendor == "postgresql":
        return queryset.extra(
            where=["search_vector @@ websearch_to_tsquery('french_unaccent', %s)"], params=[q]
        ).annotate(
            rank=RawSQL(
                "ts_rank_cd(search_vector, websearch_to_tsquery('french_unaccent', %s))", (q,)
            )
        )
    for word in words(q):
        queryset = queryset.filter(folded__contains=_stem(word))
    return queryset


def matching(filters: Filters) -> QuerySet:
    queryset = Resource.objects.filter(withdrawn=False)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.purpose:
        queryset = queryset.filter(purposes__slug=filters.purpose)
    if filters.audience:
        queryset = queryset.filter(audiences__slug=filters.audience)
    if filters.site:
        queryset = queryset.filter(holdings__site__slug=filters.site)
    return _text_match(queryset, filters.q)


def suggest(q: str) -> str | None:
    """The query with each unknown word replaced by the closest known word, if that changes it."""
    query_words = words(q)
    if not query_words:
        return None
    known = set(SearchTerm.objects.filter(term__in=query_words).values_list("term", flat=True))
    changed, out = False, []
    for word in query_words:
        if word in known or len(word) < 4:
            out.append(word)
            continue
        if connection.vendor == "postgresql":
            best = (
                SearchTerm.objects.extra(where=["term %% %s"], params=[word])
                .annotate(sim=RawSQL("similarity(term, %s)", (word,)))
                .order_by("-sim", "-frequency")
                .values_list("term", flat=True)
                .first()
            )
        else:
            candidates = SearchTerm.objects.filter(term__startswith=word[0]).values_list(
                "term", flat=True
            )
            close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
            best = close[0] if close else None
        if best and best != word:
            changed = True
            out.append(best)
        else:
            out.append(word)
    return " ".join(out) if changed else None


def _facets(filters: Filters) -> dict[str, list[FacetValue]]:
    """Each group is counted over the results of every *other* filter, so a facet's number is
    exactly what clicking it gives (a resource can have several purposes, audiences, sites)."""
    from citedesmetiers.models import Site

    def without(name: str) -> QuerySet:
        return matching(dataclasses.replace(filters, **{name: ""})).values("pk")

    kinds = dict(Resource.Kind.choices)
    languages = dict(Resource.Language.choices)
    by_kind = Resource.objects.filter(pk__in=without("kind")).values("kind").annotate(n=Count("pk"))
    by_language = (
        Resource.objects.filter(pk__in=without("language"))
        .values("language")
        .annotate(n=Count("pk"))
    )
    purposes = Purpose.objects.filter(resources__in=without("purpose")).annotate(
        n=Count("resources")
    )
    audiences = Audience.objects.filter(resources__in=without("audience")).annotate(
        n=Count("resources")
    )
    sites = Site.objects.filter(holdings__resource__in=without("site"), active=True).annotate(
        n=Count("holdings__resource", distinct=True)
    )
    return {
        "kind": [
            FacetValue(
                r["kind"], kinds.get(r["kind"], r["kind"]), r["n"], r["kind"] == filters.kind
            )
            for r in by_kind.order_by("-n")
        ],
        "purpose": [FacetValue(p.slug, p.name, p.n, p.slug == filters.purpose) for p in purposes],
        "audience": [
            FacetValue(a.slug, a.name, a.n, a.slug == filters.audience) for a in audiences
        ],
        "language": [
            FacetValue(
                r["language"],
                languages.get(r["language"], r["language"]),
                r["n"],
                r["language"] == filters.language,
            )
            for r in by_language.order_by("-n")
        ],
        "site": [FacetValue(s.slug, s.name, s.n, s.slug == filters.site) for s in sites],
    }


def search(filters: Filters, page_number: int | str = 1) -> Results:
    queryset = matching(filters).distinct()
    ranked = connection.vendor == "postgresql" and words(filters.q)
    ordered = (
        queryset.order_by("-rank", "title", "pk") if ranked else queryset.order_by("title", "pk")
    )
    ids = matching(filters).values("pk")
    total = Resource.objects.filter(pk__in=ids).count()
    paginator = Paginator(
        ordered.prefetch_related("purposes"), PAGE_SIZE, allow_empty_first_page=True
    )
    paginator.count = total  # counted once, without the ranking
    page = paginator.get_page(page_number)
    suggestion = suggest(filters.q) if filters.q and total < 3 else None
    return Results(page=page, total=total, facets=_facets(filters), suggestion=suggestion)


def refresh_terms(resources=None) -> None:
    """Add the folded words of these resources' titles and keywords to the suggestion lexicon."""
    counts: dict[str, int] = {}
    queryset = Resource.objects.filter(withdrawn=False) if resources is None else resources
    for title, keywords in queryset.values_list("title", "keywords").iterator(chunk_size=2000):
        for word in words(f"{title} {keywords}"):
            if 4 <= len(word) <= 60 and not word.isdigit():
                counts[word] = counts.get(word, 0) + 1
    existing = set(SearchTerm.objects.filter(term__in=counts).values_list("term", flat=True))
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=t, frequency=n) for t, n in counts.items() if t not in existing],
        ignore_conflicts=True,
        batch_size=2000,
    )
