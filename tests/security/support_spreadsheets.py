"""Spreadsheets for the security suite, built in code: valid registries, and bombs and damaged files.

An XLSX here is assembled part by part with zipfile, so that each test can say exactly what is hostile
about it (a declared dimension, a shared string, a cell reference) while the rest stays a valid workbook.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

from members.registry_import import COLUMNS
from tests.factories import IMPORT_ROW

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_PATH = "xl/worksheets/sheet1.xml"
STRINGS_PATH = "xl/sharedStrings.xml"

# One valid member row of a new hamlet-level team in commune 00001 (A1 of the persona world).
DEFAULTS = IMPORT_ROW


def member(**values) -> list[str]:
    return [(DEFAULTS | values)[column] for column in COLUMNS]


def members(count: int) -> list[list[str]]:
    """`count` valid rows: one team, each member with a phone of their own."""
    return [member(phone=f"098{n:07d}", full_name=f"Thành Viên {n}") for n in range(1, count + 1)]


def csv_file(rows: Iterable[Iterable], header: Iterable = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def letter(column: int) -> str:
    name = ""
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


def text_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def row_xml(number: int, values: Iterable[str]) -> str:
    cells = "".join(text_cell(f"{letter(n)}{number}", v) for n, v in enumerate(values, start=1) if v != "")
    return f'<row r="{number}">{cells}</row>'


def sheet_xml(body: str, dimension: str | None = None, prologue: str = "") -> bytes:
    """A worksheet part around `body` (the rows' XML), with a declared dimension if given."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{prologue}<worksheet xmlns="{MAIN}">{dim}<sheetData>{body}</sheetData></worksheet>'.encode()


def registry_sheet(
    rows: Iterable[Iterable[str]], header: Iterable[str] = COLUMNS, dimension: str | None = None
) -> bytes:
    body = row_xml(1, header) + "".join(row_xml(n, r) for n, r in enumerate(rows, start=2))
    return sheet_xml(body, dimension)


def workbook(
    sheet: bytes,
    *,
    shared_strings: bytes | None = None,
    extra: dict[str, bytes] | None = None,
    without: Iterable[str] = (),
) -> bytes:
    """A minimal valid XLSX holding `sheet` as its only worksheet (parts in `without` left out)."""
    strings_rel = (
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>' if shared_strings else ""
    )
    parts = {
        "[Content_Types].xml": (
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" '
            b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
            '<sheet name="Danh sách" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f"{strings_rel}</Relationships>"
        ).encode(),
        SHEET_PATH: sheet,
    }
    if shared_strings is not None:
        parts[STRINGS_PATH] = shared_strings
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name not in without:
                archive.writestr(name, data)
    return buffer.getvalue()


def shared_strings(*texts: str | bytes) -> bytes:
    items = b"".join(b"<si><t>" + (t if isinstance(t, bytes) else escape(t).encode()) + b"</t></si>" for t in texts)
    return f'<sst xmlns="{MAIN}">'.encode() + items + b"</sst>"


def understate_size(content: bytes, name: str, declared: int) -> bytes:
    """The zip with `name`'s uncompressed size rewritten to `declared` in both headers: a lying directory."""
    data = bytearray(content)
    encoded = name.encode()
    # Local file header: signature, then the uncompressed size at offset 22 and the name at offset 30.
    start = 0
    while (start := data.find(b"PK\x03\x04", start)) != -1:
        length = struct.unpack_from("<H", data, start + 26)[0]
        if bytes(data[start + 30 : start + 30 + length]) == encoded:
            struct.pack_into("<I", data, start + 22, declared)
        start += 4
    # Central directory entry: the uncompressed size at offset 24 and the name at offset 46.
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        length = struct.unpack_from("<H", data, start + 28)[0]
        if bytes(data[start + 46 : start + 46 + length]) == encoded:
            struct.pack_into("<I", data, start + 24, declared)
        start += 4
    return bytes(data)
