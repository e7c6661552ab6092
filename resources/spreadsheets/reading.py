"""Reading a catalogue spreadsheet, row by row, within limits that hold whatever the file says.

The rows are streamed: a CSV line by line, an XLSX with openpyxl's read-only mode, so memory does
not grow with the file. Reading stops at the first row past MAX_ROWS (or past twice that many
lines, empty ones included), so a file of ten million rows costs as little as one of 50,001.

An XLSX is a zip of XML files. Before openpyxl opens one, every member is decompressed once, in
chunks: what it expands to (declared, then actually) must stay under a ratio of the file's size
and an absolute ceiling (a zip bomb is refused), and no member may declare XML entities (no
spreadsheet needs them; “billion laughs” and external entities do). openpyxl itself parses with
defusedxml, which refuses them a second time, whatever the encoding of the XML."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from .columns import COLUMN_BY_NAME, COLUMNS, CONTROL, HEADERS, cell, header_key

if not openpyxl.DEFUSEDXML:  # openpyxl reads OPENPYXL_DEFUSEDXML and whether it is installed
    raise ImproperlyConfigured("openpyxl must parse with defusedxml: install it, keep it on.")

MAX_ROWS = 50_000
# Lines read at most, empty ones included: beyond, the file is mostly empty rows.
MAX_LINES = 2 * MAX_ROWS
MAX_COLUMNS = 200
# What an XLSX may expand to: at most this many times its own size (a real catalogue measured
# 13×) — but always 10 MB, for small files — and never more than this many times the largest
# file accepted.
MAX_XLSX_RATIO = 100
MIN_XLSX_EXPANSION = 10 * 1024 * 1024
MAX_XLSX_EXPANSION = 40
MAX_XLSX_MEMBERS = 500
_CHUNK = 1024 * 1024
_ENTITY_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


class SpreadsheetError(Exception):
    """The file as a whole cannot be used; the message says why, for the officer."""


@dataclass
class Table:
    """A spreadsheet opened: its recognised columns, and its rows as (number, cells), the header
    being row 1. `rows` is a list once read, an iterator while streamed; `estimate` counts the
    rows cheaply (lines, or <row> elements), to choose where to read them."""

    columns: dict[str, int]
    ignored: list[str]
    rows: Any
    estimate: int = 0


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def detect_format(data: bytes) -> str:
    """What the file is, from its content (the name's extension is only a hint people get wrong)."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(
            _("This is an old Excel file (.xls). Save it as .xlsx or as CSV, then upload it again.")
        )
    return "csv"


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        _("This file has more than %(max)s rows; at most %(max)s can be imported at once.")
        % {"max": MAX_ROWS}
    )


def _too_many_lines() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "This file has more than %(max)s lines, most of them empty. Delete the empty rows "
            "at its end, then upload it again."
        )
        % {"max": MAX_LINES}
    )


def _entities() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "This workbook declares XML entities, which no spreadsheet needs and which can hide "
            "an attack: it was refused. Open it in your spreadsheet program, save it again as "
            ".xlsx (or as CSV), then upload it again."
        )
    )


def _unreadable_workbook() -> SpreadsheetError:
    return SpreadsheetError(_("This file is not a readable Excel workbook (.xlsx)."))


