"""The catalogue kiosk lets each visitor choose a language, named in itself, and forgets the choice
at the idle reset: the next person finds the terminal's own language again."""

from __future__ import annotations

import re

import pytest

KIOSK = "/catalogue/kiosk/alpha/"
ENGLISH_TERMINAL = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def kiosk(client, centre):
    assert client.post(KIOSK).status_code == 302
    return client


def languages_row(page: str) -> list[tuple[str, str, str]]:
    nav = re.search(r'<nav class="kiosk-languages".*?</nav>', page, re.S).group(0)
    return re.findall(
        r'<a href="[^"]*\?lang=(\w+)" lang="\w+" hreflang="\w+"( aria-current="true")?>([^<]+)</a>',
        nav,
    )


def test_a_kiosk_offers_the_languages_by_their_own_names_as_links(kiosk):
    page = kiosk.get(KIOSK, **ENGLISH_TERMINAL).content.decode()

    assert languages_row(page) == [
        ("fr", "", "Français"),
        ("en", ' aria-current="true"', "English"),
        ("it", "", "Italiano"),
        ("es", "", "Español"),
        ("pt", "", "Português"),
    ]
    assert 'name="language"' not in page  # no select whose choice a reset would not forget
    assert f'data-kiosk-home="{KIOSK}"' in page


def test_a_visitors_language_lasts_until_the_idle_reset(kiosk):
    chosen = kiosk.get(KIOSK + "?lang=it", **ENGLISH_TERMINAL)
    assert '<html lang="it">' in chosen.content.decode()
    later = kiosk.get("/catalogue/", **ENGLISH_TERMINAL)  # the pages after it speak it too
    assert '<html lang="it">' in later.content.decode()

    reset = kiosk.post("/catalogue/restart-kiosk/", **ENGLISH_TERMINAL)  # the idle restart

    assert reset.status_code == 302 and reset.url == KIOSK
    assert reset.cookies["django_language"].value == ""  # deleted
    assert '<html lang="en">' in kiosk.get(KIOSK, **ENGLISH_TERMINAL).content.decode()


def test_an_ordinary_browser_keeps_the_language_select(client, centre):
    page = client.get("/catalogue/", **ENGLISH_TERMINAL).content.decode()

    assert 'name="language"' in page
    assert "kiosk-languages" not in page
