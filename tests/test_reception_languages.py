"""The visitor's own language, chosen at reception for one visit: kept on the visit (an unknown
code refused, nothing written), and spoken by the ticket, the phone page and its live poll, the
proof of attendance, while reception's own pages stay in the staff member's language."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from reception import services
from reception.models import TicketCounter, Visit


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def in_language(language: str, msgid: str) -> str:
    with translation.override(language):
        text = gettext(msgid)
    assert text != msgid, f"{msgid!r} has no {language} translation"
    return text


def post_check_in(client, site, **data):
    data = {"theme": site.themes.get(letter="E").pk, "checkin_key": str(uuid.uuid4()), **data}
    return client.post(reverse("reception:check_in"), data, HTTP_ACCEPT_LANGUAGE="en")


def check_in(site, language: str = "") -> Visit:
    visit, _created = services.check_in(
        site=site, theme_id=site.themes.get(letter="E").pk, language=language
    )
    return visit


# --- the choice ---------------------------------------------------------------------------------


def test_the_tablet_offers_each_language_in_its_own_name_the_sites_first(centre, client):
    centre.alpha.language = "es"
    centre.alpha.save(update_fields=["language"])
    client.force_login(centre.reception)

    page = client.get(reverse("reception:tablet"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    radios = re.findall(r'<input type="radio" name="language" value="(\w+)"( checked)?>', page)
    assert radios == [("fr", ""), ("en", ""), ("it", ""), ("es", " checked"), ("pt", "")]
    for name in ("Français", "English", "Italiano", "Español", "Português"):
        assert f"<span>{name}</span>" in page
    assert '<html lang="en">' in page  # the tablet itself stays in the staff member's language


def test_the_chosen_language_is_kept_on_that_visit_only(centre, client):
    client.force_login(centre.reception)

    post_check_in(client, centre.alpha, language="it")
    post_check_in(client, centre.alpha)  # the next visitor: no choice sent, the site's

    assert list(Visit.objects.order_by("number").values_list("language", flat=True)) == ["it", ""]


@pytest.mark.parametrize("code", ["xx", "it-IT", "fr ", "e" * 300, "IT"])
def test_an_unknown_language_is_refused_and_nothing_written(centre, client, code):
    client.force_login(centre.reception)

    response = post_check_in(client, centre.alpha, language=code)

    if code == "fr ":  # a form strips a trailing space: French, as the buttons send it
        assert Visit.objects.get().language == "fr"
        return
    assert response.status_code == 302
    followed = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    messages = [str(m) for m in followed.context["messages"]]
    assert messages == ["This language is not offered."]
    assert not Visit.objects.exists() and not TicketCounter.objects.exists()


def test_the_service_refuses_an_unknown_language(centre):
    with pytest.raises(services.ReceptionError, match="not offered"):
        check_in(centre.alpha, "klingon")
    assert not Visit.objects.exists()


def test_a_refused_after_hours_tap_keeps_the_language_for_check_in_anyway(centre, client):
    centre.alpha.opening_periods.all().delete()
    client.force_login(centre.reception)

    page = post_check_in(client, centre.alpha, language="pt").content.decode()

    assert '<input type="hidden" name="language" value="pt">' in page
    assert '<input type="radio" name="language" value="pt" checked>' in page
    assert not Visit.objects.exists()


# --- what follows it ----------------------------------------------------------------------------


def test_the_ticket_speaks_the_visitors_language_and_the_tablet_the_staffs(centre, client):
    client.force_login(centre.reception)
    visit = check_in(centre.alpha, "it")

    ticket = client.get(reverse("reception:ticket", args=[visit.pk]), HTTP_ACCEPT_LANGUAGE="en")
    confirmation = client.get(
        reverse("reception:checked_in", args=[visit.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = ticket.content.decode()
    assert '<html lang="it">' in page
    assert in_language("it", "Scan to follow your place in the queue on your phone.") in page
    assert '<html lang="en">' in confirmation.content.decode()
    assert "Next visitor" in confirmation.content.decode()


def test_the_phone_page_and_its_poll_speak_the_visits_language(centre, client):
    visit = check_in(centre.alpha, "es")
    english_phone = {"HTTP_ACCEPT_LANGUAGE": "en"}

    page = client.get(reverse("reception:visitor", args=[visit.token]), **english_phone)
    live = client.get(
        reverse("reception:visitor_live", args=[visit.token]) + "?s=alpha&v=0", **english_phone
    )

    for response in (page, live):
        text = response.content.decode()
        assert in_language("es", "You are next.") in text
        assert "You are next." not in text
    assert '<html lang="es">' in page.content.decode()
    # Its links carry the language, so a registration made from them speaks it.
    assert f'href="{reverse("events:list")}?lang=es"' in page.content.decode()
    assert f"{reverse('reception:visitor_live', args=[visit.token])}?s=alpha" in (
        page.content.decode()
    )
    assert "&amp;lang=es" in page.content.decode()


def test_without_a_choice_the_phone_page_speaks_the_sites_language(centre, client):
    centre.alpha.language = "pt"
    centre.alpha.save(update_fields=["language"])
    visit = check_in(centre.alpha)

    page = client.get(reverse("reception:visitor", args=[visit.token]), HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="pt">' in page.content.decode()


def test_the_visitor_may_change_the_language_on_the_phone(centre, client):
    visit = check_in(centre.alpha, "es")

    page = client.get(reverse("reception:visitor", args=[visit.token]) + "?lang=it")

    text = page.content.decode()
    assert '<html lang="it">' in text
    assert in_language("it", "You are next.") in text
    assert page.cookies["django_language"].value == "it"  # the pages after it speak it too
    visit.refresh_from_db()
    assert visit.language == "es"  # a link changes no row


def test_an_unknown_language_in_a_link_is_ignored(centre, client):
    visit = check_in(centre.alpha, "es")

    page = client.get(reverse("reception:visitor", args=[visit.token]) + "?lang=xx")

    assert '<html lang="es">' in page.content.decode()
    assert "django_language" not in page.cookies


def test_the_proof_of_attendance_is_in_the_visits_language(centre, client):
    visit = check_in(centre.alpha, "it")

    response = client.get(reverse("reception:proof", args=[visit.token]), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert in_language("it", "Proof of attendance") in text
    assert "Proof of attendance" not in text
