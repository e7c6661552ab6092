"""Every language of the network complete: each catalogue of each language but English (the
source) has every message translated, none fuzzy, and each translation keeps the placeholders
of its source (a `%(name)s` lost or renamed is an error in production, a KeyError or a blank)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.conf import settings

from tests.po import Entry, entries
from tests.test_settings import ROOT

TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
CATALOGUES = sorted(
    path for code in TRANSLATED for path in (ROOT / "locale" / code / "LC_MESSAGES").glob("*.po")
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def faults(entry: Entry) -> list[str]:
    if "fuzzy" in entry.flags:
        return ["fuzzy"]
    if not entry.msgstr or not all(entry.msgstr):
        return ["untranslated"]
    if not entry.msgid_plural:
        same = placeholders(entry.msgstr[0]) == placeholders(entry.msgid)
        return [] if same else ["placeholders differ"]
    # A plural form may leave the number out ("la semaine à venir" for one week) but may not
    # bring in a placeholder the source does not have.
    allowed = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
    return [
        f"plural form {n}: unknown placeholder"
        for n, form in enumerate(entry.msgstr)
        if placeholders(form) - allowed
    ]


def test_every_language_of_the_network_has_its_catalogue():
    languages = {path.parent.parent.name for path in CATALOGUES}
    assert languages == {"fr", "it", "es", "pt"}


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_message_is_translated_with_its_placeholders(catalogue):
    found = entries(catalogue)
    assert len(found) > 1000
    wrong = [
        f"{catalogue.parent.parent.name}:{entry.line}: {fault}: {entry.msgid[:60]!r}"
        for entry in found
        for fault in faults(entry)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (Entry(1, "Hello %(name)s", msgstr=["Bonjour %(name)s"]), []),
        (Entry(1, "Hello %(name)s", msgstr=["Bonjour %(nom)s"]), ["placeholders differ"]),
        (Entry(1, "At {0}", msgstr=["À"]), ["placeholders differ"]),
        (Entry(1, "Hi", msgstr=[""]), ["untranslated"]),
        (Entry(1, "Hi", msgstr=["Salut"], flags={"fuzzy"}), ["fuzzy"]),
        (Entry(1, "%(n)s week", "%(n)s weeks", msgstr=["la semaine", "%(n)s semaines"]), []),
        (
            Entry(1, "%(n)s week", "%(n)s weeks", msgstr=["%(x)s", "%(n)s semaines"]),
            ["plural form 0: unknown placeholder"],
        ),
        (Entry(1, "%(n)s week", "%(n)s weeks", msgstr=["semaine", ""]), ["untranslated"]),
    ],
)
def test_a_fault_is_found(entry, expected):
    assert faults(entry) == expected
