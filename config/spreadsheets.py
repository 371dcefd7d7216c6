"""Spreadsheets in and out: untrusted CSV and XLSX read within limits, and cells written so that no app runs them.

Reading is the one boundary where an upload meets the service. Every limit (rows, columns, characters
per cell, unpacked size, zip parts, seconds) is checked here, and every way a file can be damaged ends
here as a SheetError: a 400 (413 for size) whose message names the limit or the place, never a cell's
value. XLSX is read by a small streaming reader over the zip rather than openpyxl's load_workbook: each
XML element is dropped as soon as it is read, so memory stays flat whatever the sheet holds, and the
sheet's declared dimension is never used (openpyxl pads every row to it, and keeps a row's cells in
memory until the row ends). openpyxl is still used for its date and coordinate helpers and for writing.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import posixpath
import re
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from config.errors import DomainError

logger = logging.getLogger(__name__)

# Excel's own bounds: a reference beyond them is a damaged file, not a big one.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# No OOXML part nests deeper than a dozen levels, and a registry workbook has a handful of relationships
# and number formats: more is a file built to exhaust memory, read as damaged.
_XML_MAX_DEPTH = 64
_PACKAGE_MAX_ENTRIES = 10_000


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


# --- XLSX: the zip, the package, the parts ------------------------------------------------------

_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_WORKSHEET = "/worksheet"
_REL_SHARED_STRINGS = "/sharedStrings"
_REL_STYLES = "/styles"


def _open_zip(content: bytes, limits: SheetLimits) -> zipfile.ZipFile:
    """The archive, after its directory passed the limits: nothing is unpacked yet.

    zipfile never unpacks more than an entry's declared size (a lying entry fails its CRC), so the
    declared sizes bound what reading can allocate.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise _not_a_workbook() from None
    if len(entries) > limits.zip_parts:
        raise _too_many_parts(limits)
    total = 0
    for entry in entries:
        if entry.file_size > limits.unpacked_bytes:
            raise _too_big_unpacked(limits)
        total += entry.file_size
        if total > limits.unpacked_bytes:
            raise _too_big_unpacked(limits)
    return archive


