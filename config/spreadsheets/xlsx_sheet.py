"""XLSX: a worksheet's rows, streamed one element at a time."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from config.spreadsheets.limits import (
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    SheetLimits,
    _Deadline,
    _too_many_cells,
    _too_many_columns,
)
from config.spreadsheets.xlsx_package import _feed, _locate, _open_zip, _Part, _read, _SharedStrings, _Styles

logger = logging.getLogger(__name__)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()[:10]
    return str(value).strip()


_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?[0-9]+$")


def _column_of(ref: str | None, previous: int) -> int:
    if ref is None:
        column = previous + 1
    else:
        match = _CELL_REF.match(ref)
        if match is None:
            raise ValueError("bad cell reference")
        column = 0
        for letter in match[1].upper():
            column = column * 26 + ord(letter) - 64
    # Excel writes a row's cells left to right, each once; anything else is damage or a loop of duplicates.
    if not previous < column <= EXCEL_MAX_COLUMNS:
        raise ValueError("cell out of order or beyond the sheet")
    return column


def _row_of(ref: str | None, previous: int) -> int:
    row = previous + 1 if ref is None else int(ref)
    if not previous < row <= EXCEL_MAX_ROWS:
        raise ValueError("row out of order or beyond the sheet")
    return row


def _number(text: str):
    # As openpyxl reads a number: an int unless it has a point or an exponent. "abc" raises ValueError.
    text = text.strip()
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


class _Sheet(_Part):
    """The cells of a worksheet as (row number, {column: text}), blank cells left out."""

    collect = frozenset({"v", "t"})

    def __init__(self, limits: SheetLimits, strings: list[str], dates: set[int], durations: set[int], epoch):
        self.limits, self.strings, self.dates, self.durations, self.epoch = limits, strings, dates, durations, epoch
        # Every cell element costs time to read, blank or not: no more than the limits' rows of columns.
        self.max_cells = (limits.rows + 1) * limits.columns
        self.cell_count = 0
        self.ready: list[tuple[int, dict[int, str]]] = []
        self.row = self.column = 0
        self.cells: dict[int, str] = {}
        self.cell: list | None = None  # [type, style, cached value, inline texts]
        self.phonetic = 0

    def start(self, tag, attrs):
        if tag == "c":
            self.cell_count += 1
            if self.cell_count > self.max_cells:
                raise _too_many_cells(self.limits)
            self.column = _column_of(attrs.get("r"), self.column)
            style = attrs.get("s")
            self.cell = [attrs.get("t", "n"), int(style) if style else 0, None, []]
        elif tag == "row":
            self.row, self.column, self.cells = _row_of(attrs.get("r"), self.row), 0, {}
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag, text):
        cell = self.cell
        if tag == "v" and cell is not None:
            cell[2] = text
        elif tag == "t" and cell is not None and not self.phonetic:
            cell[3].append(text or "")
        elif tag == "c" and cell is not None:
            self.cell = None
            value = _text(self.value(*cell))
            if value:
                if self.column > self.limits.columns:
                    raise _too_many_columns(self.limits, self.row, self.column)
                self.cells[self.column] = value
        elif tag == "row":
            self.ready.append((self.row, self.cells))
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "sheetData":
            self.done = True  # what follows the cells (merges, print setup) is not read

    def value(self, kind: str, style: int, value: str | None, inline: list[str]):
        """A cell's value as openpyxl reads it with data_only: cached results, dates as dates."""
        if kind == "inlineStr":
            return "".join(inline)
        if not value:
            return None  # no cached result (a formula never calculated), as openpyxl reads it
        if kind == "s":
            return self.strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(value)
        if kind in ("n", ""):
            number = _number(value)
            if style in self.dates:
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(number, self.epoch, timedelta=style in self.durations)
                except (OverflowError, ValueError):
                    return number  # a date Excel cannot show: the number, and the date check says no
            return number
        return value  # "str" (a formula's text result), "e" (an error such as #N/A)


def _xlsx_rows(content: bytes, limits: SheetLimits, deadline: _Deadline) -> Iterator[tuple[int, dict[int, str]]]:
    """(row number, {column: text}) for each row of the first worksheet; blank cells are left out."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    archive = _open_zip(content, limits)
    package = _locate(archive, deadline)
    strings = _SharedStrings()
    if package.shared_strings:
        _read(archive, package.shared_strings, strings, deadline)
    styles = _Styles()
    if package.styles:
        _read(archive, package.styles, styles, deadline)
    epoch = CALENDAR_MAC_1904 if package.date1904 else CALENDAR_WINDOWS_1900
    sheet = _Sheet(limits, strings.strings, *styles.dates(), epoch)
    for _chunk in _feed(archive, package.sheet, sheet, deadline):
        yield from sheet.ready
        sheet.ready = []
