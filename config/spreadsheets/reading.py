"""Reading: the one boundary where an upload meets a service."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from config.spreadsheets.delimited import _csv_rows
from config.spreadsheets.limits import (
    TRUSTED,
    SheetError,
    SheetLimits,
    _cell_too_long,
    _damaged,
    _Deadline,
    _letter,
    _not_a_workbook,
    _too_many_rows,
)
from config.spreadsheets.xlsx_package import _locate, _open_zip
from config.spreadsheets.xlsx_sheet import _xlsx_rows

logger = logging.getLogger(__name__)

# --- Reading: the one boundary ------------------------------------------------------------------


def _guarded(rows: Iterator, kind: str) -> Iterator[tuple[int, dict[int, str]]]:
    """The reader's rows; whatever a damaged file makes the parsers raise becomes one clear SheetError."""
    last = 0
    try:
        for number, cells in rows:
            last = number
            yield number, cells
    except (SheetError, MemoryError):
        raise
    except Exception as exc:  # zipfile, expat, int(), openpyxl's helpers: each means "damaged here"
        logger.info("unreadable %s upload near row %d: %s", kind, last + 1, type(exc).__name__)
        raise _damaged(kind, last + 1) from None


def check_upload(content: bytes, filename: str, limits: SheetLimits) -> None:
    """The cheap checks, in the request before anything is stored: the type, the encoding, the zip directory.

    Nothing is unpacked: for XLSX only the zip's directory and the small parts that name the sheet are read.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SheetError(_("The CSV file must be encoded in UTF-8.")) from None
    elif suffix == ".xlsx":
        deadline = _Deadline(limits)
        try:
            _locate(_open_zip(content, limits), deadline)
        except (SheetError, MemoryError):
            raise
        except Exception as exc:  # a damaged directory or part: the same boundary as reading
            logger.info("unreadable xlsx upload: %s", type(exc).__name__)
            raise _not_a_workbook() from None
    else:
        raise SheetError(_("Upload a .csv or .xlsx file."))


def read_rows(
    content: bytes,
    filename: str,
    required: list[str],
    *,
    limits: SheetLimits | None = None,
    known: Iterable[str] = (),
) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Return the header and an iterator of (spreadsheet row number, {column: text}).

    Row numbers are those a person sees in the sheet. The header is the first row that is not blank;
    fully blank rows are skipped. Raises SheetError (a 400 on `file`) for an unreadable file, missing
    columns or a broken limit, here for the header and from the iterator for the rows. `limits` default
    to TRUSTED (an operator's file); uploads pass SheetLimits.from_settings(). A column named in
    `required` or `known` is named by its header in errors, any other by its letter.
    """
    limits = limits or TRUSTED
    deadline = _Deadline(limits)
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        raw = _csv_rows(content, limits)
    elif suffix == ".xlsx":
        raw = _xlsx_rows(content, limits, deadline)
    else:
        raise SheetError(_("Upload a .csv or .xlsx file."))
    raw = _guarded(raw, suffix)
    names = {*required, *known}

    def checked(number: int, cells: dict[int, str], header: list[str]) -> dict[int, str]:
        deadline.check()
        for column, value in cells.items():
            name = header[column - 1] if column <= len(header) else ""
            label = name if name in names else _letter(column)
            if len(value) > limits.cell_chars:
                raise _cell_too_long(limits, number, label)
            if "\x00" in value:
                raise SheetError(_("The cell holds a NUL character, which is not allowed."), row=number, column=label)
        return cells

    header: list[str] = []
    for number, cells in raw:
        deadline.check()
        if cells:
            checked(number, cells, [])
            header = [""] * max(cells)
            for column, value in cells.items():
                header[column - 1] = value.lower()
            break
    else:
        raise SheetError(_("The file is empty."))
    missing = [c for c in required if c not in header]
    if missing:
        raise SheetError(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})

    def rows():
        count = 0
        for number, cells in raw:
            if not cells:
                deadline.check()
                continue
            count += 1
            if count > limits.rows:
                raise _too_many_rows(limits)
            checked(number, cells, header)
            yield number, {name: cells.get(column, "") for column, name in enumerate(header, start=1)}

    return header, rows()
