"""French typography in the French catalogue: a non-breaking space before `:` `;` `?` `!` and
inside « », so the sign never starts a line on its own ("Code : X", not "Code: X")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.po import entries
from tests.test_settings import ROOT

CATALOGUES = sorted((ROOT / "locale" / "fr" / "LC_MESSAGES").glob("*.po"))
NO_BREAK = "\u00a0\u202f"  # no-break space, narrow no-break space
# What is not French prose: addresses, and times (14:00, %(hour)s:%(minute)s, {h}:{m}).
NOT_PROSE = re.compile(r"\b(?:https?://|mailto:)\S*|(?<=[\dsd}]):(?=\d|%\(|\{)")
MISSING_SPACE = re.compile(rf"(?<![{NO_BREAK}])[:;?!»]|«(?![{NO_BREAK}])")


def translations(path: Path) -> list[tuple[int, str, str]]:
    """(line, msgid, msgstr) of each live entry of a .po file, one per plural form."""
    return [(e.line, e.msgid, msgstr) for e in entries(path) for msgstr in e.msgstr]


def typography_faults(text: str) -> list[tuple[str, str]]:
    """(sign, the words around it) of each sign without its no-break space."""
    prose = NOT_PROSE.sub(" ", text)
    return [
        (m[0], prose[max(0, m.start() - 16) : m.end() + 16]) for m in MISSING_SPACE.finditer(prose)
    ]


def test_the_french_catalogue_is_read_entry_by_entry():
    entries = translations(CATALOGUES[0])
    assert len(entries) > 500
    found = {msgid: msgstr for _line, msgid, msgstr in entries}
    assert found["Dashboard"] == "Tableau de bord"


@pytest.mark.parametrize(
    ("text", "signs"),
    [
        ("Code\u00a0: X", ""),
        ("Code\u202f: X", ""),
        ("Code: X", ":"),
        ("Code : X", ":"),  # an ordinary space lets the colon start the next line
        ("Déjà inscrit ? Oui ! Bien ; merci", "?!;"),
        ("Déjà inscrit\u00a0? Oui\u00a0! Bien\u00a0; merci", ""),
        ("Ouvert à 14:00, de %(start)s:%(end)s, voir https://example.org/?q=a:b", ""),
        ("«\u00a0Gratuit\u00a0»", ""),
        ("« Gratuit »", "«»"),
        ("%(name)s: tous ses sites", ":"),
    ],
)
def test_it_finds_a_missing_no_break_space(text, signs):
    assert "".join(sign for sign, _words in typography_faults(text)) == signs


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.name)
def test_every_french_translation_has_its_no_break_spaces(catalogue):
    faults = [
        f"{catalogue.name}:{line}: …{words}…"
        for line, _msgid, msgstr in translations(catalogue)
        for _sign, words in typography_faults(msgstr)
    ]
    assert faults == []


# Django's `M` capitalises the month ("2 Déc"); `N` gives each language's own abbreviation
# ("2 déc."). A format string is the quoted argument of `|date:`.
CAPITAL_MONTH = re.compile(r'\|date:"[^"]*(?<!\\)\bM\b[^"]*"')


def test_no_template_prints_a_capitalised_month_abbreviation():
    templates = [
        path
        for path in ROOT.rglob("*.html")
        if not {".venv", "var", "node_modules"} & set(path.relative_to(ROOT).parts)
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CAPITAL_MONTH.search(line)
    ]
    assert templates and not found, found
