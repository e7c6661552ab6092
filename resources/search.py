"""Catalogue search: it understands a question. Accents, case, stop words ("un", "de", "the"),
plurals and feminine forms do not matter; every word must match, and when no record has them all
the search retries with the words that do match, and says so; results come by relevance (how many
words match, then where: title, keywords, authors, summary), then by title; facets count the
whole result set; typos get a "did you mean …?".

Both databases read the same words (`text.query_terms`: stop words dropped, each word reduced to
the prefix its forms share) and weigh them the same way, each word by the best field it is in:
title 10, keywords 4, authors 2 (and the publisher on PostgreSQL), summary 1.
PostgreSQL: the stored, weighted `search_vector` (GIN index; `french_unaccent`: unaccented French
stems), each word a prefix query (`infirmier:*`) and its weight the best label it matches
(`infirmier:*A` is the title); one statement matches once and returns the total, the page and
every facet count, so no row per match travels to Python; suggestions by trigram similarity.
SQLite (the embedded default): each word must start a word of the `folded` text (GLOB), the
weights are read from the folded title, keywords and authors, and Python ranks; suggestions with
difflib.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, IntegerField, QuerySet, Value
from django.db.models.expressions import RawSQL

from citedesmetiers.models import Site

from .models import Audience, Holding, Purpose, Resource, SearchTerm
from .text import (
    MAX_TERMS,
    QUESTION_WORDS,
    STOP_WORDS,
    Term,
    folded_words,
    query_terms,
    typed_words,
    words,
)

PAGE_SIZE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; no control char is useful
MAX_QUERY = 200
# Each word counts by the best field it is found in: PostgreSQL's weight labels A to D. Whole
# numbers, so that sums compare exactly, and alike, on both databases.
WEIGHTS = (("A", 10), ("B", 4), ("C", 2), ("", 1))
_NOT_CORRECTED = STOP_WORDS | QUESTION_WORDS
_TSQUERY = "to_tsquery('french_unaccent', %s)"
# In a row's score, each query is a scalar subquery: PostgreSQL parses it once per statement (an
# InitPlan), not once per matching record.
_TSQUERY_ONCE = f"(SELECT {_TSQUERY})"
_WORD_SCORE = (
    "CASE "
    + " ".join(f"WHEN search_vector @@ {_TSQUERY_ONCE} THEN {weight}" for _label, weight in WEIGHTS)
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
    # The query had more words than a search looks for: only the first MAX_TERMS were.
    capped: bool = False


# A match: (pk, kind, language, title, how many of the words it has, their weights' sum).
Hit = tuple[int, str, str, str, int, int]


def _order(hit: Hit) -> tuple:
    return (-hit[4], -hit[5], hit[3].casefold(), hit[0])


def _prefix(term: Term, label: str = "") -> str:
    # A term is [a-z0-9]+ (folded): nothing in it is tsquery syntax.
    return f"{term.stem}:*{label}"


def _text_match(queryset: QuerySet, terms: list[Term], *, every: bool = True) -> QuerySet:
    """The records with every term (or, not `every`, with at least one), each term starting a
    word. On PostgreSQL, annotated with `rank`: the sum of the terms' weights."""
    if not terms:
        if connection.vendor == "postgresql":
            return queryset.annotate(rank=Value(0, output_field=IntegerField()))
        return queryset
    if connection.vendor == "postgresql":
        joined = (" & " if every else " | ").join(_prefix(term) for term in terms)
        # extra(select=…), not annotate(): its values reach Python without a converter per row.
        return queryset.extra(
            select={"rank": " + ".join(f"({_WORD_SCORE})" for _term in terms)},
            select_params=[_prefix(term, label) for term in terms for label, _weight in WEIGHTS],
            where=[f"search_vector @@ {_TSQUERY}"],
            params=[joined],
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
    """SQLite: the matching records, once each (a join on purposes, audiences or sites may
    repeat one), with how many of the terms they have and the sum of the terms' weights."""
    rows = _text_match(queryset, terms, every=every).values_list(
        "pk", "kind", "language", "title", "keywords", "authors", "folded"
    )
    seen: set[int] = set()
    hits: list[Hit] = []
    for pk, kind, language, title, keywords, authors, folded in rows:
        if pk not in seen:
            seen.add(pk)
            weights = _weights(terms, title, keywords, authors, folded)
            hits.append((pk, kind, language, title, sum(1 for w in weights if w), sum(weights)))
    return hits


def _weights(terms: list[Term], title: str, keywords: str, authors: str, folded: str) -> list[int]:
    """SQLite: each term's weight, from the best field a word of which it starts."""
    fields = (words(title), words(keywords), words(authors), folded_words(folded))
    return [
        next(
            (
                weight
                for (_label, weight), field_words in zip(WEIGHTS, fields, strict=True)
                if _starts_a_word(term, field_words)
            ),
            0,
        )
        for term in terms
    ]


def suggest(q: str, *, found: frozenset[str] = frozenset()) -> str | None:
    """The query as typed (its apostrophes, its accents) with each unknown word replaced by the
    closest known word, if that changes it. Words that found records (`found`, folded), stop
    words and short words stay as they are."""
    typed = typed_words(q)
    if not typed:
        return None
    folded = [word for _token, word in typed]
    known = set(SearchTerm.objects.filter(term__in=folded).values_list("term", flat=True))
    changed, out = False, " ".join(q.split()).lower()
    unknown = [
        (token, word)
        for token, word in typed
        if not (word in known or word in found or word in _NOT_CORRECTED or len(word) < 4)
    ]
    for token, word in unknown[:MAX_TERMS]:  # a lookup each: as many as a search looks for
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
            out = re.sub(rf"(?<![^\W_]){re.escape(token)}(?![^\W_])", best, out, count=1)
    return out if changed else None


def _links() -> dict[str, tuple]:
    """The facet groups counted through a link table: model, lookup to resources, table, column."""
    return {
        "purpose": (Purpose, "resources", Resource.purposes.through._meta.db_table, "purpose_id"),
        "audience": (
            Audience,
            "resources",
            Resource.audiences.through._meta.db_table,
            "audience_id",
        ),
        "site": (Site, "holdings__resource", Holding._meta.db_table, "site_id"),
    }


FACETS = ("kind", "language", "purpose", "audience", "site")


@dataclass
class _Matches:
    """What one match gives: the total, the ids of the page asked for (in order), and for each
    facet group whose filter is not set, its counts over all the matches (value → records)."""

    total: int
    page_ids: list[int]
    counts: dict[str, dict]


def _in_hand(filters: Filters) -> list[str]:
    return [name for name in FACETS if not getattr(filters, name)]


def _match_postgresql(
    filters: Filters, scope: QuerySet, terms: list[Term], every: bool, offset: int
) -> _Matches:
    """One statement: the matches (stored vector, GIN index) once, then their number, one
    page of them in order and the counts of every facet group in hand — nothing per match
    travels to Python."""
    if terms and every:
        queryset = _text_match(scope, terms).annotate(
            n=Value(len(terms), output_field=IntegerField())
        )
    elif terms:
        present = " + ".join(f"(search_vector @@ {_TSQUERY_ONCE})::int" for _term in terms)
        queryset = _text_match(scope, terms, every=False).extra(
            select={"n": present}, select_params=[_prefix(term) for term in terms]
        )
    else:
        queryset = scope.annotate(
            rank=Value(0, output_field=IntegerField()), n=Value(0, output_field=IntegerField())
        )
    sql, params = queryset.values(
        "pk", "kind", "language", "title", "rank", "n"
    ).query.sql_with_params()
    links = _links()
    parts = [
        "SELECT 0, id, NULL::text, (row_number() OVER ())::bigint FROM (SELECT id FROM hits "
        "ORDER BY n DESC, rank DESC, title, id LIMIT %s OFFSET %s) page",
        "SELECT 1, NULL, NULL, COUNT(*) FROM hits",
    ]
    in_hand = _in_hand(filters)
    for n, name in enumerate(in_hand, start=2):
        if name in ("kind", "language"):
            parts.append(f"SELECT {n}, NULL, {name}::text, COUNT(*) FROM hits GROUP BY {name}")
        else:
            # A link table has one row per resource and value.
            _model, _through, table, column = links[name]
            parts.append(
                f"SELECT {n}, {column}::bigint, NULL, COUNT(*) FROM {table} "
                f"JOIN hits ON resource_id = hits.id GROUP BY {column}"
            )
    # A join on purposes, audiences or sites may repeat a resource.
    distinct = "DISTINCT" if filters.purpose or filters.audience or filters.site else ""
    statement = (
        f"WITH hits AS MATERIALIZED (SELECT {distinct} pk AS id, kind, language, title, rank, n "
        f"FROM ({sql}) matched) " + " UNION ALL ".join(f"({part})" for part in parts)
    )
    counts: dict[str, dict] = {name: {} for name in in_hand}
    page: list[tuple[int, int]] = []
    total = 0
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, PAGE_SIZE, offset])
        for part, number, text, count in cursor.fetchall():
            if part == 0:
                page.append((count, number))
            elif part == 1:
                total = count
            else:
                counts[in_hand[part - 2]][number if text is None else text] = count
    return _Matches(total, [pk for _position, pk in sorted(page)], counts)


