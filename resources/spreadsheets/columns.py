"""The columns of a catalogue spreadsheet, the words written in them, and how a cell reads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from citedesmetiers.exports import FORMULA_TRIGGERS

from ..models import Resource
from ..text import fold

LIST_SEPARATOR = ";"
# C0/C1 control characters other than tab and line breaks: never in a real catalogue, always in
# a binary file or text decoded with the wrong encoding.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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
COLUMN_BY_NAME = {
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
KIND_ALIASES = {
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
LANGUAGE_NAMES = {
    "fr": ("francais", "french"),
    "en": ("anglais", "english"),
    "it": ("italien", "italian", "italiano"),
    "es": ("espagnol", "spanish", "espanol"),
    "pt": ("portugais", "portuguese", "portugues"),
    "de": ("allemand", "german", "deutsch"),
    "other": ("autre", "other"),
}


def header_key(header: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(header or ""))).strip("_")


def cell(value: Any) -> str:
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
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()
