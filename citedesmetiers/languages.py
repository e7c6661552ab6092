"""The languages a visitor may choose for themselves (settings.LANGUAGES), each named in itself."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.text import capfirst


def own_names() -> list[tuple[str, str]]:
    """Each language's code and its name in itself (“Italiano”), never a flag: a flag is a
    country, and a language is spoken in many."""
    return [
        (code, capfirst(translation.get_language_info(code)["name_local"]))
        for code, _name in settings.LANGUAGES
    ]


def is_offered(code: str) -> bool:
    return code in dict(settings.LANGUAGES)
