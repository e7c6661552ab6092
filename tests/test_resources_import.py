"""Catalogue spreadsheets: upload, dry-run preview with a row-by-row report, all-or-nothing import
de-duplicated on ISBN/ISSN, export (CSV, XLSX) with formulas neutralised, and the round trip.

Personas (tests/conftest.py): Dan is the information officer of site Alpha."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone

from citedesmetiers import exports
from reception import services as reception
from resources import imports, spreadsheets
from resources.models import (
    Audience,
    CatalogueImport,
    Holding,
    Purpose,
    Resource,
    SearchTerm,
    TakeAwayItem,
)
from resources.search import refresh_terms

HEADERS = [column.header for column in spreadsheets.COLUMNS]
IMPORT = reverse("resources_staff:import")
EXPORT = reverse("resources_staff:export")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def kept_uploads() -> list[bytes]:
    """The files kept between their upload and their import."""
    return [bytes(data) for data in CatalogueImport.objects.values_list("data", flat=True) if data]


def make_resource(title: str, *, site=None, purposes=("find-a-job",), **fields) -> Resource:
    resource = Resource.objects.create(title=title, **fields)
    resource.purposes.set(Purpose.objects.filter(slug__in=purposes))
    if site is not None:
        Holding.objects.create(resource=resource, site=site, shelf_mark="EMP 1", copies=1)
    refresh_terms(Resource.objects.filter(pk=resource.pk))
    return resource


def row(**cells) -> dict:
    base = {"titre": "Guide des métiers du soin", "type": "livre", "objectifs": "Trouver un emploi"}
    return {**base, **cells}


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    headers = list(dict.fromkeys(HEADERS[:3] + [key for r in rows for key in r]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(headers: list, rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, data: bytes, name: str = "catalogue.csv", holdings: bool = True):
    payload = {"file": SimpleUploadedFile(name, data)}
    if holdings:
        payload["holdings"] = "on"
    return client.post(IMPORT, payload)


def preview(client, data: bytes, **kwargs):
    """Upload, then open the preview: (its response, the upload id)."""
    response = upload(client, data, **kwargs)
    assert response.status_code == 302, response.context["form"].errors
    upload_id = resolve(response.url).kwargs["upload_id"]
    return client.get(response.url, {"show": "all"}), upload_id


def confirm(client, upload_id):
    return client.post(reverse("resources_staff:import_confirm", args=[upload_id]))


def statuses(response) -> list[tuple[int, str]]:
    return [(r.number, r.status) for r in response.context["plan"].rows]


def upload_errors(response) -> list[str]:
    return list(response.context["form"].errors["file"])


def snapshot() -> list[tuple]:
    """Everything an import could change, to compare before and after."""
    out = []
    for r in Resource.objects.order_by("pk").prefetch_related("purposes", "audiences", "holdings"):
        fields = [getattr(r, f.attname) for f in Resource._meta.concrete_fields]
        out.append(
            (
                *fields,
                sorted(p.pk for p in r.purposes.all()),
                sorted(a.pk for a in r.audiences.all()),
                sorted((h.site_id, h.shelf_mark, h.copies) for h in r.holdings.all()),
            )
        )
    return out


# --- dry run and import --------------------------------------------------------------------------


def test_it_previews_a_file_without_writing_anything(centre, login, settings):
    existing = make_resource("Le CV du soin", isbn="9780306406157")
    before, terms = snapshot(), SearchTerm.objects.count()
    data = csv_bytes(
        [
            row(titre="Le CV du soin, 2e édition", isbn="0-306-40615-2", cote="EMP 9"),
            row(titre="Annuaire des formations sanitaires", type="brochure"),
        ]
    )

    response, upload_id = preview(login(centre.officer), data)

    assert response.status_code == 200
    assert statuses(response) == [(2, "update"), (3, "new")]
    plan = response.context["plan"]
    assert plan.rows[0].resource_id == existing.pk
    assert "title" in plan.rows[0].changes
    assert snapshot() == before
    assert SearchTerm.objects.count() == terms
    assert bytes(CatalogueImport.objects.get(token=upload_id).data) == data
    assert "Import 2 rows" in response.content.decode()


def test_it_imports_new_rows_and_updates_the_record_with_the_same_isbn(centre, login, settings):
    existing = make_resource("Le CV du soin", isbn="9780306406157")
    client = login(centre.officer)
    data = csv_bytes(
        [
            row(titre="Le CV du soin, 2e édition", isbn="0-306-40615-2", cote="EMP 9"),
            row(
                titre="Annuaire des formations sanitaires",
                type="brochure",
                objectifs="Trouver une formation; find-a-job",
                publics="Jeunes;Demandeurs d'emploi",
                annee="2025",
                langue="Français",
                prix="4,90 €",
                url="www.example.org/annuaire",
                mots_cles="infirmier, aide-soignant",
                cote="FOR 3",
                exemplaires="3",
            ),
        ]
    )
    _response, upload_id = preview(client, data)

    response = confirm(client, upload_id)

    assert response.status_code == 302
    assert response.url == reverse("resources_staff:list")
    assert Resource.objects.count() == 2
    existing.refresh_from_db()
    assert existing.title == "Le CV du soin, 2e édition"
    assert Holding.objects.get(resource=existing).shelf_mark == "EMP 9"
    new = Resource.objects.get(title="Annuaire des formations sanitaires")
    assert new.kind == "leaflet"
    assert (new.year, new.language, new.price) == (2025, "fr", Decimal("4.90"))
    assert new.url == "https://www.example.org/annuaire"
    assert set(new.purposes.values_list("slug", flat=True)) == {"find-a-training", "find-a-job"}
    assert set(new.audiences.values_list("slug", flat=True)) == {"young-people", "job-seekers"}
    holding = Holding.objects.get(resource=new)
    assert (holding.site, holding.shelf_mark, holding.copies) == (centre.alpha, "FOR 3", 3)
    assert SearchTerm.objects.filter(term="sanitaires").exists()
    # The file and its session entry are gone.
    assert kept_uploads() == []
    assert client.session[services_session_key()] == {}


def services_session_key() -> str:
    from resources.staff_views import SESSION_IMPORTS

    return SESSION_IMPORTS


def test_it_normalises_an_isbn_10_to_isbn_13(centre):
    data = csv_bytes(
        [row(isbn="0-306-40615-2"), row(titre="Autre guide", isbn="ISBN 978-2-7654-1005-8")]
    )

    imports.import_catalogue(site=centre.alpha, data=data)

    assert set(Resource.objects.values_list("isbn", flat=True)) == {
        "9780306406157",
        "9782765410058",
    }


def test_it_updates_a_record_without_isbn_found_by_its_title(centre):
    existing = make_resource("Portail des métiers de la santé", kind="website")
    data = csv_bytes(
        [row(titre="Portail des métiers de la santé", type="site web", url="https://example.org")]
    )

    plan = imports.import_catalogue(site=centre.alpha, data=data)

    assert [r.status for r in plan.rows] == ["update"]
    existing.refresh_from_db()
    assert existing.url == "https://example.org"
    assert Resource.objects.count() == 1


def test_it_leaves_this_sites_holdings_alone_when_asked(centre, login):
    existing = make_resource("Le CV du soin", isbn="9780306406157", site=centre.alpha)
    client = login(centre.officer)
    _response, upload_id = preview(
        client,
        csv_bytes(
            [row(titre="Le CV du soin", isbn="9780306406157", cote="AUTRE 1", exemplaires="9")]
        ),
        holdings=False,
    )

    confirm(client, upload_id)

    holding = Holding.objects.get(resource=existing)
    assert (holding.shelf_mark, holding.copies) == ("EMP 1", 1)


# --- bad rows, bad files -------------------------------------------------------------------------


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


def test_it_undoes_every_chunk_written_when_a_later_one_fails(centre, monkeypatch):
    """Rows are written in short transactions of CHUNK_ROWS; someone saving a record with the
    ISBN of the last row meanwhile makes that chunk fail, and the chunks before are undone."""
    existing = make_resource("Le CV du soin", isbn="9780306406157", site=centre.alpha)
    before = snapshot()
    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 2)
    pauses = []

    def someone_saves_the_same_isbn_meanwhile():
        pauses.append(1)
        if len(pauses) == 2:  # after two chunks are written
            make_resource("Saisi à la main", isbn="9782765410058")

    monkeypatch.setattr(imports.writing, "pause", someone_saves_the_same_isbn_meanwhile)
    data = csv_bytes(
        [
            row(titre="Le CV du soin, 2e édition", isbn="9780306406157", cote="NEUF 1"),
            *(row(titre=f"Guide {n}", cote=f"G {n}", publics="Jeunes") for n in range(3)),
            row(titre="Dernier guide", isbn="978-2-7654-1005-8"),
        ]
    )

    with pytest.raises(imports.ImportRefused, match="The catalogue changed during the import"):
        imports.import_catalogue(site=centre.alpha, data=data)

    assert len(pauses) >= 2
    added = Resource.objects.get(title="Saisi à la main")
    assert [r for r in snapshot() if r[0] != added.pk] == before
    existing.refresh_from_db()
    assert existing.title == "Le CV du soin"
    assert Holding.objects.get(resource=existing).shelf_mark == "EMP 1"
    assert not CatalogueImport.objects.exists()


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


# --- export and round trip -----------------------------------------------------------------------


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
    from citedesmetiers.models import AuditEntry

    export(login(centre.officer), "csv")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.subject, entry.site) == (
        centre.officer,
        "export",
        "catalogue",
        centre.alpha,
    )


def test_an_edit_made_during_the_import_is_never_overwritten(centre, monkeypatch):
    """The plan read a record before an officer edited it; writing the plan would overwrite the
    edit: the import is refused instead, and undone."""
    soin = make_resource("Le CV du soin", isbn="9780306406157", site=centre.alpha)
    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 2)
    pauses = []

    def an_officer_edits_a_record_meanwhile():
        pauses.append(1)
        if len(pauses) == 1:  # after the first chunk
            Resource.objects.filter(pk=soin.pk).update(
                summary="Corrigé à la main", updated=timezone.now()
            )

    monkeypatch.setattr(imports.writing, "pause", an_officer_edits_a_record_meanwhile)
    data = csv_bytes(
        [
            *(row(titre=f"Guide {n}") for n in range(2)),
            row(titre="Le CV du soin, 2e édition", isbn="9780306406157"),
        ]
    )

    with pytest.raises(imports.ImportRefused, match="The catalogue changed during the import"):
        imports.import_catalogue(site=centre.alpha, data=data)

    soin.refresh_from_db()
    assert (soin.title, soin.summary) == ("Le CV du soin", "Corrigé à la main")
    assert not Resource.objects.filter(title__startswith="Guide").exists()


def test_an_undone_import_keeps_a_record_a_counsellor_already_handed_out(centre, monkeypatch):
    monkeypatch.setattr(imports.writing, "CHUNK_ROWS", 1)
    visit, _ = reception.check_in(site=centre.alpha, theme_id=centre.alpha.themes.first().pk)
    pauses = []

    def handed_out_then_a_conflict():
        pauses.append(1)
        if len(pauses) == 1:
            guide = Resource.objects.get(title="Guide 0")
            TakeAwayItem.objects.create(visit=visit, resource=guide)
            make_resource("Saisi à la main", isbn="9782765410058")

    monkeypatch.setattr(imports.writing, "pause", handed_out_then_a_conflict)
    data = csv_bytes([row(titre="Guide 0"), row(titre="Dernier", isbn="978-2-7654-1005-8")])

    with pytest.raises(imports.ImportRefused):
        imports.import_catalogue(site=centre.alpha, data=data)

    assert TakeAwayItem.objects.get(visit=visit).resource.title == "Guide 0"
