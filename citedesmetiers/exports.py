"""Spreadsheets we hand out (registrants, the catalogue, figures): one rule for the cells, the
content types and the download response.

Text that a spreadsheet would run as a formula is made inert (CSV/formula injection), CSV carries a
byte-order mark so spreadsheet programs read the accents right, and XLSX drops the control
characters the format cannot hold."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import tablib
from django.http import HttpResponse
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def dataset(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str) -> tablib.Dataset:
    """A sheet whose every cell is neutralised."""
    sheet = tablib.Dataset(headers=list(headers), title=title)
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    return sheet


def encode(sheet: tablib.Dataset, fmt: str) -> bytes:
    """The sheet as CSV (UTF-8 with a byte-order mark) or XLSX bytes."""
    if fmt == "csv":
        return sheet.export("csv").encode("utf-8-sig")
    if fmt == "xlsx":
        clean = tablib.Dataset(headers=sheet.headers, title=sheet.title)
        for row in sheet:
            clean.append([_printable(value) for value in row])
        return clean.export("xlsx", column_width=None)
    raise ValueError(fmt)


def _printable(value: Any) -> Any:
    # Neutralised again once stripped: "\x01=HYPERLINK(…)" would become a formula.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)) if isinstance(value, str) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A small CSV (UTF-8 with a byte-order mark), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    """The response that downloads `content` as `filename` (which ends in `.fmt`)."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
