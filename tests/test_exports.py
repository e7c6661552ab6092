"""One rule for every spreadsheet we write: a text cell that would run as a formula is inert."""

import io

import openpyxl
import pytest

from citedesmetiers import exports
from citedesmetiers.exports import neutralise


@pytest.mark.parametrize("text", ["=HYPERLINK(1)", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_made_inert(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["", "CV", "2 déc.", 12, None, 3.5])
def test_anything_else_is_left_as_it_is(value):
    assert neutralise(value) == value


def xlsx_cells(value: str) -> list:
    content = exports.encode(exports.dataset(["a"], [[value]], title="t"), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows(min_row=2) for cell in row]


@pytest.mark.parametrize("value", ['\x01=HYPERLINK("http://x","y")', "\x1f\x02+1", "=1+1"])
def test_a_formula_behind_control_characters_stays_inert_in_xlsx(value):
    # XLSX cannot hold control characters: once they are stripped, what is left is made inert.
    (cell,) = xlsx_cells(value)
    assert cell.data_type != "f"
    assert cell.value.startswith("'")


def test_csv_starts_with_a_byte_order_mark_and_neutralises():
    content = exports.encode(exports.dataset(["a"], [["=1+1"], ["é"]], title="t"), "csv")
    assert content.startswith("\ufeff".encode())
    assert content.decode("utf-8-sig").splitlines() == ["a", "'=1+1", "é"]