def _match_sqlite(filters: Filters, hits: list[Hit], scope: QuerySet) -> _Matches:
    """SQLite: the matches are in hand, ranked; the link groups count over the same match."""
    counts: dict[str, dict] = {}
    for name in _in_hand(filters):
        if name in ("kind", "language"):
            counts[name] = Counter(hit[1 if name == "kind" else 2] for hit in hits)
        else:
            model, through, _table, _column = _links()[name]
            counts[name] = dict(
                model.objects.filter(**{f"{through}__in": scope.values("pk")})
                .annotate(n=Count(through, distinct=True))
                .values_list("pk", "n")
            )
    return _Matches(len(hits), [hit[0] for hit in hits], counts)


def _facets(
    filters: Filters, matches: _Matches, terms: list[Term], *, every: bool
) -> dict[str, list[FacetValue]]:
    """Each group is counted over the results of every *other* filter, so a facet's number is
    exactly what clicking it gives (a resource can have several purposes, audiences, sites).
    Groups whose own filter is not set were counted with the matches; the others are counted
    here, with the words the results are for (`terms`, all of them or, not `every`, any)."""
    links = _links()

    def counts(name: str) -> dict:
        if name in matches.counts:
            return matches.counts[name]
        others = _filtered(dataclasses.replace(filters, **{name: ""}))
        scope = _text_match(others, terms, every=every).values("pk")
        if name in ("kind", "language"):
            return dict(
                Resource.objects.filter(pk__in=scope)
                .values_list(name)
                .annotate(n=Count("pk"))
                .values_list(name, "n")
            )
        model, through, _table, _column = links[name]
        return dict(
            model.objects.filter(**{f"{through}__in": scope})
            .annotate(n=Count(through, distinct=True))
            .values_list("pk", "n")
        )

    def related(name: str) -> list:
        found = counts(name)
        objects = list(links[name][0].objects.filter(pk__in=found))
        for obj in objects:
            obj.n = found[obj.pk]
        return objects

    def by_value(name: str, labels: dict) -> list[FacetValue]:
        ordered = Counter(counts(name)).most_common()
        return [
            FacetValue(value, labels.get(value, value), n, value == getattr(filters, name))
            for value, n in ordered
        ]

    purposes, audiences = related("purpose"), related("audience")
    sites = [site for site in related("site") if site.active]
    return {
        "kind": by_value("kind", dict(Resource.Kind.choices)),
        "purpose": [FacetValue(p.slug, p.name, p.n, p.slug == filters.purpose) for p in purposes],
        "audience": [
            FacetValue(a.slug, a.name, a.n, a.slug == filters.audience) for a in audiences
        ],
        "language": by_value("language", dict(Resource.Language.choices)),
        "site": [FacetValue(s.slug, s.name, s.n, s.slug == filters.site) for s in sites],
    }


