"""Malformed input as a script would send it: ids no database integer holds, digits that are not
ASCII, NUL characters. Each gets a clear refusal (404 or 400) and changes nothing — never a
server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from citedesmetiers.ids import parse_id
from reception.models import Visit


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (12, 12),
        ("0", None),
        ("-3", None),
        ("+3", None),
        ("²", None),
        ("١٢", None),
        ("１２", None),
        ("12abc", None),
        ("", None),
        (None, None),
        (True, None),
        ("9" * 19, None),
        (10**20, None),
        ("9" * 18, 10**18 - 1),
    ],
)
def test_parse_id_reads_only_ascii_ids_a_database_holds(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize("visit_id", ["9" * 19, "99999999999999999999999999"])
def test_an_id_beyond_a_database_integer_is_a_404(centre, login, visit_id):
    client = login(centre.reception)
    response = client.get(f"/reception/visits/{visit_id}/ticket/")
    assert response.status_code == 404


def test_a_huge_id_in_an_event_registration_is_a_404(centre, client):
    response = client.post(f"/events/{'9' * 25}/register/", {"pseudonym": "Sam"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/t/%00/",
        "/events/?site=%00",
        "/catalogue/?q=cv%00",
        "/verify/AB%00CD/",
    ],
)
def test_a_nul_character_anywhere_is_refused_with_a_400(db, client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert b"could not be read" in response.content


def test_a_nul_character_in_a_form_field_is_refused_and_changes_nothing(centre, login):
    client = login(centre.reception)
    theme = centre.alpha.themes.get(letter="E")
    response = client.post(
        reverse("reception:check_in"),
        {"theme": theme.pk, "checkin_key": "5f0c7d2e-7f7c-4a55-9d32-6a8d8f0b1e11\x00"},
    )
    assert response.status_code == 400
    assert not Visit.objects.exists()


@pytest.mark.parametrize("theme", ["²", "١٢", "１２", "9" * 30, "-1", "abc"])
def test_a_dashboard_filter_that_is_not_an_id_is_ignored(mfa_enrolled, login, theme):
    client = login(mfa_enrolled.manager)
    response = client.get("/manage/", {"theme": theme, "partner": theme})
    assert response.status_code == 200
    for table in ("visits", "interviews"):
        assert client.get(f"/manage/export/{table}.csv", {"theme": theme}).status_code in (200, 404)


@pytest.mark.parametrize("site", ["abc", "²", "9" * 30, ""])
def test_choosing_a_site_that_is_not_an_id_is_a_clear_403(centre, login, site):
    response = login(centre.reception).post("/staff/site/", {"site": site})
    assert response.status_code == 403
    assert b"You do not work at this site." in response.content


@pytest.mark.parametrize(
    "next_url", ["staff_home", "reception:tablet", "nowhere", "https://evil.test/", "//evil.test/"]
)
def test_choosing_a_site_never_follows_a_next_that_is_not_a_path_of_ours(centre, login, next_url):
    response = login(centre.reception).post(
        "/staff/site/", {"site": centre.alpha.pk, "next": next_url}
    )
    assert response.status_code == 302
    assert response.url == "/staff/"


@pytest.mark.parametrize("theme", ["１２", "²", "9" * 30])
def test_a_check_in_with_a_theme_that_is_not_an_id_creates_nothing(centre, login, theme):
    response = login(centre.reception).post(
        "/reception/check-in/",
        {"theme": theme, "checkin_key": "5f0c7d2e-7f7c-4a55-9d32-6a8d8f0b1e11"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose a theme to check the visitor in." in response.content.decode()
    assert not Visit.objects.exists()
