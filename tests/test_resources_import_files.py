"""Catalogue spreadsheets that cannot be imported as they are: bad rows reported one by one, missing
columns, unknown encodings and the encodings spreadsheets really write, duplicate rows, files too
large, old or empty; and who may open or drop an upload.

Personas (tests/conftest.py): Dan is the information officer of site Alpha."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from resources import imports, spreadsheets
from resources.models import (
    Holding,
    Resource,
)
from tests.catalogue_spreadsheets import (
    _english,  # noqa: F401 (an autouse fixture)
    _var_dir,  # noqa: F401 (an autouse fixture)
    confirm,
    csv_bytes,
    kept_uploads,
    preview,
    row,
    snapshot,
    upload,
    upload_errors,
    xlsx_bytes,
)


def test_it_reports_each_bad_row_and_imports_nothing(centre, login):
    before = snapshot()
    data = csv_bytes(
        [
            row(titre="Bon guide"),
            row(titre="ISBN faux", isbn="978-0-306-40615-8"),
            row(titre="ISSN faux", issn="0378-5956"),
            row(titre="Type inconnu", type="parchemin"),
            row(titre="Objectif inconnu", objectifs="Devenir astronaute"),
            row(titre="Public inconnu", publics="Martiens"),
            row(titre="Langue inconnue", langue="klingon"),
            row(titre="Année fausse", annee="deux mille"),
            row(titre="Prix faux", prix="gratuit"),
            row(titre="", isbn=""),
        ]
    )
    client = login(centre.officer)

    response, upload_id = preview(client, data)

    rows = response.context["plan"].rows
    assert [r.status for r in rows] == ["new"] + ["error"] * 9
    errors = {r.title: " ".join(r.errors) for r in rows}
    assert "isbn: “978-0-306-40615-8” is not a valid ISBN (check digit)." in errors["ISBN faux"]
    assert "issn:" in errors["ISSN faux"]
    assert "type: “parchemin” is unknown" in errors["Type inconnu"]
    assert "objectifs: “Devenir astronaute” is unknown" in errors["Objectif inconnu"]
    assert "publics: “Martiens” is unknown" in errors["Public inconnu"]
    assert "langue: “klingon” is unknown" in errors["Langue inconnue"]
    assert "annee: “deux mille” is not a year." in errors["Année fausse"]
    assert "prix: “gratuit” is not a price in euros." in errors["Prix faux"]
    assert "titre: empty" in errors[""]
    page = response.content.decode()
    assert "9 rows have errors" in page
    assert "Import 10 rows" not in page

    # Confirming anyway (an old tab, a crafted request) writes nothing either.
    refused = confirm(client, upload_id)
    assert refused.status_code == 409
    assert snapshot() == before


def test_it_names_the_missing_required_columns(centre, login, settings):
    data = b"titre,auteurs\nGuide,Claire Martin\n"

    response = upload(login(centre.officer), data)

    (message,) = upload_errors(response)
    assert message.startswith("Required columns are missing: type, objectifs.")
    assert kept_uploads() == []


@pytest.mark.parametrize(
    "data",
    [
        "titre,type,objectifs\nMétiers,livre,Trouver un emploi\n".encode("utf-16-le"),
        bytes(range(256)) * 20,
        b"\x00\x01\x02binary" * 50,
    ],
    ids=["utf-16-without-bom", "random-bytes", "nul-bytes"],
)
def test_it_refuses_a_file_in_an_unknown_encoding(centre, login, data):
    response = upload(login(centre.officer), data)

    (message,) = upload_errors(response)
    assert "not readable text" in message
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")],
    ids=["utf-8", "utf-8-bom", "windows-1252", "utf-16-bom"],
)
def test_it_reads_the_encodings_spreadsheets_write(centre, encoding, prefix):
    data = prefix + csv_bytes(
        [row(titre="Œuvres et métiers — l'été", auteurs="Inès")], encoding=encoding
    )

    plan = spreadsheets.plan_import(data, site=centre.alpha)

    assert [(r.title, r.values["authors"], r.status) for r in plan.rows] == [
        ("Œuvres et métiers — l'été", "Inès", "new")
    ]


def test_it_reads_semicolon_separated_csv_from_french_excel(centre):
    data = csv_bytes([row(prix="12,50")], delimiter=";", encoding="cp1252")

    plan = spreadsheets.plan_import(data, site=centre.alpha)

    assert plan.ok
    assert plan.rows[0].values["price"] == Decimal("12.50")


def test_it_reports_duplicate_rows_inside_the_file(centre, login):
    data = csv_bytes(
        [
            row(titre="Guide A", isbn="9780306406157"),
            row(titre="Guide A, autre saisie", isbn="0-306-40615-2"),
            row(titre="Revue B", issn="0378-5955"),
            row(titre="Revue B bis", issn="03785955"),
            row(titre="Brochure C"),
            row(titre="brochure c"),
        ]
    )

    response, _upload_id = preview(login(centre.officer), data)

    rows = response.context["plan"].rows
    assert [r.status for r in rows] == ["new", "error", "new", "error", "new", "error"]
    assert rows[1].errors == ["isbn: same ISBN as row 2."]
    assert rows[3].errors == ["issn: same ISSN as row 4."]
    assert rows[5].errors[0].startswith("titre: same title as row 6.")


def test_it_refuses_a_file_over_the_size_limit(centre, login, settings):
    settings.IMPORT_MAX_BYTES = 1024
    data = csv_bytes([row(titre=f"Guide {n}") for n in range(60)])
    assert len(data) > 1024

    response = upload(login(centre.officer), data)

    (message,) = upload_errors(response)
    assert "the largest file accepted is 1 KB" in message
    assert kept_uploads() == []


def test_it_refuses_an_old_excel_file_and_an_empty_one(centre, login):
    client = login(centre.officer)

    old = upload_errors(upload(client, b"\xd0\xcf\x11\xe0" + b"\x00" * 600, name="old.xls"))
    empty = upload_errors(upload(client, b"titre,type,objectifs\r\n"))

    assert "old Excel file (.xls)" in old[0]
    assert "no rows" in empty[0]


def test_it_opens_an_import_only_for_the_session_that_uploaded_it(centre, login, client):
    _response, upload_id = preview(login(centre.officer), csv_bytes([row()]))
    other = login(centre.officer)  # a new session of the same person

    assert other.get(reverse("resources_staff:import_preview", args=[upload_id])).status_code == 404
    assert confirm(other, upload_id).status_code == 404
    assert not Resource.objects.exists()


def test_it_drops_a_file_on_cancel(centre, login, settings):
    client = login(centre.officer)
    _response, upload_id = preview(client, csv_bytes([row()]))

    client.post(reverse("resources_staff:import_cancel", args=[upload_id]))

    assert kept_uploads() == []
    assert confirm(client, upload_id).status_code == 404
    assert not Resource.objects.exists()


def test_it_reads_an_xlsx_with_numbers_where_text_was_expected(centre):
    data = xlsx_bytes(
        ["Titre", "Type", "Objectifs", "Année", "ISBN", "Prix", "Exemplaires"],
        [["Guide du soin", "Livre", "Trouver un emploi", 2024, 9780306406157, 12.5, 2]],
    )

    plan = imports.import_catalogue(site=centre.alpha, data=data)

    resource = Resource.objects.get()
    assert plan.new_count == 1
    assert (resource.year, resource.isbn, resource.price) == (
        2024,
        "9780306406157",
        Decimal("12.50"),
    )
    assert Holding.objects.get(resource=resource).copies == 2