def _words_searched(scope: QuerySet, terms: list[Term]) -> tuple[list[Term], bool]:
    """The words the results are for, and whether the records must have all of them: every
    word if a record has them all; else the words found somewhere (an index lookup each), all
    of them if a record has them all, else the records with the most of them."""
    if len(terms) < 2 or _text_match(scope, terms).exists():
        return terms, True
    present = [term for term in terms if _text_match(scope, [term]).exists()]
    if not present:
        return terms, True
    if len(present) < len(terms) and _text_match(scope, present).exists():
        return present, True
    return present, False


# No catalogue has this many pages; a larger number is the last page all the same, and it keeps
# the offset inside PostgreSQL's bigint.
MAX_PAGE = 100_000


def _page_number(page_number: int | str) -> int:
    """As Paginator.get_page reads it: not a number is the first page (and a number out of range
    the last one, which only the total tells)."""
    try:
        return min(int(page_number), MAX_PAGE)
    except (TypeError, ValueError, OverflowError):
        return 1


def search(filters: Filters, page_number: int | str = 1) -> Results:
    """Match once, then count, rank, page and count facets from that: the full-text match is
    the expensive part, and it runs one time (after an index lookup per word when no record has
    every word). PostgreSQL does it all in one statement; SQLite ranks in Python."""
    terms = query_terms(filters.q)
    scope = _filtered(filters)
    used, every = _words_searched(scope, terms)
    unmatched = [term for term in terms if term not in used]
    number = _page_number(page_number)
    if connection.vendor == "postgresql":
        offset = (max(number, 1) - 1) * PAGE_SIZE
        matches = _match_postgresql(filters, scope, used, every, offset)
        page = Paginator(range(matches.total), PAGE_SIZE).get_page(number)
        if matches.total and page.number != max(number, 1):  # out of range: the last page
            matches.page_ids = _match_postgresql(
                filters, scope, used, every, (page.number - 1) * PAGE_SIZE
            ).page_ids
        ids = matches.page_ids
    else:
        if used:
            hits = _hits(scope, used, every=every)
        else:
            seen: set[int] = set()
            hits = []
            for pk, kind, language, title in scope.values_list("pk", "kind", "language", "title"):
                if pk not in seen:  # a join on purposes/audiences/sites may repeat a resource
                    seen.add(pk)
                    hits.append((pk, kind, language, title, 0, 0))
        hits.sort(key=_order)
        matches = _match_sqlite(filters, hits, _text_match(scope, used, every=every))
        page = Paginator(matches.page_ids, PAGE_SIZE).get_page(number)
        ids = list(page.object_list)
    total = matches.total
    found_resources = Resource.objects.prefetch_related("purposes").in_bulk(ids)
    page.object_list = [found_resources[pk] for pk in ids if pk in found_resources]
    narrowed = used is not terms
    suggestion = (
        suggest(filters.q, found=frozenset(term.word for term in used if total))
        if filters.q and (total < 3 or narrowed)
        else None
    )
    facets = _facets(filters, matches, used, every=every) if total or filters.active else {}
    return Results(
        page=page,
        total=total,
        facets=facets,
        suggestion=suggestion,
        searched=[term.text for term in used] if narrowed else [],
        unmatched=[term.text for term in unmatched],
        partial=not every,
        capped=len(query_terms(filters.q, limit=MAX_TERMS + 1)) > MAX_TERMS,
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