def _workbook_error(error: Exception) -> SpreadsheetError:
    """openpyxl wraps what defusedxml raised (an entity) in errors of its own."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return _entities()
        cause = cause.__cause__ or cause.__context__
    return _unreadable_workbook()


# --- CSV -----------------------------------------------------------------------------------------


def _not_text() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "This file is not readable text: it is binary, or in an encoding other than "
            "UTF-8 or Windows-1252 (Latin-1). Save it as “CSV UTF-8” or as .xlsx."
        )
    )


def _text_chunks(data: bytes, encoding: str, start: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)()
    for offset in range(start, len(data), _CHUNK):
        yield decoder.decode(data[offset : offset + _CHUNK])
    yield decoder.decode(b"", final=True)


def _readable(data: bytes, encoding: str, start: int) -> bool:
    """The whole file decodes, and holds no control character: checked in chunks, so that the
    text of a large file never sits in memory at once. UnicodeDecodeError if it does not decode."""
    return not any(CONTROL.search(text) for text in _text_chunks(data, encoding, start))


def _csv_encoding(data: bytes) -> str:
    """The encoding of a CSV file (a codec that skips its byte-order mark, if it has one)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            if _readable(data, "utf-8", len(codecs.BOM_UTF8)):
                return "utf-8-sig"
        except UnicodeDecodeError as error:
            raise SpreadsheetError(
                _("This file says it is UTF-8 but is not. Save it again as “CSV UTF-8”.")
            ) from error
        raise _not_text()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            if _readable(data, "utf-16", 0):
                return "utf-16"
        except UnicodeDecodeError as error:
            raise SpreadsheetError(_("This UTF-16 file is damaged.")) from error
        raise _not_text()
    # Excel on Windows writes CSV in Windows-1252; Latin-1 reads any byte.
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            if _readable(data, encoding, 0):
                return encoding
            raise _not_text()
        except UnicodeDecodeError:
            continue
    raise _not_text()


def _delimiter(header: str) -> str:
    """French spreadsheets write CSV with “;”; others with “,” or tabs. The header tells."""
    counts = {delimiter: header.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """The header (row 1), then each line with cells (blank lines are skipped and not numbered,
    as before); a line with more cells than the header refuses the file."""
    # BytesIO shares the bytes it is given: the file is not copied.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=_csv_encoding(data), newline="")
    first = stream.readline(64 * 1024)
    delimiter = _delimiter(first)
    stream.seek(0)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = next(reader, [])
        yield 1, header
        number = 1
        for line, row in enumerate(reader, start=2):
            if line > MAX_LINES + 1:
                raise _too_many_lines()
            if not row:
                continue
            if len(row) > len(header):
                raise SpreadsheetError(
                    _(
                        "Row %(row)s has %(cells)s cells but the first row names only "
                        "%(columns)s columns. Check for a stray separator in that row."
                    )
                    % {"row": line, "cells": len(row), "columns": len(header)}
                )
            number += 1
            yield number, row
    except csv.Error as error:
        raise SpreadsheetError(
            _("This CSV file could not be read: %(error)s.") % {"error": error}
        ) from error


# --- XLSX ----------------------------------------------------------------------------------------


def _check_workbook(data: bytes) -> int:
    """Refuse a workbook that expands too much or declares XML entities; return the number of
    rows its sheets hold (an estimate: the <row> elements seen)."""
    ceiling = min(
        MAX_XLSX_EXPANSION * settings.IMPORT_MAX_BYTES,
        max(MIN_XLSX_EXPANSION, MAX_XLSX_RATIO * len(data)),
    )
    too_large = SpreadsheetError(_("This workbook is too large once opened. Split it in two."))
    rows = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_XLSX_MEMBERS:
                raise _unreadable_workbook()
            if sum(member.file_size for member in members) > ceiling:
                raise too_large
            expanded = 0
            for member in members:
                sheet = member.filename.startswith("xl/worksheets/")
                with archive.open(member) as content:
                    tail = b""
                    while chunk := content.read(_CHUNK):
                        expanded += len(chunk)
                        if expanded > ceiling:
                            raise too_large
                        window = tail + chunk
                        if any(mark in window for mark in _ENTITY_MARKS):
                            raise _entities()
                        if sheet:
                            rows += len(_ROW_TAG.findall(chunk))
                        tail = chunk[-16:]
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as error:
        # Damaged, truncated, encrypted (RuntimeError), or a compression method zipfile does not
        # implement (NotImplementedError), which openpyxl could not read either.
        raise _unreadable_workbook() from error
    return rows


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the workbook's active sheet, numbered as the spreadsheet shows them; cells
    right of the header's last one are not read (nothing names them)."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.active
        # The <dimension> a file declares may be wrong or huge: read the cells as they are.
        sheet.reset_dimensions()
        first = sheet.iter_rows(max_row=1, values_only=True)
        header = list(next(first, ()))
        first.close()
    except Exception as error:
        # openpyxl raises many kinds of errors on damaged or foreign files; all mean the same here.
        raise _workbook_error(error) from error
    try:
        yield 1, header
        width = min(len(header), MAX_COLUMNS + 1)
        rows = sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True)
        for number, cells in enumerate(rows, start=2):
            # Rows missing from the file come back empty (a sheet may jump to row 10,000,000).
            if number > MAX_LINES + 1:
                raise _too_many_lines()
            yield number, list(cells)
    except SpreadsheetError:
        raise
    except Exception as error:
        raise _workbook_error(error) from error
    finally:
        workbook.close()


