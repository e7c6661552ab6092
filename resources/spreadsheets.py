"""The catalogue as a spreadsheet (CSV or XLSX, read and written with tablib): what information
officers share with the other centres of the network.

Columns — the first row names them. French headers, as in the network's shared database (seed 001,
“Sharing documentary resources”); English aliases are accepted, and case, accents, spaces and
hyphens do not matter (“Mots-clés” = “mots_cles” = “keywords”). Other columns are ignored.

    column        alias         field                   values
    titre*        title         title
    type*         kind          kind                    livre, périodique, brochure, site web,
                                                        vidéo, logiciel, autre (or book…)
    objectifs*    purposes      purposes                names or short codes, “;” between
    publics       audiences     audiences               names or short codes, “;” between
    auteurs       authors       authors
    editeur       publisher     publisher
    annee         year          year
    langue        language      language                fr, en, it, es, pt, de, autre (or the
                                                        language's name in French or English)
    isbn          —             ISBN                    10 or 13 digits, hyphens allowed
    issn          —             ISSN
    prix          price         price in euros          12.50 or 12,50
    url           web_address   web address
    resume        summary       summary
    mots_cles     keywords      keywords
    avis          opinion       the officer's opinion   staff only
    cote          shelf_mark    shelf mark              at the importing site
    exemplaires   copies        copies                  at the importing site (0 = not held)

    * required columns.

Import. Each row updates the record with the same ISBN, else the same ISSN, else — for rows and
records without ISBN/ISSN — the same title; otherwise it creates a record. So an ISBN is never
catalogued twice, and exporting then importing a file changes nothing. A column that is absent
leaves that field alone; an empty cell empties it, except isbn/issn (never cleared by an import)
and cote + exemplaires both empty (the holding is left alone). Themes belong to each site and are
not in the file. Row numbers count the header as row 1 (blank lines in a CSV are skipped).

Export. The same columns. Any text cell starting with =, +, -, @, a tab or a carriage return is
prefixed with ' so that a spreadsheet never runs it as a formula; the import removes that ' again.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import time
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import tablib
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from tablib.exceptions import InvalidDimensions

from citedesmetiers.models import Site

from .identifiers import normalize_isbn, normalize_issn
from .models import Audience, Holding, Purpose, Resource
from .text import fold

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 50_000
# An XLSX is a zip: refuse one that would expand to far more than any real catalogue (zip bomb).
MAX_XLSX_EXPANSION = 40
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
_CHUNK = 500
# C0/C1 control characters other than tab and line breaks: never in a real catalogue, always in
# a binary file or text decoded with the wrong encoding.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class SpreadsheetError(Exception):
    """The file as a whole cannot be used; the message says why, for the officer."""


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS = [
    Column("titre", "title", ("title",), required=True),
    Column("type", "kind", ("kind",), required=True),
    Column("objectifs", "purposes", ("objectif", "purposes", "purpose"), required=True),
    Column("publics", "audiences", ("public", "audiences", "audience")),
    Column("auteurs", "authors", ("auteur", "authors", "author")),
    Column("editeur", "publisher", ("editeurs", "publisher")),
    Column("annee", "year", ("year",)),
    Column("langue", "language", ("language", "lang")),
    Column("isbn", "isbn"),
    Column("issn", "issn"),
    Column("prix", "price", ("price",)),
    Column("url", "url", ("lien", "web_address", "link")),
    Column("resume", "summary", ("summary", "description")),
    Column("mots_cles", "keywords", ("mots_cle", "motscles", "keywords")),
    Column("avis", "opinion", ("opinion",)),
    Column("cote", "shelf_mark", ("shelf_mark", "shelf", "call_number")),
    Column("exemplaires", "copies", ("copies", "nombre_exemplaires", "nb_exemplaires")),
]
_COLUMN_BY_NAME = {
    name: column for column in COLUMNS for name in (column.header, column.key, *column.aliases)
}
HEADERS = {column.key: column.header for column in COLUMNS}

# The words written in the file for each kind; the codes and English names are read too.
KIND_WORDS = {
    Resource.Kind.BOOK: "livre",
    Resource.Kind.PERIODICAL: "périodique",
    Resource.Kind.LEAFLET: "brochure",
    Resource.Kind.WEBSITE: "site web",
    Resource.Kind.VIDEO: "vidéo",
    Resource.Kind.SOFTWARE: "logiciel",
    Resource.Kind.OTHER: "autre",
}
_KIND_ALIASES = {
    "book": "book",
    "ouvrage": "book",
    "periodical": "periodical",
    "revue": "periodical",
    "magazine": "periodical",
    "leaflet": "leaflet",
    "depliant": "leaflet",
    "fiche": "leaflet",
    "website": "website",
    "web site": "website",
    "site internet": "website",
    "site": "website",
    "video": "video",
    "film": "video",
    "software": "software",
    "application": "software",
    "other": "other",
}
_LANGUAGE_NAMES = {
    "fr": ("francais", "french"),
    "en": ("anglais", "english"),
    "it": ("italien", "italian", "italiano"),
    "es": ("espagnol", "spanish", "espanol"),
    "pt": ("portugais", "portuguese", "portugues"),
    "de": ("allemand", "german", "deutsch"),
    "other": ("autre", "other"),
}


def _header_key(header: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(header or ""))).strip("_")


# --- reading a file ------------------------------------------------------------------------------


@dataclass
class Table:
    columns: dict[str, int]
    ignored: list[str]
    rows: list[tuple[int, list[Any]]]


def detect_format(data: bytes) -> str:
    """What the file is, from its content (the name's extension is only a hint people get wrong)."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(
            _("This is an old Excel file (.xls). Save it as .xlsx or as CSV, then upload it again.")
        )
    return "csv"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise SpreadsheetError(
                _("This file says it is UTF-8 but is not. Save it again as “CSV UTF-8”.")
            ) from error
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise SpreadsheetError(_("This UTF-16 file is damaged.")) from error
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Excel on Windows writes CSV in Windows-1252; Latin-1 reads any byte.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    if _CONTROL.search(text):
        raise SpreadsheetError(
            _(
                "This file is not readable text: it is binary, or in an encoding other than "
                "UTF-8 or Windows-1252 (Latin-1). Save it as “CSV UTF-8” or as .xlsx."
            )
        )
    return text


