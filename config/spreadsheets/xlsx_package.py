"""XLSX: the zip, the package and its parts (workbook, relationships, shared strings, styles), read streaming."""

from __future__ import annotations

import io
import logging
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from config.spreadsheets.limits import (
    _PACKAGE_MAX_ENTRIES,
    _XML_MAX_DEPTH,
    SheetError,
    SheetLimits,
    _Deadline,
    _not_a_workbook,
    _too_big_unpacked,
    _too_many_parts,
)

logger = logging.getLogger(__name__)

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
