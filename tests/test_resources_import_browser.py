"""A large catalogue import in a real browser: the page follows the worker by itself (htmx polls,
then reloads the page when the check or the import is done)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from resources import imports
from resources.models import CatalogueImport, Resource
from tests.catalogue_spreadsheets import csv_bytes, row
from tests.conftest import PASSWORD
from tests.test_resources_search import ensure_purposes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WITHIN = 10_000  # ms: a poll every 2 s, on a shared machine


def test_the_page_of_a_large_import_follows_the_worker(new_page, centre, settings):
    settings.IMPORT_WORKER_ROWS = 10
    ensure_purposes()
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", centre.officer.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/catalogue/staff/import/")
    data = csv_bytes([row(titre=f"Guide {n}") for n in range(30)])
    page.set_input_files(
        "input[type=file]", {"name": "guides.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Checking the file (30 rows)")).to_be_visible()

    imports.check(import_id=CatalogueImport.objects.get().pk)  # what the worker does

    page.get_by_role("button", name="Import 30 rows").click(timeout=WITHIN)
    expect(page.get_by_text("Waiting to start")).to_be_visible()

    imports.run(import_id=CatalogueImport.objects.get().pk)

    expect(page.get_by_text("Imported: 30 new, 0 updated, 0 unchanged.")).to_be_visible(
        timeout=WITHIN
    )
    assert Resource.objects.count() == 30
    assert page.js_errors == []
