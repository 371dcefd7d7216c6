"""Shared helpers of the registry import tests: sheet rows, CSV/XLSX bytes, the service run, snapshots, uploads."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from accounts.models import User
from areas.models import DirtyCommune, Hamlet
from config.spreadsheets import read_rows
from members.models import Member
from members.registry_import import COLUMNS, REQUIRED_COLUMNS, registry_import
from teams.models import Team
from tests.factories import IMPORT_ROW

URL = "/api/v1/imports/"


DEFAULTS = IMPORT_ROW


def row(**values) -> list:
    return [(DEFAULTS | values)[column] for column in COLUMNS]


def csv_bytes(rows, header=COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows, header=COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(rows, **kwargs):
    """Import rows through the CSV reader, with English messages so that tests can read them."""
    _, parsed = read_rows(csv_bytes(rows), "registry.csv", REQUIRED_COLUMNS)
    with translation.override("en"):
        return registry_import(rows=list(parsed), **kwargs)


def pairs(result) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in result.errors]


def snapshot() -> dict:
    """Every row of every table the import may touch."""
    models = (Hamlet, Team, Member, DirtyCommune, User)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def north_team(first_phone: int = 1) -> list[list]:
    """A new hamlet-level team in A1 (at a new hamlet) with a leader, a deputy and two members."""
    return [
        row(full_name="Trần Thị Mai", phone=f"098100000{first_phone}", role="Tổ trưởng"),
        row(full_name="Lê Văn Nam", phone=f"098100000{first_phone + 1}", role="deputy", gender="Nam"),
        row(full_name="Phạm Thu Hà", phone=f"098100000{first_phone + 2}", background="Công an"),
        row(full_name="Đỗ Minh Đức", phone=f"098100000{first_phone + 3}", gender="", birth_year=""),
    ]


def upload(client, content: bytes, name: str = "registry.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")
