"""The accessibility statement at /accessibility/: public, in the visitor's language, with where to
report a problem, and linked from the footer of every public page."""

from __future__ import annotations

from html import unescape

import pytest
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from reception import services

STATEMENT = "/accessibility/"
FOOTER_LINK = f'<a href="{STATEMENT}">'


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("language", ["fr", "it", "en"])
def test_it_is_public_and_in_the_visitors_language(client, db, language):
    response = client.get(STATEMENT, headers={"accept-language": language})

    assert response.status_code == 200
    page = html(response)
    assert f'<html lang="{language}">' in page
    with translation.override(language):
        for text in ("Accessibility", "What we check", "What does not work well yet"):
            assert f">{escape(gettext(text))}</h" in page
        reception = "You can also ask at the reception desk of the Cité des métiers. You do not need to give your name."  # noqa: E501
        assert gettext(reception) in unescape(page)  # a translation is not escaped: l'accueil


def test_it_says_what_is_checked_and_what_is_not_yet(client, db):
    page = html(client.get(STATEMENT, headers={"accept-language": "en"}))

    assert "axe-core" in page and "WCAG 2.0, 2.1 and 2.2" in page
    assert "keyboard only" in page
    assert "320 pixels" in page and "forced colours" in page
    assert "on every change to the software" in page
    assert "are tagged, so that a screen reader reads them" in page  # the PDFs (tests/test_pdf.py)
    assert "not yet checked our PDF documents with a PDF accessibility checker" in page
    assert "Each chart has a table with the same numbers." in page
    assert "depends on the device" in page  # the display's voice


def test_without_a_contact_address_it_sends_people_to_the_reception_desk(client, db, settings):
    settings.ACCESSIBILITY_CONTACT = ""

    page = html(client.get(STATEMENT, headers={"accept-language": "en"}))

    assert "mailto:" not in page
    assert "ask at the reception desk" in page


def test_a_contact_address_is_offered_as_an_e_mail_link(client, db, settings):
    settings.ACCESSIBILITY_CONTACT = "accessibilite@cite.example"

    page = html(client.get(STATEMENT, headers={"accept-language": "en"}))

    assert '<a href="mailto:accessibilite@cite.example">accessibilite@cite.example</a>' in page
    assert "ask at the reception desk" in page


def test_it_only_answers_get(client, db):
    assert client.post(STATEMENT).status_code == 405


def test_every_public_page_links_to_it_in_its_footer(client, centre):
    visit, _created = services.check_in(
        site=centre.alpha, theme_id=centre.alpha.themes.get(letter="E").pk
    )
    for path in (
        "/",
        "/catalogue/",
        "/events/",
        "/s/alpha/",
        "/appointments/alpha/",
        f"/t/{visit.token}/",
        "/verify/",
        STATEMENT,
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        footer = html(response).split('<footer class="site-footer">')[1].split("</footer>")[0]
        assert FOOTER_LINK in footer, path


def test_a_catalogue_kiosk_has_no_way_out_to_it(client, centre):
    # The kiosk keeps visitors in the catalogue, where its idle restart runs.
    client.post("/catalogue/kiosk/alpha/")
    assert STATEMENT not in html(client.get("/catalogue/kiosk/alpha/"))
