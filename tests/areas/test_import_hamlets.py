"""manage.py import_hamlets: per-row errors, all or nothing, idempotent, CSV and XLSX."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from areas.models import Hamlet

pytestmark = pytest.mark.django_db


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["commune_code", "name", "kind"])
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["commune_code", "name", "kind"])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


GOOD = [
    ("00001", "Thôn Một", "thon"),
    ("00001", "Tổ dân phố 2", "Tổ dân phố"),
    ("00002", "Ấp Ba", "ap"),
    ("00003", "Bản Bốn", "ban"),
]


def run(path: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_hamlets", str(path), stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_imports_and_reimport_changes_nothing(world, tmp_path, writer):
    path = writer(tmp_path / f"hamlets{'.csv' if writer is write_csv else '.xlsx'}", GOOD)
    before = Hamlet.objects.count()
    assert "created 4" in run(path)
    snapshot = list(Hamlet.objects.order_by("id").values())
    assert len(snapshot) == before + 4
    assert "created 0, updated 0, unchanged 4" in run(path)
    assert list(Hamlet.objects.order_by("id").values()) == snapshot
    assert Hamlet.objects.get(name="Tổ dân phố 2").kind == "to_dan_pho"


def test_one_bad_row_writes_nothing_and_names_row_and_column(world, tmp_path):
    rows = [
        *GOOD,
        ("99999", "Thôn Lạc", "thon"),
        ("00001", "thôn MỘT", "thon"),
        ("00002", "", "ap"),
        ("00002", "X", "??"),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = Hamlet.objects.count()
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 errors"):
        call_command("import_hamlets", str(path), stdout=io.StringIO(), stderr=err)
    report = err.getvalue()
    assert "row 6, column commune_code" in report
    assert "row 7, column name" in report  # same name as row 2 after name matching
    assert "row 8, column name" in report
    assert "row 9, column kind" in report
    assert Hamlet.objects.count() == before


def test_missing_columns_are_reported(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("commune,name\n00001,Thôn\n", encoding="utf-8")
    with pytest.raises(CommandError, match="kind"):
        call_command("import_hamlets", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_existing_hamlet_in_another_spelling_is_not_duplicated(world, tmp_path):
    path = write_csv(tmp_path / "h.csv", [("00001", "THÔN ĐÔNG", "thon")])
    assert "unchanged 1" in run(path)
    assert Hamlet.objects.filter(commune=world.a1).count() == 1


def test_a_kind_changed_by_import_moves_updated_at(world, tmp_path):
    """bulk_update skips auto_now: the import sets updated_at itself, so the body and the list's ETag change."""
    run(write_csv(tmp_path / "first.csv", GOOD))
    hamlet = Hamlet.objects.get(name="Thôn Một")
    changed = [("00001", "Thôn Một", "xom"), *GOOD[1:]]
    assert "updated 1" in run(write_csv(tmp_path / "second.csv", changed))
    again = Hamlet.objects.get(pk=hamlet.pk)
    assert again.kind == "xom"
    assert again.updated_at > hamlet.updated_at