def _delimiter(text: str) -> str:
    """French spreadsheets write CSV with “;”; others with “,” or tabs. The header tells."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _load(data: bytes, fmt: str) -> tablib.Dataset:
    dataset = tablib.Dataset()
    if fmt == "csv":
        text = _decode(data)
        delimiter = _delimiter(text)
        try:
            dataset.load(text, format="csv", delimiter=delimiter)
        except InvalidDimensions as error:
            raise SpreadsheetError(_long_row_message(text, delimiter)) from error
        except csv.Error as error:
            raise SpreadsheetError(
                _("This CSV file could not be read: %(error)s.") % {"error": error}
            ) from error
        return dataset
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise SpreadsheetError(_("This file is not a readable Excel workbook (.xlsx).")) from error
    if expanded > MAX_XLSX_EXPANSION * settings.IMPORT_MAX_BYTES:
        raise SpreadsheetError(_("This workbook is too large once opened. Split it in two."))
    try:
        dataset.load(data, format="xlsx")
    except InvalidDimensions as error:
        raise SpreadsheetError(
            _("Some rows have more cells than the first row has column names.")
        ) from error
    except Exception as error:
        # openpyxl raises many kinds of errors on damaged or foreign files; all mean the same here.
        raise SpreadsheetError(_("This file is not a readable Excel workbook (.xlsx).")) from error
    return dataset


def _long_row_message(text: str, delimiter: str) -> str:
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = len(next(rows, []))
    for number, row in enumerate(rows, start=2):
        if len(row) > width:
            return _(
                "Row %(row)s has %(cells)s cells but the first row names only %(columns)s "
                "columns. Check for a stray separator in that row."
            ) % {"row": number, "cells": len(row), "columns": width}
    return _("Some rows have more cells than the first row has column names.")


def read_table(data: bytes, fmt: str | None = None) -> Table:
    """The rows of a catalogue spreadsheet, with its columns recognised. SpreadsheetError for a
    file that cannot be used at all: too large, unreadable, required columns missing, no rows."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise SpreadsheetError(
            _("This file is %(size)s; the largest file accepted is %(limit)s. Split it in two.")
            % {"size": human_size(len(data)), "limit": human_size(limit)}
        )
    if not data.strip():
        raise SpreadsheetError(_("This file is empty."))
    fmt = fmt or detect_format(data)
    dataset = _load(data, fmt)
    if not dataset.headers or not any(_cell(h) for h in dataset.headers):
        raise SpreadsheetError(_("This file is empty: the first row must name the columns."))
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(dataset.headers):
        column = _COLUMN_BY_NAME.get(_header_key(header))
        if column is None:
            if _cell(header):
                ignored.append(_cell(header))
            continue
        if column.key in columns:
            raise SpreadsheetError(
                _("The column “%(column)s” appears twice. Keep only one.")
                % {"column": column.header}
            )
        columns[column.key] = index
    missing = [column.header for column in COLUMNS if column.required and column.key not in columns]
    if missing:
        raise SpreadsheetError(
            _(
                "Required columns are missing: %(missing)s. The first row must name the "
                "columns, for example: %(example)s."
            )
            % {"missing": ", ".join(missing), "example": ", ".join(HEADERS.values())}
        )
    rows = [
        (number, list(row))
        for number, row in enumerate(dataset, start=2)
        if any(_cell(value) for value in row)
    ]
    if not rows:
        raise SpreadsheetError(_("This file names the columns but has no rows."))
    if len(rows) > MAX_ROWS:
        raise SpreadsheetError(
            _("This file has %(rows)s rows; at most %(max)s can be imported at once.")
            % {"rows": len(rows), "max": MAX_ROWS}
        )
    return Table(columns=columns, ignored=ignored, rows=rows)


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _cell(value: Any) -> str:
    """A cell as clean text: numbers from Excel as written, the export's anti-formula ' removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text[:1] == "'" and text[1:].startswith(FORMULA_TRIGGERS):
        text = text[1:]
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


# --- planning an import --------------------------------------------------------------------------

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
    def error_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.status == ERROR]

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


class _Vocabulary:
    def __init__(self) -> None:
        self.kinds = {fold(code): code for code in Resource.Kind.values}
        self.kinds |= {fold(word): code for code, word in KIND_WORDS.items()}
        self.kinds |= {fold(str(label)): code for code, label in Resource.Kind.choices}
        self.kinds |= {fold(alias): code for alias, code in _KIND_ALIASES.items()}
        self.languages = {fold(code): code for code in Resource.Language.values}
        self.languages |= {fold(str(label)): code for code, label in Resource.Language.choices}
        self.languages |= {name: code for code, names in _LANGUAGE_NAMES.items() for name in names}
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
        return _cell(cells[index]) if index < len(cells) else ""

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


def plan_import(data: bytes, fmt: str | None = None, *, site: Site, holdings: bool = True):
    """What importing this file would do, row by row, without writing anything.

    `holdings`: set this site's shelf marks and copies from the cote/exemplaires columns (turn it
    off for a file that describes another centre's shelves)."""
    table = read_table(data, fmt)
    vocabulary = _Vocabulary()
    rows = [
        _parse_row(number, cells, table, vocabulary, holdings=holdings)
        for number, cells in table.rows
    ]
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


