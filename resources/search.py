"""Catalogue search: it understands a question. Accents, case, stop words ("un", "de", "the"),
plurals and feminine forms do not matter; every word must match, and when no record has them all
the search retries with the words that do match, and says so; results come by relevance (how many
words match, then where: title, keywords, authors, summary), then by title; facets count the
whole result set; typos get a "did you mean …?".

Both databases read the same words (`text.query_terms`: stop words dropped, each word reduced to
the prefix its forms share) and weigh them the same way, each word by the best field it is in:
title 1, keywords 0.4, authors 0.2 (and the publisher on PostgreSQL), summary 0.1.
PostgreSQL: the stored, weighted `search_vector` (GIN index; `french_unaccent`: unaccented French
stems), each word a prefix query (`infirmier:*`) and its weight the best label it matches
(`infirmier:*A` is the title); suggestions by trigram similarity.
SQLite (the embedded default): each word must start a word of the `folded` text (GLOB), the
weights are read from the folded title, keywords and authors; suggestions with difflib.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, FloatField, QuerySet, Value
from django.db.models.expressions import RawSQL

from .models import Audience, Holding, Purpose, Resource, SearchTerm
from .text import QUESTION_WORDS, STOP_WORDS, Term, folded_words, query_terms, typed_words, words

PAGE_SIZE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; no control char is useful
MAX_QUERY = 200
# Each word counts by the best field it is found in: PostgreSQL's weight labels A to D.
WEIGHTS = (("A", 1.0), ("B", 0.4), ("C", 0.2), ("", 0.1))
_NOT_CORRECTED = STOP_WORDS | QUESTION_WORDS
_TSQUERY = "to_tsquery('french_unaccent', %s)"
_WORD_SCORE = (
    "CASE "
    + " ".join(f"WHEN search_vector @@ {_TSQUERY} THEN {weight}" for _label, weight in WEIGHTS)
    + " ELSE 0 END"
)


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
    # When no record has every word: the words the results are for (as typed), the words that
    # found nothing, and whether the results have only some of the words searched (partial).
    searched: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    partial: bool = False


class Hit(NamedTuple):
    pk: int
    kind: str
    language: str
    title: str
    scores: tuple[float, ...]  # one per query word: the weight of the best field it is in

    @property
    def matched(self) -> int:
        return sum(1 for score in self.scores if score)

    def order(self) -> tuple:
        return (-self.matched, -round(sum(self.scores), 6), self.title.casefold(), self.pk)


def _prefix(term: Term, label: str = "") -> str:
    # A term is [a-z0-9]+ (folded): nothing in it is tsquery syntax.
    return f"{term.stem}:*{label}"


def _text_match(queryset: QuerySet, terms: list[Term], *, every: bool = True) -> QuerySet:
    """The records with every term (or, not `every`, with at least one), each term starting a
    word. On PostgreSQL, annotated with `rank`: the sum of the terms' weights."""
    if not terms:
        if connection.vendor == "postgresql":
            return queryset.annotate(rank=Value(0.0, output_field=FloatField()))
        return queryset
    if connection.vendor == "postgresql":
        joined = (" & " if every else " | ").join(_prefix(term) for term in terms)
        return queryset.extra(where=[f"search_vector @@ {_TSQUERY}"], params=[joined]).annotate(
            rank=RawSQL(
                " + ".join(f"({_WORD_SCORE})" for _term in terms),
                [_prefix(term, label) for term in terms for label, _weight in WEIGHTS],
                output_field=FloatField(),
            )
        )
    # A word starts the folded text or follows a character that is not part of a word.
    clauses = ["(folded GLOB %s OR folded GLOB %s)"] * len(terms)
    params = [p for term in terms for p in (f"{term.stem}*", f"*[^a-z0-9]{term.stem}*")]
    return queryset.extra(where=[(" AND " if every else " OR ").join(clauses)], params=params)


def _filtered(filters: Filters, *, include_withdrawn: bool = False) -> QuerySet:
    """Resources matching every filter but the words."""
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
    return queryset


def matching(filters: Filters, *, include_withdrawn: bool = False) -> QuerySet:
    """Resources matching the filters and every word; withdrawn ones only for the information
    officers' list. On PostgreSQL, annotated with `rank`."""
    return _text_match(
        _filtered(filters, include_withdrawn=include_withdrawn), query_terms(filters.q)
    )


def _starts_a_word(term: Term, folded: list[str]) -> bool:
    return any(word.startswith(term.stem) for word in folded)


