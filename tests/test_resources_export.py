"""Catalogue exports (CSV, XLSX) with formulas neutralised, per site or whole, audited; and the
round trip: an export imported again changes nothing.

Personas (tests/conftest.py): Dan is the information officer of site Alpha."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from citedesmetiers import exports
from citedesmetiers.models import AuditEntry
from resources.models import (
    Audience,
    Holding,
    Resource,
)
from tests.catalogue_spreadsheets import (
    EXPORT,
    HEADERS,
    _english,  # noqa: F401 (an autouse fixture)
    _var_dir,  # noqa: F401 (an autouse fixture)
    confirm,
    make_resource,
    preview,
    snapshot,
)


@pytest.fixture
def catalogue(centre):
    """A few records that exercise every column, one of them with formula-looking text."""
    soin = make_resource(
        "Les métiers du soin",
        site=centre.alpha,
        purposes=("learn-about-professions", "find-a-job"),
        authors="Claire Martin; Jean Dupont",
        publisher="Onisep",
        year=2024,
        isbn="9780306406157",
        price=Decimal("12.50"),
        summary="Infirmier, aide-soignant…\nDes témoignages.",
        keywords="santé, soin",
        opinion="Très demandé",
    )
    soin.audiences.set(Audience.objects.filter(slug__in=["young-people", "job-seekers"]))
    make_resource("Revue Emploi", kind="periodical", issn="0378-5955", language="en", price=0)
    make_resource(
        '=HYPERLINK("http://evil.example";"clic")',
        kind="website",
        url="https://example.org/ressource",
        authors="+33 1 23 45 67 89",
        publisher="@publisher",
        keywords="-moins",
        summary="\tindenté",
    )
    beta_only = make_resource("Fiche régionale", kind="leaflet", site=centre.beta)
    return {"soin": soin, "beta_only": beta_only}


def export(client, fmt: str, **params) -> bytes:
    response = client.get(EXPORT, {"format": fmt, **params})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_it_exports_the_networks_columns_as_csv(catalogue, centre, login):
    rows = read_csv(export(login(centre.officer), "csv"))

    assert list(rows[0]) == HEADERS
    soin = next(r for r in rows if r["titre"] == "Les métiers du soin")
    assert soin["type"] == "livre"
    assert soin["objectifs"] == "Trouver un emploi; S'informer sur les métiers"
    assert soin["publics"] == "Jeunes; Demandeurs d'emploi"
    assert (soin["isbn"], soin["prix"], soin["cote"], soin["exemplaires"]) == (
        "9780306406157",
        "12.50",
        "EMP 1",
        "1",
    )
    revue = next(r for r in rows if r["titre"] == "Revue Emploi")
    assert (revue["prix"], revue["cote"], revue["exemplaires"]) == ("0.00", "", "")


def test_it_neutralises_formula_cells_in_exports(catalogue, centre, login):
    client = login(centre.officer)
    rows = read_csv(export(client, "csv"))
    sheet = openpyxl.load_workbook(io.BytesIO(export(client, "xlsx"))).active

    evil = next(r for r in rows if "HYPERLINK" in r["titre"])
    assert evil["titre"] == '\'=HYPERLINK("http://evil.example";"clic")'
    assert evil["auteurs"] == "'+33 1 23 45 67 89"
    assert evil["editeur"] == "'@publisher"
    assert evil["mots_cles"] == "'-moins"
    assert evil["resume"] == "'\tindenté"
    cells = [cell for line in sheet.iter_rows() for cell in line]
    assert not [cell for cell in cells if cell.data_type == "f"]
    assert not [
        cell.value
        for cell in cells
        if isinstance(cell.value, str) and cell.value.startswith(exports.FORMULA_TRIGGERS)
    ]


def test_it_exports_only_what_a_site_holds_with_that_sites_shelf_marks(catalogue, centre, login):
    Holding.objects.filter(site=centre.beta).update(shelf_mark="BETA 4")

    rows = read_csv(export(login(centre.officer), "csv", site="beta"))

    assert [(r["titre"], r["cote"]) for r in rows] == [("Fiche régionale", "BETA 4")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_round_trips_an_export_without_changing_anything(catalogue, centre, login, fmt):
    client = login(centre.officer)
    data = export(client, fmt)
    before = snapshot()

    response, upload_id = preview(client, data, name=f"catalogue.{fmt}")

    plan = response.context["plan"]
    assert len(plan.rows) == Resource.objects.count()
    assert [
        (r.title, r.status, r.changes) for r in plan.rows if r.changes or r.status != "update"
    ] == []
    assert confirm(client, upload_id).status_code == 302
    assert snapshot() == before


def test_it_refuses_an_unknown_export_format_or_site(centre, login):
    client = login(centre.officer)

    assert client.get(EXPORT, {"format": "pdf"}).status_code == 404
    assert client.get(EXPORT, {"site": "nowhere"}).status_code == 404
    assert client.get(EXPORT, {"site": "\x00"}).status_code == 400


def test_an_export_of_the_catalogue_is_written_to_the_audit_log(catalogue, centre, login):
    export(login(centre.officer), "csv")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.subject, entry.site) == (
        centre.officer,
        "export",
        "catalogue",
        centre.alpha,
    )
