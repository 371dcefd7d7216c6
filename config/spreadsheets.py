"""Reading CSV and XLSX uploads as rows of strings, and writing error reports as XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from config.errors import invalid


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": str(self.message)}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()[:10]
    return str(value).strip()


def read_rows(content: bytes, filename: str, required: list[str]) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Return the header and an iterator of (spreadsheet row number, {column: text}).

    Row numbers are those a person sees in the sheet: the header is row 1.
    Fully blank rows are skipped. Raises a 400 DomainError for an unreadable
    file or missing columns.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise invalid(file=_("The CSV file must be encoded in UTF-8.")) from None
        raw_rows: Iterator[list] = iter(csv.reader(io.StringIO(text)))
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a damaged file; all mean "not a workbook"
            raise invalid(file=_("The file is not a readable XLSX workbook.")) from None
        raw_rows = (list(r) for r in workbook.worksheets[0].iter_rows(values_only=True))
    else:
        raise invalid(file=_("Upload a .csv or .xlsx file."))
    try:
        header = [_cell(c).lower() for c in next(raw_rows)]
    except StopIteration:
        raise invalid(file=_("The file is empty.")) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise invalid(file=_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})

    def rows():
        for number, raw in enumerate(raw_rows, start=2):
            values = [_cell(c) for c in raw]
            if not any(values):
                continue
            values += [""] * (len(header) - len(values))
            yield number, dict(zip(header, values, strict=False))

    return header, rows()


def errors_workbook(errors: list[RowError]) -> bytes:
    """An XLSX with one line per error, with Vietnamese headers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Lỗi")
    sheet.append(["Dòng", "Cột", "Lỗi"])
    for error in errors:
        sheet.append([error.row, error.column, str(error.message)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
