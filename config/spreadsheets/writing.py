"""Writing cells so that no spreadsheet app runs them, and the import error report."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise

logger = logging.getLogger(__name__)

# --- Writing ------------------------------------------------------------------------------------

# OWASP's CSV-injection rule: a spreadsheet runs a text cell that starts with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters that XML 1.0 (and so XLSX) cannot hold; openpyxl refuses to write them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    """A value safe to write in a CSV or XLSX cell that people open in Excel or LibreOffice.

    Text that starts with = + - @, a tab or a carriage return gets a leading single quote, so that it is
    shown, never run as a formula (this also stops openpyxl from storing it as one). Characters that XML
    cannot hold are dropped first, so that dropping them cannot expose a formula. Numbers, dates and
    booleans are returned unchanged: a negative number stays a number.
    """
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        return value
    value = _XML_ILLEGAL.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    """safe_cell applied to every cell of a row."""
    return [safe_cell(v) for v in values]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": str(self.message)}


def errors_workbook(errors: list[RowError]) -> bytes:
    """An XLSX with one line per error, with Vietnamese headers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Lỗi")
    sheet.append(safe_row(["Dòng", "Cột", "Lỗi"]))
    for error in errors:
        sheet.append(safe_row([error.row, error.column, str(error.message)]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
