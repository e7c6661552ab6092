"""What the tests of catalogue spreadsheets share: files made in memory (CSV, XLSX), the upload,
preview and confirmation through HTTP, and a snapshot of everything an import could change.
Its autouse fixtures (English, a temporary VAR_DIR) are imported by each test module."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse

from resources import spreadsheets
from resources.models import (
    CatalogueImport,
    Holding,
    Purpose,
    Resource,
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
