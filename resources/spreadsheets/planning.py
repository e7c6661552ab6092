"""Planning an import: what each row of a spreadsheet would do to the catalogue (create, update,
or nothing because of its errors), without writing anything. The dry run the officer checks, and
the plan the import then writes.

Each row updates the record with the same ISBN, else the same ISSN, else — for rows and records
without ISBN/ISSN — the same title; otherwise it creates a record."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from citedesmetiers.models import Site

from ..identifiers import normalize_isbn, normalize_issn
from ..models import Audience, Holding, Purpose, Resource
from ..text import fold
from .columns import HEADERS, KIND_ALIASES, KIND_WORDS, LANGUAGE_NAMES, LIST_SEPARATOR, cell
from .reading import Table, read_table

_CHUNK = 500
# The dry run keeps, of each kind of row (and of all), the first this many to show.
SHOWN_ROWS = 500
# How often planning says how far it got (to keep a worker's job alive).
PROGRESS_EVERY = 2_000

NEW, UPDATE, ERROR = "new", "update", "error"


@dataclass
class RowPlan:
    number: int
    title: str = ""
    status: str = NEW
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    resource_id: int | None = None
    withdrawn: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    isbn: str | None = None
    issn: str | None = None
    purposes: list[int] | None = None
    audiences: list[int] | None = None
    # None: leave this site's holding alone; else the wanted shelf_mark (None = keep) and copies.
    holding: dict[str, Any] | None = None

    def error(self, column: str, message: str) -> None:
        self.errors.append(
            _("%(column)s: %(message)s")
            % {"column": HEADERS.get(column, column), "message": message}
        )


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    ignored_columns: list[str]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def error_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.status == ERROR]

    @property
    def error_count(self) -> int:
        return len(self.error_rows)

    @property
    def new_count(self) -> int:
        return sum(row.status == NEW for row in self.rows)

    @property
    def update_count(self) -> int:
        return sum(row.status == UPDATE for row in self.rows)

    @property
    def unchanged_count(self) -> int:
        return sum(row.status == UPDATE and not row.changes for row in self.rows)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.error_rows

    def summary(self, shown: int = SHOWN_ROWS) -> dict[str, Any]:
        """The dry run as it is kept between the check and the import: the counts, and the
        first `shown` rows of each kind and of all (what the preview lists)."""
        keep: set[int] = {row.number for row in self.rows[:shown]}
        for status in (NEW, UPDATE, ERROR):
            keep.update([row.number for row in self.rows if row.status == status][:shown])
        return {
            "rows": self.row_count,
            "new": self.new_count,
            "update": self.update_count,
            "unchanged": self.unchanged_count,
            "errors": self.error_count,
            "ignored": self.ignored_columns,
            "shown": [
                {name: value for name, value in asdict(row).items() if name in _SHOWN_FIELDS}
                for row in self.rows
                if row.number in keep
            ],
        }


_SHOWN_FIELDS = ("number", "title", "status", "errors", "changes", "resource_id", "withdrawn")


@dataclass
class PlanSummary:
    """A dry run read back from where it was kept: what the preview page shows."""

    row_count: int
    new_count: int
    update_count: int
    unchanged_count: int
    error_count: int
    ignored_columns: list[str]
    rows: list[RowPlan]

    @classmethod
    def of(cls, summary: dict[str, Any]) -> PlanSummary:
        return cls(
            row_count=summary.get("rows", 0),
            new_count=summary.get("new", 0),
            update_count=summary.get("update", 0),
            unchanged_count=summary.get("unchanged", 0),
            error_count=summary.get("errors", 0),
            ignored_columns=summary.get("ignored", []),
            rows=[RowPlan(**row) for row in summary.get("shown", [])],
        )

    @property
    def ok(self) -> bool:
        return bool(self.row_count) and not self.error_count

    def count(self, status: str) -> int:
        return {NEW: self.new_count, UPDATE: self.update_count, ERROR: self.error_count}.get(
            status, self.row_count
        )


class _Vocabulary:
    def __init__(self) -> None:
        self.kinds = {fold(code): code for code in Resource.Kind.values}
        self.kinds |= {fold(word): code for code, word in KIND_WORDS.items()}
        self.kinds |= {fold(str(label)): code for code, label in Resource.Kind.choices}
        self.kinds |= {fold(alias): code for alias, code in KIND_ALIASES.items()}
        self.languages = {fold(code): code for code in Resource.Language.values}
        self.languages |= {fold(str(label)): code for code, label in Resource.Language.choices}
        self.languages |= {name: code for code, names in LANGUAGE_NAMES.items() for name in names}
        self.purposes = self._named(Purpose.objects.all())
        self.audiences = self._named(Audience.objects.all())

    @staticmethod
    def _named(queryset) -> dict[str, Any]:
        out = {}
        for item in queryset:
            out[fold(item.slug)] = item
            out[fold(item.slug.replace("-", " "))] = item
            out[fold(item.name)] = item
        return out


def _max_length(name: str) -> int:
    return Resource._meta.get_field(name).max_length


_TEXT_FIELDS = ("authors", "publisher", "summary", "keywords", "opinion")
_url_field = forms.URLField(assume_scheme="https", max_length=_max_length("url"))


def _parse_row(number: int, cells: list, table: Table, vocabulary: _Vocabulary, *, holdings: bool):
    row = RowPlan(number=number)

    def get(key: str) -> str | None:
        index = table.columns.get(key)
        if index is None:
            return None
        return cell(cells[index]) if index < len(cells) else ""

    title = get("title")
    row.title = title
    if not title:
        row.error("title", _("empty; every row needs a title."))
    elif len(title) > _max_length("title"):
        row.error("title", _("longer than %(max)s characters.") % {"max": _max_length("title")})
    row.values["title"] = title

    kind = get("kind")
    if not kind:
        row.error("kind", _("empty; say what it is (%(kinds)s).") % {"kinds": _kind_list()})
    elif fold(kind) not in vocabulary.kinds:
        row.error(
            "kind",
            _("“%(value)s” is unknown; use %(kinds)s.") % {"value": kind, "kinds": _kind_list()},
        )
    else:
        row.values["kind"] = vocabulary.kinds[fold(kind)]

    purposes = get("purposes")
    row.purposes = _items(row, "purposes", purposes, vocabulary.purposes)
    if not purposes or not purposes.replace(LIST_SEPARATOR, "").strip():
        row.error("purposes", _("empty; give at least one purpose."))
    if "audiences" in table.columns:
        row.audiences = _items(row, "audiences", get("audiences"), vocabulary.audiences)

    for name in _TEXT_FIELDS:
        value = get(name)
        if value is None:
            continue
        limit = _max_length(name)
        if limit and len(value) > limit:
            row.error(name, _("longer than %(max)s characters.") % {"max": limit})
        row.values[name] = value

    year = get("year")
    if year is not None:
        row.values["year"] = None
        if year:
            if re.fullmatch(r"\d{4}", year) and 1000 <= int(year) <= 2100:
                row.values["year"] = int(year)
            else:
                row.error("year", _("“%(value)s” is not a year.") % {"value": year})

    language = get("language")
    if language is not None:
        row.values["language"] = Resource.Language.FR
        if language:
            if fold(language) in vocabulary.languages:
                row.values["language"] = vocabulary.languages[fold(language)]
            else:
                row.error(
                    "language",
                    _("“%(value)s” is unknown; use %(codes)s.")
                    % {"value": language, "codes": ", ".join(Resource.Language.values)},
                )

    for name, normalize in (("isbn", normalize_isbn), ("issn", normalize_issn)):
        value = get(name)
        if value:
            try:
                setattr(row, name, normalize(value))
            except ValidationError as error:
                row.error(name, " ".join(error.messages))

    price = get("price")
    if price is not None:
        row.values["price"] = None
        if price:
            try:
                row.values["price"] = parse_price(price)
            except ValueError:
                row.error("price", _("“%(value)s” is not a price in euros.") % {"value": price})

    url = get("url")
    if url is not None:
        try:
            row.values["url"] = _url_field.clean(url) if url else ""
        except ValidationError as error:
            row.error(
                "url", _("“%(value)s”: %(error)s") % {"value": url, "error": error.messages[0]}
            )

    if holdings:
        _parse_holding(row, get("shelf_mark"), get("copies"))
    return row


def _parse_holding(row: RowPlan, shelf_mark: str | None, copies: str | None) -> None:
    if not shelf_mark and not copies:
        return  # absent or empty: this site's holding is left alone
    holding: dict[str, Any] = {"shelf_mark": shelf_mark, "copies": None}
    limit = Holding._meta.get_field("shelf_mark").max_length
    if shelf_mark and len(shelf_mark) > limit:
        row.error("shelf_mark", _("longer than %(max)s characters.") % {"max": limit})
    if copies:
        if re.fullmatch(r"\d{1,4}", copies):
            holding["copies"] = int(copies)
        else:
            row.error("copies", _("“%(value)s” is not a number of copies.") % {"value": copies})
    row.holding = holding


def parse_price(text: str) -> Decimal:
    """A price in euros as people write it: 12.50, 12,50, 12,50 €, 1 234,50. ValueError if not."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]|EUR|eur", "", text)
    if "," in cleaned and "." in cleaned:
        # The last separator is the decimal one: 1.234,50 or 1,234.50.
        decimal_sep = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal_sep == "," else ",", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise ValueError(text) from error
    if not value.is_finite() or value < 0 or value >= Decimal("1000000"):
        raise ValueError(text)
    return value


