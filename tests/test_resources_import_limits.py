"""Catalogue spreadsheets that try to exhaust the server: ten million rows, a zip bomb, a zip that
lies about its size, XML entities (billion laughs, external entities). Each is refused quickly,
with little memory and a clear message, and nothing is written.

Personas (tests/conftest.py): Dan is the information officer of site Alpha."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from defusedxml import DefusedXmlException

from resources import spreadsheets
from resources.models import CatalogueImport, Resource
from tests.catalogue_spreadsheets import upload, upload_errors, xlsx_bytes

HEADER = ["titre", "type", "objectifs"]
ROW = ["Guide des métiers du soin", "livre", "Trouver un emploi"]
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def workbook(rows: int = 2) -> bytes:
    return xlsx_bytes(HEADER, [ROW] * rows)


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    """The same workbook with one member's content replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = content if info.filename == name else source.read(info.filename)
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(SHEET).decode("utf-8")


def refused(data: bytes, centre) -> str:
    """The check's refusal, measured: it must come fast and with little memory."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(spreadsheets.SpreadsheetError) as refusal:
            spreadsheets.plan_import(data, site=centre.alpha)
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Reading the whole of such a file takes minutes and gigabytes; stopping early, seconds.
    assert elapsed < 20, f"took {elapsed:.1f} s"
    assert peak < 64 * 1024 * 1024, f"peak {peak / 1024 / 1024:.0f} MB"
    assert not Resource.objects.exists()
    return str(refusal.value)


# --- too many rows --------------------------------------------------------------------------------


def test_a_csv_of_ten_million_rows_is_refused_at_the_first_row_past_the_limit(centre, settings):
    settings.IMPORT_MAX_BYTES = 128 * 1024 * 1024
    data = b"titre,type,objectifs\n" + b"G,livre,X\n" * 10_000_000

    message = refused(data, centre)

    assert message == (
        f"This file has more than {spreadsheets.MAX_ROWS} rows; at most "
        f"{spreadsheets.MAX_ROWS} can be imported at once."
    )


def test_a_csv_of_blank_lines_is_refused_without_reading_them_all(centre, settings):
    settings.IMPORT_MAX_BYTES = 64 * 1024 * 1024
    data = b"titre,type,objectifs\nGuide,livre,Trouver un emploi\n" + b"\n,,\n" * 10_000_000

    assert "most of them empty" in refused(data, centre)


def test_a_workbook_whose_rows_jump_to_row_ten_million_is_refused(centre):
    # A few hundred bytes that a reader pads with ten million empty rows.
    data = workbook()
    xml = sheet_xml(data).replace('<row r="3"', '<row r="10000000"')
    xml = xml.replace('r="A3"', 'r="A10000000"').replace('r="B3"', 'r="B10000000"')
    xml = xml.replace('r="C3"', 'r="C10000000"')
    assert 'r="10000000"' in xml
    bomb = with_member(data, SHEET, xml.encode())

    assert "most of them empty" in refused(bomb, centre)


def test_a_file_with_hundreds_of_columns_is_refused(centre):
    data = (",".join(HEADER + [f"x{n}" for n in range(300)]) + "\n").encode()
    data += (",".join(ROW + [""] * 300) + "\n").encode()

    with pytest.raises(spreadsheets.SpreadsheetError, match="more than 200 columns"):
        spreadsheets.plan_import(data, site=centre.alpha)


# --- zip bombs ------------------------------------------------------------------------------------


def test_a_workbook_that_expands_a_thousand_times_is_refused(centre, login):
    xml = sheet_xml(workbook())
    padded = xml.replace("<sheetData>", "<sheetData>" + " " * (40 * 1024 * 1024), 1)
    bomb = with_member(workbook(), SHEET, padded.encode())
    assert len(bomb) < 200 * 1024  # 40 MB of XML in a few dozen KB

    (message,) = upload_errors(upload(login(centre.officer), bomb, name="bomb.xlsx"))

    assert message == "This workbook is too large once opened. Split it in two."
    assert not CatalogueImport.objects.exists()


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size a zip declares for one member (local and central headers)."""
    data = bytearray(data)
    encoded = name.encode()
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_length]) == encoded:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_a_workbook_that_lies_about_how_much_it_expands_is_refused(centre):
    xml = sheet_xml(workbook())
    padded = xml.replace("<sheetData>", "<sheetData>" + " " * (40 * 1024 * 1024), 1)
    liar = _declare_size(with_member(workbook(), SHEET, padded.encode()), SHEET, 1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo(SHEET).file_size == 1000

    assert refused(liar, centre) == "This file is not a readable Excel workbook (.xlsx)."


# --- XML entities ---------------------------------------------------------------------------------

LAUGHS = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>\n"
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>"
    '<row r="1"><c r="A1" t="inlineStr"><is><t>titre</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>type</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>objectifs</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>livre</t></is></c>'
    '<c r="C2" t="inlineStr"><is><t>Trouver un emploi</t></is></c></row>'
    "</sheetData></worksheet>"
)
EXTERNAL = LAUGHS.split("<!DOCTYPE")[0] + (
    '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + LAUGHS.split("]>\n", 1)[1].replace("&lol9;", "&xxe;")
)
ENTITIES_REFUSED = "This workbook declares XML entities"


@pytest.mark.parametrize(
    "xml",
    [LAUGHS.format(encoding="UTF-8").encode(), EXTERNAL.format(encoding="UTF-8").encode()],
    ids=["billion-laughs", "external-entity"],
)
def test_a_workbook_with_xml_entities_is_refused_with_a_clear_message(centre, login, xml):
    bomb = with_member(workbook(), SHEET, xml)

    (message,) = upload_errors(upload(login(centre.officer), bomb, name="catalogue.xlsx"))

    assert message.startswith(ENTITIES_REFUSED)
    assert not CatalogueImport.objects.exists()
    assert not Resource.objects.exists()


def test_entities_in_utf_16_are_refused_by_defusedxml_itself(centre):
    # Bytes that do not spell "<!ENTITY" in ASCII: the second guard, the XML parser, refuses them.
    xml = LAUGHS.format(encoding="UTF-16").encode("utf-16")
    assert b"<!ENTITY" not in xml
    bomb = with_member(workbook(), SHEET, xml)

    with pytest.raises(spreadsheets.SpreadsheetError, match=ENTITIES_REFUSED):
        spreadsheets.plan_import(bomb, site=centre.alpha)


def test_openpyxl_parses_with_defusedxml():
    bomb = with_member(workbook(), SHEET, LAUGHS.format(encoding="UTF-8").encode())

    assert openpyxl.DEFUSEDXML
    with pytest.raises(ValueError, match="Unable to read workbook") as refusal:
        openpyxl.load_workbook(io.BytesIO(bomb), read_only=True)
    assert isinstance(refusal.value.__cause__, DefusedXmlException)
