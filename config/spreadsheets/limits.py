"""The limits an uploaded sheet is read within, and the errors that name them."""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from config.errors import DomainError
from config.spreadsheets.writing import RowError

logger = logging.getLogger(__name__)

# Excel's own bounds: a reference beyond them is a damaged file, not a big one.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# No OOXML part nests deeper than a dozen levels, and a registry workbook has a handful of relationships
# and number formats: more is a file built to exhaust memory, read as damaged.
_XML_MAX_DEPTH = 64
_PACKAGE_MAX_ENTRIES = 10_000


# --- Limits and errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLimits:
    """How much an untrusted spreadsheet may hold. Each limit is named, with its value, in its error."""

    rows: int
    columns: int
    cell_chars: int
    unpacked_mb: int
    zip_parts: int
    seconds: float

    @classmethod
    def from_settings(cls) -> SheetLimits:
        """The limits for uploads (IMPORT_MAX_* settings), read when called so that they can change."""
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            unpacked_mb=settings.IMPORT_MAX_UNPACKED_MB,
            zip_parts=settings.IMPORT_MAX_ZIP_PARTS,
            seconds=settings.IMPORT_MAX_SECONDS,
        )

    @property
    def unpacked_bytes(self) -> int:
        return self.unpacked_mb * 1024 * 1024


# An operator's own file, read by a management command: only the formats' own bounds apply.
TRUSTED = SheetLimits(
    rows=sys.maxsize,
    columns=EXCEL_MAX_COLUMNS,
    cell_chars=sys.maxsize,
    unpacked_mb=sys.maxsize >> 20,
    zip_parts=sys.maxsize,
    seconds=math.inf,
)


class SheetError(DomainError):
    """A file that cannot be read, or that breaks a limit: a 400 (413 for size) on `file`.

    `row` and `column` say where, when it is one place (row 0, column "file" for the whole file);
    `text` is the message without the place, for an error list that shows the place in its own columns.
    """

    def __init__(self, text, *, row: int = 0, column: str = "file", code: str = "invalid", status_code: int = 400):
        self.row, self.column, self.text = row, column, str(text)
        message = self.text
        if row:
            message = _("Row %(row)d, column %(column)s: %(message)s") % {
                "row": row,
                "column": column,
                "message": self.text,
            }
        super().__init__(fields={"file": [message]}, code=code, status_code=status_code)

    def as_row_error(self) -> RowError:
        return RowError(self.row, self.column, self.text)


def _too_many_rows(limits: SheetLimits) -> SheetError:
    message = _("The file has more than %(max)d data rows; the import limit is %(max)d rows (IMPORT_MAX_ROWS).")
    return SheetError(message % {"max": limits.rows}, code="too_many_rows")


def _too_many_columns(limits: SheetLimits, row: int, column: int) -> SheetError:
    message = _("This row uses more than %(max)d columns; the import limit is %(max)d columns (IMPORT_MAX_COLUMNS).")
    return SheetError(message % {"max": limits.columns}, row=row, column=_letter(column), code="too_many_columns")


def _cell_too_long(limits: SheetLimits, row: int, column: str, size: int | None = None) -> SheetError:
    message = _(
        "The cell is longer than %(max)d characters; the import limit is %(max)d characters a cell "
        "(IMPORT_MAX_CELL_CHARS)."
    )
    return SheetError(message % {"max": size or limits.cell_chars}, row=row, column=column, code="cell_too_long")


def _too_many_cells(limits: SheetLimits) -> SheetError:
    message = _(
        "The sheet holds more than %(max)d cells, blank ones included; the import limit is %(rows)d rows of "
        "%(columns)d columns (IMPORT_MAX_ROWS, IMPORT_MAX_COLUMNS)."
    )
    values = {"max": (limits.rows + 1) * limits.columns, "rows": limits.rows, "columns": limits.columns}
    return SheetError(message % values, code="too_many_cells")


def _too_big_unpacked(limits: SheetLimits) -> SheetError:
    message = _(
        "The workbook unpacks to more than %(max)d MB; the import limit is %(max)d MB unpacked "
        "(IMPORT_MAX_UNPACKED_MB)."
    )
    return SheetError(message % {"max": limits.unpacked_mb}, code="too_large", status_code=413)


def _too_many_parts(limits: SheetLimits) -> SheetError:
    message = _(
        "The XLSX file holds more than %(max)d parts; the import limit is %(max)d parts (IMPORT_MAX_ZIP_PARTS)."
    )
    return SheetError(message % {"max": limits.zip_parts}, code="too_many_parts")


def _not_a_workbook() -> SheetError:
    return SheetError(_("The file is not a readable XLSX workbook."))


def _damaged(kind: str, row: int) -> SheetError:
    if kind == ".csv":
        return SheetError(_("The CSV file is damaged near row %(row)d.") % {"row": row})
    message = _("The XLSX file is damaged near row %(row)d; open it in Excel, save it again and upload it.")
    return SheetError(message % {"row": row})


class _Deadline:
    """The time limit on reading one file, checked after each chunk of XML and each row."""

    def __init__(self, limits: SheetLimits):
        self.limits = limits
        self.at = time.monotonic() + limits.seconds

    def check(self) -> None:
        if time.monotonic() >= self.at:
            message = _(
                "Reading the file took longer than %(max)d seconds; the import limit is %(max)d seconds "
                "(IMPORT_MAX_SECONDS)."
            )
            raise SheetError(message % {"max": self.limits.seconds}, code="too_slow")


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column) if 1 <= column <= EXCEL_MAX_COLUMNS else str(column)
