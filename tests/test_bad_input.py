"""Malformed input as a script would send it: ids no database integer holds, digits that are not
ASCII, NUL characters. Each gets a clear refusal (404 or 400) and changes nothing — never a
server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from citedesmetiers.ids import parse_id
from reception.models import Visit


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