class _Part:
    """A streaming reader of one XML part: expat calls start and end by local name, no tree is built.

    Text is gathered only inside the elements named in `collect` (they hold text, no children).
    Setting `done` stops the reading after the current chunk.
    """

    collect: frozenset[str] = frozenset()
    done = False

    def start(self, tag: str, attrs: dict) -> None:
        pass

    def end(self, tag: str, text: str | None) -> None:
        pass


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _attr(attrs: dict, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (r:id, or id in strict OOXML)."""
    if name in attrs:
        return attrs[name]
    for key, value in attrs.items():
        if _local(key) == name:
            return value
    return None


def _refuse_dtd(*args) -> None:
    raise ValueError("DTD in an OOXML part")  # OOXML has none; a DTD is how entity bombs start


def _feed(archive: zipfile.ZipFile, name: str, part: _Part, deadline: _Deadline) -> Iterator[None]:
    """Read one part into `part` a chunk at a time, yielding after each chunk (and checking the time)."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    tags: dict[str, str] = {}
    depth = 0
    texts: list[str] | None = None

    def start(name, attrs):
        nonlocal depth, texts
        depth += 1
        if depth > _XML_MAX_DEPTH:
            raise ValueError("XML nested too deep")
        tag = tags.get(name) or tags.setdefault(name, _local(name))
        part.start(tag, attrs)
        if tag in part.collect:
            texts = []

    def end(name):
        nonlocal depth, texts
        depth -= 1
        tag = tags.get(name) or tags.setdefault(name, _local(name))
        text = None
        if texts is not None and tag in part.collect:
            text, texts = "".join(texts), None
        part.end(tag, text)

    def characters(data):
        if texts is not None:
            texts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    with archive.open(name) as stream:
        while not part.done:
            chunk = stream.read(64 * 1024)
            parser.Parse(chunk, not chunk)
            deadline.check()
            yield
            if not chunk:
                break


def _read(archive: zipfile.ZipFile, name: str, part: _Part, deadline: _Deadline) -> _Part:
    for _chunk in _feed(archive, name, part, deadline):
        pass
    return part


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


class _Relationships(_Part):
    def __init__(self, source: str):
        self.source = source
        self.found: dict[str, tuple[str, str]] = {}

    def start(self, tag, attrs):
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = _part_path(self.source, attrs.get("Target", ""))
            self.found[attrs.get("Id", "")] = (attrs.get("Type", ""), target)
            if len(self.found) > _PACKAGE_MAX_ENTRIES:
                raise ValueError("too many relationships")


def _relationships(archive: zipfile.ZipFile, part: str, deadline: _Deadline) -> dict[str, tuple[str, str]]:
    """{relationship id: (type, part path)} of a part ("" for the package), internal targets only."""
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if rels not in archive.NameToInfo:
        return {}
    return _read(archive, rels, _Relationships(part), deadline).found


class _Workbook(_Part):
    def __init__(self):
        self.date1904 = False
        self.sheets: list[str | None] = []

    def start(self, tag, attrs):
        if tag == "workbookPr":
            self.date1904 = (attrs.get("date1904") or "").lower() in ("1", "true")
        elif tag == "sheet":
            self.sheets.append(_attr(attrs, "id"))
            if len(self.sheets) > _PACKAGE_MAX_ENTRIES:
                raise ValueError("too many sheets")
        elif tag == "sheets":
            pass
        elif self.sheets:
            self.done = True  # the sheets are listed: the rest (names, calculation) is not needed


@dataclass(frozen=True)
class _Package:
    sheet: str
    shared_strings: str | None
    styles: str | None
    date1904: bool


def _locate(archive: zipfile.ZipFile, deadline: _Deadline) -> _Package:
    """The workbook's first worksheet and the parts its cells refer to."""
    documents = [p for kind, p in _relationships(archive, "", deadline).values() if kind.endswith(_REL_OFFICE_DOCUMENT)]
    if not documents or documents[0] not in archive.NameToInfo:
        raise _not_a_workbook()
    workbook = _read(archive, documents[0], _Workbook(), deadline)
    rels = _relationships(archive, documents[0], deadline)
    sheets = [rels[i][1] for i in workbook.sheets if i in rels and rels[i][0].endswith(_REL_WORKSHEET)]
    if not sheets or sheets[0] not in archive.NameToInfo:
        raise SheetError(_("The workbook has no worksheet."))

    def first(kind: str) -> str | None:
        paths = [p for t, p in rels.values() if t.endswith(kind) and p in archive.NameToInfo]
        if not paths and _CONTENT_TYPES in archive.NameToInfo:
            # openpyxl names the shared strings and styles in the content types only, not in relationships.
            types = _read(archive, _CONTENT_TYPES, _ContentTypes(), deadline).parts
            paths = [p for t, p in types if t.endswith(_CONTENT_TYPE_OF[kind]) and p in archive.NameToInfo]
        return paths[0] if paths else None

    return _Package(sheets[0], first(_REL_SHARED_STRINGS), first(_REL_STYLES), workbook.date1904)


_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPE_OF = {_REL_SHARED_STRINGS: ".sharedStrings+xml", _REL_STYLES: ".styles+xml"}


class _ContentTypes(_Part):
    def __init__(self):
        self.parts: list[tuple[str, str]] = []

    def start(self, tag, attrs):
        if tag == "Override":
            self.parts.append((attrs.get("ContentType", ""), _part_path("", attrs.get("PartName", ""))))
            if len(self.parts) > _PACKAGE_MAX_ENTRIES:
                raise ValueError("too many content types")


class _SharedStrings(_Part):
    collect = frozenset({"t"})

    def __init__(self):
        self.strings: list[str] = []
        self.texts: list[str] = []
        self.phonetic = 0  # rPh runs are reading aids, not part of the text

    def start(self, tag, attrs):
        if tag == "rPh":
            self.phonetic += 1

    def end(self, tag, text):
        if tag == "t" and not self.phonetic:
            self.texts.append(text or "")
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si":
            self.strings.append("".join(self.texts))
            self.texts = []


class _Styles(_Part):
    def __init__(self):
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        self.formats = dict(BUILTIN_FORMATS)
        self.styles: list[int] = []
        self.section = ""

    def start(self, tag, attrs):
        if tag in ("numFmts", "cellXfs"):
            self.section = tag
        elif tag == "numFmt" and self.section == "numFmts":
            self.formats[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
            if len(self.formats) > _PACKAGE_MAX_ENTRIES:
                raise ValueError("too many number formats")
        elif tag == "xf" and self.section == "cellXfs":
            self.styles.append(int(attrs.get("numFmtId", "0")))

    def end(self, tag, text):
        if tag == self.section:
            self.section = ""
            if tag == "cellXfs":
                self.done = True

    def dates(self) -> tuple[set[int], set[int]]:
        """The cell styles that show a number as a date, and those that show it as a duration."""
        from openpyxl.styles.numbers import is_date_format, is_timedelta_format

        date_ids = {i for i, code in self.formats.items() if is_date_format(code)}
        duration_ids = {i for i in date_ids if is_timedelta_format(self.formats[i])}
        dates = {s for s, f in enumerate(self.styles) if f in date_ids}
        return dates, {s for s, f in enumerate(self.styles) if f in duration_ids}


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


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(content: bytes, limits: SheetLimits) -> Iterator[tuple[int, dict[int, str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError(_("The CSV file must be encoded in UTF-8.")) from None
    reader = csv.reader(io.StringIO(text))
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                size = min(limits.cell_chars, csv.field_size_limit())
                raise _cell_too_long(limits, number + 1, "file", size) from None
            raise _damaged(".csv", number + 1) from None
        number += 1
        cells = {}
        for column, raw in enumerate(record, start=1):
            value = raw.strip()
            if value:
                if column > limits.columns:
                    raise _too_many_columns(limits, number, column)
                cells[column] = value
        yield number, cells


# --- Reading: the one boundary ------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()[:10]
    return str(value).strip()


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