# --- both ----------------------------------------------------------------------------------------


def _limited(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """The rows with something in them; SpreadsheetError at the first one past MAX_ROWS."""
    count = 0
    for number, cells in rows:
        if any(cell(value) for value in cells):
            count += 1
            if count > MAX_ROWS:
                raise _too_many_rows()
            yield number, cells


def estimate_rows(data: bytes, fmt: str | None = None) -> int:
    """How many rows the file has, counted cheaply (its lines, or the <row> elements of a
    workbook, which is checked for zip bombs and XML entities on the way), header excluded.
    SpreadsheetError if it is too large, empty, or not a safe workbook."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise SpreadsheetError(
            _("This file is %(size)s; the largest file accepted is %(limit)s. Split it in two.")
            % {"size": human_size(len(data)), "limit": human_size(limit)}
        )
    if not data or data.isspace():  # (isspace stops at the first other byte; strip copies)
        raise SpreadsheetError(_("This file is empty."))
    if (fmt or detect_format(data)) == "csv":
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
    else:
        lines = _check_workbook(data)
    return max(0, lines - 1)


def open_table(data: bytes, fmt: str | None = None) -> Table:
    """A spreadsheet's columns, recognised, and its rows as a stream. SpreadsheetError for a file
    that cannot be used at all: too large, unreadable, required columns missing."""
    fmt = fmt or detect_format(data)
    estimate = estimate_rows(data, fmt)
    raw = _csv_rows(data) if fmt == "csv" else _xlsx_rows(data)
    _number, headers = next(raw)
    if not any(cell(header) for header in headers):
        raise SpreadsheetError(_("This file is empty: the first row must name the columns."))
    if len(headers) > MAX_COLUMNS and any(cell(header) for header in headers[MAX_COLUMNS:]):
        raise SpreadsheetError(_("This file has more than %(max)s columns.") % {"max": MAX_COLUMNS})
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers[:MAX_COLUMNS]):
        column = COLUMN_BY_NAME.get(header_key(header))
        if column is None:
            if cell(header):
                ignored.append(cell(header))
            continue
        if column.key in columns:
            raise SpreadsheetError(
                _("The column “%(column)s” appears twice. Keep only one.")
                % {"column": column.header}
            )
        columns[column.key] = index
    missing = [column.header for column in COLUMNS if column.required and column.key not in columns]
    if missing:
        raise SpreadsheetError(
            _(
                "Required columns are missing: %(missing)s. The first row must name the "
                "columns, for example: %(example)s."
            )
            % {"missing": ", ".join(missing), "example": ", ".join(HEADERS.values())}
        )
    return Table(columns=columns, ignored=ignored, rows=_limited(raw), estimate=estimate)


def _no_rows() -> SpreadsheetError:
    return SpreadsheetError(_("This file names the columns but has no rows."))


def check_file(data: bytes, fmt: str | None = None) -> Table:
    """What the upload of a small file checks: it opens, names its columns and has a first row.
    The other rows are read when the file is checked row by row. (openpyxl reads a whole sheet
    to open it when the sheet does not declare its size: for a large workbook, that is left to
    the check in a worker, after `estimate_rows`.)"""
    table = open_table(data, fmt)
    if next(table.rows, None) is None:
        raise _no_rows()
    return table


def read_table(data: bytes, fmt: str | None = None) -> Table:
    """The whole table, its rows read into a list."""
    table = open_table(data, fmt)
    table.rows = list(table.rows)
    if not table.rows:
        raise _no_rows()
    return table