def _kind_list() -> str:
    return ", ".join(KIND_WORDS.values())


def _items(row: RowPlan, column: str, text: str | None, known: dict[str, Any]) -> list[int] | None:
    if text is None:
        return None
    found: list[int] = []
    for name in (part.strip() for part in text.split(LIST_SEPARATOR)):
        if not name:
            continue
        item = known.get(fold(name))
        if item is None:
            choices = sorted({item.name for item in known.values()})
            row.error(
                column,
                _("“%(value)s” is unknown; use %(choices)s (separated by “;”).")
                % {"value": name, "choices": ", ".join(choices)},
            )
        elif item.pk not in found:
            found.append(item.pk)
    return found


def _chunks(values: Iterable, size: int = _CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lookup(rows: list[RowPlan]) -> dict[str, dict]:
    """The existing records the rows may be about, in a few queries."""
    isbns = {row.isbn for row in rows if row.isbn}
    issns = {row.issn for row in rows if row.issn}
    titles = {row.title for row in rows if row.title}
    by_isbn, by_issn, by_title = {}, {}, {}
    for chunk in _chunks(isbns):
        by_isbn |= dict(Resource.objects.filter(isbn__in=chunk).values_list("isbn", "pk"))
    for chunk in _chunks(issns):
        by_issn |= dict(Resource.objects.filter(issn__in=chunk).values_list("issn", "pk"))
    for chunk in _chunks(titles):
        for pk, title, isbn, issn in Resource.objects.filter(title__in=chunk).values_list(
            "pk", "title", "isbn", "issn"
        ):
            by_title.setdefault(title, []).append((pk, isbn, issn))
    return {"isbn": by_isbn, "issn": by_issn, "title": by_title}


def _match(row: RowPlan, known: dict[str, dict]) -> int | None:
    by_isbn = known["isbn"].get(row.isbn) if row.isbn else None
    by_issn = known["issn"].get(row.issn) if row.issn else None
    if by_isbn and by_issn and by_isbn != by_issn:
        row.error(
            "issn",
            _("this ISSN belongs to another record than the ISBN; check both."),
        )
        return None
    if by_isbn or by_issn:
        return by_isbn or by_issn
    # No record has this ISBN/ISSN: the same title, on a record whose identifiers do not say it
    # is another edition.
    candidates = [
        pk
        for pk, isbn, issn in known["title"].get(row.title, [])
        if not (row.isbn and isbn) and not (row.issn and issn)
    ]
    if len(candidates) > 1:
        row.error(
            "title",
            _("%(n)s records have this title; add the ISBN or ISSN to say which one.")
            % {"n": len(candidates)},
        )
        return None
    return candidates[0] if candidates else None


def _check_duplicates(rows: list[RowPlan]) -> None:
    """Two rows about the same item: the same ISBN, ISSN, or title without ISBN/ISSN."""
    seen_isbn: dict[str, int] = {}
    seen_issn: dict[str, int] = {}
    seen_title: dict[str, int] = {}
    seen_bare_title: dict[str, int] = {}
    for row in rows:
        title = fold(row.title)
        bare = not row.isbn and not row.issn
        if row.isbn and row.isbn in seen_isbn:
            row.error("isbn", _("same ISBN as row %(row)s.") % {"row": seen_isbn[row.isbn]})
        elif row.issn and row.issn in seen_issn:
            row.error("issn", _("same ISSN as row %(row)s.") % {"row": seen_issn[row.issn]})
        elif title and bare and title in seen_title:
            row.error(
                "title",
                _(
                    "same title as row %(row)s. If they are different items, give each its "
                    "ISBN or ISSN."
                )
                % {"row": seen_title[title]},
            )
        elif title and not bare and title in seen_bare_title:
            row.error(
                "title",
                _("same title as row %(row)s, which has no ISBN or ISSN.")
                % {"row": seen_bare_title[title]},
            )
        if row.isbn:
            seen_isbn.setdefault(row.isbn, row.number)
        if row.issn:
            seen_issn.setdefault(row.issn, row.number)
        if title:
            seen_title.setdefault(title, row.number)
            if bare:
                seen_bare_title.setdefault(title, row.number)


def _changes(row: RowPlan, resource: Resource) -> list[str]:
    changed = []
    wanted = dict(row.values)
    if row.isbn:
        wanted["isbn"] = row.isbn
    if row.issn:
        wanted["issn"] = row.issn
    for name, value in wanted.items():
        current = getattr(resource, name)
        if isinstance(current, str):
            current = current.replace("\r\n", "\n").strip()
        if current != value:
            changed.append(str(Resource._meta.get_field(name).verbose_name))
    if row.purposes is not None and set(row.purposes) != {p.pk for p in resource.purposes.all()}:
        changed.append(str(Resource._meta.get_field("purposes").verbose_name))
    if row.audiences is not None and set(row.audiences) != {a.pk for a in resource.audiences.all()}:
        changed.append(str(Resource._meta.get_field("audiences").verbose_name))
    if row.holding is not None:
        held = resource.site_holdings[0] if resource.site_holdings else None
        copies = row.holding["copies"]
        if held is None:
            if copies != 0:
                changed.append(_("held at this site"))
        elif copies == 0:
            changed.append(_("no longer held at this site"))
        elif (
            row.holding["shelf_mark"] is not None and row.holding["shelf_mark"] != held.shelf_mark
        ) or (copies is not None and copies != held.copies):
            changed.append(_("shelf mark or copies"))
    return changed


def plan_import(
    data: bytes,
    fmt: str | None = None,
    *,
    site: Site,
    holdings: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> ImportPlan:
    """What importing this file would do, row by row, without writing anything.

    `holdings`: set this site's shelf marks and copies from the cote/exemplaires columns (turn it
    off for a file that describes another centre's shelves). `on_progress(rows)` is called every
    PROGRESS_EVERY rows read."""
    table = read_table(data, fmt)
    vocabulary = _Vocabulary()
    rows = []
    for number, cells in table.rows:
        rows.append(_parse_row(number, cells, table, vocabulary, holdings=holdings))
        if on_progress is not None and len(rows) % PROGRESS_EVERY == 0:
            on_progress(len(rows))
    _check_duplicates(rows)
    known = _lookup(rows)
    targets: dict[int, int] = {}
    for row in rows:
        row.resource_id = _match(row, known)
        if row.resource_id is not None:
            if row.resource_id in targets:
                row.error(
                    "title",
                    _("this row and row %(row)s are about the same record.")
                    % {"row": targets[row.resource_id]},
                )
            targets.setdefault(row.resource_id, row.number)
    existing = {}
    for chunk in _chunks(targets):
        existing |= Resource.objects.prefetch_related(
            "purposes",
            "audiences",
            Prefetch(
                "holdings", queryset=Holding.objects.filter(site=site), to_attr="site_holdings"
            ),
        ).in_bulk(chunk)
    for row in rows:
        if row.errors:
            row.status = ERROR
        elif row.resource_id is not None:
            resource = existing[row.resource_id]
            row.status = UPDATE
            row.withdrawn = resource.withdrawn
            row.changes = _changes(row, resource)
        else:
            row.status = NEW
    return ImportPlan(rows=rows, ignored_columns=table.ignored)
