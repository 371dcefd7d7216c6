"""Spreadsheets in and out: untrusted CSV and XLSX read within limits, and cells written so that no app runs them.

Reading is the one boundary where an upload meets the service. Every limit (rows, columns, characters
per cell, unpacked size, zip parts, seconds) is checked here, and every way a file can be damaged ends
here as a SheetError: a 400 (413 for size) whose message names the limit or the place, never a cell's
value. XLSX is read by a small streaming reader over the zip rather than openpyxl's load_workbook: each
XML element is dropped as soon as it is read, so memory stays flat whatever the sheet holds, and the
sheet's declared dimension is never used (openpyxl pads every row to it, and keeps a row's cells in
memory until the row ends). openpyxl is still used for its date and coordinate helpers and for writing.
"""

from config.spreadsheets.limits import EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS, TRUSTED, SheetError, SheetLimits
from config.spreadsheets.reading import check_upload, read_rows
from config.spreadsheets.writing import FORMULA_PREFIXES, RowError, errors_workbook, safe_cell, safe_row

__all__ = [
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "FORMULA_PREFIXES",
    "TRUSTED",
    "RowError",
    "SheetError",
    "SheetLimits",
    "check_upload",
    "errors_workbook",
    "read_rows",
    "safe_cell",
    "safe_row",
]