def _hits(queryset: QuerySet, terms: list[Term], *, every: bool) -> list[Hit]:
    """The matching records, once each (a join on purposes, audiences or sites may repeat one),
    with the weight of each term."""
    matched = _text_match(queryset, terms, every=every)
    seen: set[int] = set()
    hits = []
    if connection.vendor == "postgresql":
        scores = {
            f"score_{i}": RawSQL(
                _WORD_SCORE,
                [_prefix(term, label) for label, _weight in WEIGHTS],
                output_field=FloatField(),
            )
            for i, term in enumerate(terms)
        }
        rows = matched.annotate(**scores).values_list("pk", "kind", "language", "title", *scores)
        for pk, kind, language, title, *weights in rows:
            if pk not in seen:
                seen.add(pk)
                hits.append(Hit(pk, kind, language, title, tuple(weights)))
        return hits
    rows = matched.values_list("pk", "kind", "language", "title", "keywords", "authors", "folded")
    for pk, kind, language, title, keywords, authors, folded in rows:
        if pk in seen:
            continue
        seen.add(pk)
        fields = (words(title), words(keywords), words(authors), folded_words(folded))
        weights = tuple(
            next(
                (
                    weight
                    for (_label, weight), field_words in zip(WEIGHTS, fields, strict=True)
                    if _starts_a_word(term, field_words)
                ),
                0.0,
            )
            for term in terms
        )
        hits.append(Hit(pk, kind, language, title, weights))
    return hits


def suggest(q: str, *, found: frozenset[str] = frozenset()) -> str | None:
    """The query with each unknown word replaced by the closest known word, if that changes it.
    Words that found records (`found`, folded), stop words and short words stay as typed."""
    typed = typed_words(q)
    if not typed:
        return None
    folded = [word for _token, word in typed]
    known = set(SearchTerm.objects.filter(term__in=folded).values_list("term", flat=True))
    changed, out = False, []
    for token, word in typed:
        if word in known or word in found or word in _NOT_CORRECTED or len(word) < 4:
            out.append(token)
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
            out.append(token)
    return " ".join(out) if changed else None


def _facets(
    filters: Filters, hits: list[Hit], terms: list[Term], *, every: bool
) -> dict[str, list[FacetValue]]:
    """Each group is counted over the results of every *other* filter, so a facet's number is
    exactly what clicking it gives (a resource can have several purposes, audiences, sites).
    Groups whose own filter is not set are counted over the matches already in hand; the others
    with the words the results are for (`terms`, all of them or, not `every`, any)."""
    from citedesmetiers.models import Site

    matched = [hit[0] for hit in hits]

    def scope(name: str):
        if getattr(filters, name):
            others = _filtered(dataclasses.replace(filters, **{name: ""}))
            return {"pk__in": _text_match(others, terms, every=every).values("pk")}
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
    """Match once (ids, kind, language, title and the weight of each word of every hit), then
    count, rank, page and count facets from that: the full-text match is the expensive part, and
    it runs one time — twice when no record has every word, to find those with some of them."""
    terms = query_terms(filters.q)
    scope = _filtered(filters)
    used, every, unmatched = terms, True, []
    if terms:
        hits = _hits(scope, terms, every=True)
        if not hits and len(terms) > 1:
            some = _hits(scope, terms, every=False)
            found = {i for hit in some for i, score in enumerate(hit.scores) if score}
            if found:
                used = [term for i, term in enumerate(terms) if i in found]
                unmatched = [term for i, term in enumerate(terms) if i not in found]
                hits = [hit for hit in some if hit.matched == len(used)]
                if not hits:  # each word is somewhere, never all together: the most words first
                    hits, every = some, False
    else:
        seen: set[int] = set()
        hits = []
        for pk, kind, language, title in scope.values_list("pk", "kind", "language", "title"):
            if pk not in seen:  # a join on purposes/audiences/sites may repeat a resource
                seen.add(pk)
                hits.append(Hit(pk, kind, language, title, ()))
    hits.sort(key=Hit.order)
    total = len(hits)
    page = Paginator([hit.pk for hit in hits], PAGE_SIZE, allow_empty_first_page=True).get_page(
        page_number
    )
    found_resources = Resource.objects.prefetch_related("purposes").in_bulk(list(page.object_list))
    page.object_list = [found_resources[pk] for pk in page.object_list if pk in found_resources]
    narrowed = used is not terms
    suggestion = (
        suggest(filters.q, found=frozenset(term.word for term in used if hits))
        if filters.q and (total < 3 or narrowed)
        else None
    )
    facets = _facets(filters, hits, used, every=every) if total or filters.active else {}
    return Results(
        page=page,
        total=total,
        facets=facets,
        suggestion=suggestion,
        searched=[term.text for term in used] if narrowed else [],
        unmatched=[term.text for term in unmatched],
        partial=not every,
    )


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
