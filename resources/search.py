"""Catalogue search: French-aware, accent-insensitive, ranked, with facets over the whole result
set and typo suggestions.

PostgreSQL: `websearch_to_tsquery('french_unaccent', q)` against the stored, weighted
`search_vector` (GIN index), ranked with `ts_rank` (weights: title A, keywords B, authors C,
summary D); suggestions by trigram similarity.
SQLite (the embedded default): every folded query word (a trailing plural s/x dropped) must
appear in the folded text; suggestions with difflib. Accents and plurals behave the same; the
ranking is plain alphabetical.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

from .models import Audience, Holding, Purpose, Resource, SearchTerm
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
            rank=RawSQL("ts_rank(search_vector, websearch_to_tsquery('french_unaccent', %s))", (q,))
        )
    for word in words(q):
        queryset = queryset.filter(folded__contains=_stem(word))
    return queryset


def matching(filters: Filters, *, include_withdrawn: bool = False) -> QuerySet:
    """Resources matching the filters; withdrawn ones only for the information officers' list."""
    queryset = (
        Resource.objects.all() if include_withdrawn else Resource.objects.filter(withdrawn=False)
    )
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


def _facets(filters: Filters, hits: list[tuple]) -> dict[str, list[FacetValue]]:
    """Each group is counted over the results of every *other* filter, so a facet's number is
    exactly what clicking it gives (a resource can have several purposes, audiences, sites).
    Groups whose own filter is not set are counted over the matches already in hand."""
    from citedesmetiers.models import Site

    matched = [hit[0] for hit in hits]

    def scope(name: str):
        if getattr(filters, name):
            return {"pk__in": matching(dataclasses.replace(filters, **{name: ""})).values("pk")}
        return {"pk__in": matched}

    def by_field(name: str) -> Counter:
        if getattr(filters, name):
            return Counter(
                dict(
                    Resource.objects.filter(**scope(name))
                    .values_list(name)
                    .annotate(n=Count("pk"))
                    .values_list(name, "n")
                )
            )
        index = 1 if name == "kind" else 2
        return Counter(hit[index] for hit in hits)

    def related(model, through: str, name: str, table: str, column: str):
        ids = scope(name)["pk__in"]
        if isinstance(ids, list) and connection.vendor == "postgresql":
            # Count in the link table with one array parameter (not thousands of IN (...)).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {column}, COUNT(DISTINCT resource_id) FROM {table} "
                    f"WHERE resource_id = ANY(%s) GROUP BY {column}",
                    [ids],
                )
                counts = dict(cursor.fetchall())
            objects = list(model.objects.filter(pk__in=counts))
            for obj in objects:
                obj.n = counts[obj.pk]
            return objects
        return model.objects.filter(**{f"{through}__in": ids}).annotate(
            n=Count(through, distinct=True)
        )

    kinds = dict(Resource.Kind.choices)
    languages = dict(Resource.Language.choices)
    purposes = related(
        Purpose, "resources", "purpose", Resource.purposes.through._meta.db_table, "purpose_id"
    )
    audiences = related(
        Audience,
        "resources",
        "audience",
        Resource.audiences.through._meta.db_table,
        "audience_id",
    )
    sites = [
        site
        for site in related(Site, "holdings__resource", "site", Holding._meta.db_table, "site_id")
        if site.active
    ]
    return {
        "kind": [
            FacetValue(value, kinds.get(value, value), n, value == filters.kind)
            for value, n in by_field("kind").most_common()
        ],
        "purpose": [FacetValue(p.slug, p.name, p.n, p.slug == filters.purpose) for p in purposes],
        "audience": [
            FacetValue(a.slug, a.name, a.n, a.slug == filters.audience) for a in audiences
        ],
        "language": [
            FacetValue(value, languages.get(value, value), n, value == filters.language)
            for value, n in by_field("language").most_common()
        ],
        "site": [FacetValue(s.slug, s.name, s.n, s.slug == filters.site) for s in sites],
    }


def search(filters: Filters, page_number: int | str = 1) -> Results:
    """Match once (ids, kind, language, rank, title of every hit), then count, rank, page and
    count facets from that: the full-text match is the expensive part, and it runs one time."""
    ranked = bool(connection.vendor == "postgresql" and words(filters.q))
    # Ranked: order by rank, then id (no need to fetch every title); otherwise by title.
    columns = ["pk", "kind", "language", "rank" if ranked else "title"]
    seen: set[int] = set()
    hits = []
    for row in matching(filters).values_list(*columns):
        if row[0] not in seen:  # a join on purposes/audiences/sites may repeat a resource
            seen.add(row[0])
            hits.append(row)
    if ranked:
        hits.sort(key=lambda hit: (-hit[3], hit[0]))
    else:
        hits.sort(key=lambda hit: (hit[3], hit[0]))
    total = len(hits)
    page = Paginator([hit[0] for hit in hits], PAGE_SIZE, allow_empty_first_page=True).get_page(
        page_number
    )
    found = Resource.objects.prefetch_related("purposes").in_bulk(list(page.object_list))
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    suggestion = suggest(filters.q) if filters.q and total < 3 else None
    facets = _facets(filters, hits) if total or filters.active else {}
    return Results(page=page, total=total, facets=facets, suggestion=suggestion)


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
