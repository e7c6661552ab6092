"""Folding text for accent- and case-insensitive matching ("Métiers" → "metiers")."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold().replace("œ", "oe").replace("æ", "ae")).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))