# --- export --------------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def export_catalogue(*, fmt: str, holding_site: Site, only_site: Site | None = None) -> bytes:
    """The catalogue (withdrawn items left out) as CSV or XLSX bytes, with the holding of
    `holding_site` in cote/exemplaires; only what `only_site` holds, when given."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    resources = Resource.objects.filter(withdrawn=False)
    if only_site is not None:
        resources = resources.filter(holdings__site=only_site)
    resources = resources.order_by("title", "pk").prefetch_related(
        "purposes",
        "audiences",
        Prefetch(
            "holdings", queryset=Holding.objects.filter(site=holding_site), to_attr="site_holdings"
        ),
    )
    dataset = tablib.Dataset(headers=[column.header for column in COLUMNS], title="catalogue")
    for resource in resources.iterator(chunk_size=2000):
        held = resource.site_holdings[0] if resource.site_holdings else None
        price = "" if resource.price is None else resource.price
        row = [
            resource.title,
            KIND_WORDS.get(resource.kind, resource.kind),
            f"{LIST_SEPARATOR} ".join(p.name for p in resource.purposes.all()),
            f"{LIST_SEPARATOR} ".join(a.name for a in resource.audiences.all()),
            resource.authors,
            resource.publisher,
            resource.year if resource.year is not None else "",
            resource.language,
            resource.isbn or "",
            resource.issn or "",
            price if fmt == "xlsx" else str(price),
            resource.url,
            resource.summary,
            resource.keywords,
            resource.opinion,
            held.shelf_mark if held else "",
            held.copies if held else "",
        ]
        if fmt == "xlsx":
            row = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
        dataset.append([neutralise(value) for value in row])
    if fmt == "csv":
        # With a BOM, Excel opens the file as UTF-8 and shows the accents right.
        return dataset.export("csv").encode("utf-8-sig")
    return dataset.export("xlsx", column_width=None)


def export_filename(fmt: str, site: Site | None) -> str:
    scope = site.slug if site is not None else "reseau"
    return f"catalogue-{scope}-{dt.date.today():%Y-%m-%d}.{fmt}"


# --- the uploaded file between preview and import ------------------------------------------------

UPLOAD_LIFETIME_SECONDS = 24 * 3600


def _upload_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def store_upload(data: bytes, fmt: str) -> uuid.UUID:
    """Keep an uploaded file until it is imported or dropped; forget ones left over a day."""
    directory = _upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for old in directory.iterdir():
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    upload_id = uuid.uuid4()
    (directory / f"{upload_id}.{fmt}").write_bytes(data)
    return upload_id


def upload_path(upload_id: uuid.UUID, fmt: str) -> Path:
    if fmt not in FORMATS:
        raise ValueError(fmt)
    return _upload_dir() / f"{uuid.UUID(str(upload_id))}.{fmt}"


def discard_upload(upload_id: uuid.UUID, fmt: str) -> None:
    upload_path(upload_id, fmt).unlink(missing_ok=True)


def column_help() -> list[dict[str, Any]]:
    """The columns, what each holds and how to write it: for the import page."""
    hints = {
        "kind": ", ".join(KIND_WORDS.values()),
        "purposes": _("names, separated by “;”"),
        "audiences": _("names, separated by “;”"),
        "year": _("4 digits"),
        "language": ", ".join(Resource.Language.values),
        "isbn": _("10 or 13 digits, hyphens allowed"),
        "price": _("in euros: 12.50 or 12,50"),
        "shelf_mark": _("at this site"),
        "copies": _("at this site; 0 = no longer held here"),
    }
    help = []
    for column in COLUMNS:
        model = Holding if column.key in ("shelf_mark", "copies") else Resource
        help.append(
            {
                "header": column.header,
                "label": model._meta.get_field(column.key).verbose_name,
                "hint": hints.get(column.key, ""),
                "required": column.required,
            }
        )
    return help


UPLOAD_HELP = gettext_lazy(
    "CSV (UTF-8 or Windows-1252, separated by commas or semicolons) or Excel .xlsx, with the "
    "column names on the first row."
)
