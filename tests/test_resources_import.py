"""Catalogue spreadsheets: upload, dry-run preview with a row-by-row report, and the all-or-nothing
import de-duplicated on ISBN/ISSN, written in chunks that are undone when a later one fails.

Personas (tests/conftest.py): Dan is the information officer of site Alpha."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reception import services as reception
from reception.models import TakeAwayItem
from resources import imports
from resources.models import (
    CatalogueImport,
    Holding,
    Resource,
    SearchTerm,
)
from resources.staff_views import SESSION_IMPORTS
from tests.catalogue_spreadsheets import (
    _english,  # noqa: F401 (an autouse fixture)
    _var_dir,  # noqa: F401 (an autouse fixture)
    confirm,
    csv_bytes,
    kept_uploads,
    make_resource,
    preview,
    row,
    snapshot,
    statuses,
)


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
    assert client.session[SESSION_IMPORTS] == {}


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
