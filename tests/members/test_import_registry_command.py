"""manage.py import_registry: CSV and XLSX sheets, bulk writes, errors, missing columns and --dry-run."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from areas.models import DirtyCommune, Hamlet
from members.models import Member
from teams.models import Team
from tests.factories import CommuneFactory
from tests.members.support_import import csv_bytes, north_team, row, snapshot, xlsx_bytes

pytestmark = pytest.mark.django_db


def big_sheet(world) -> tuple[list[list], int]:
    """10,000 member rows: 1,500 teams of 6 or 7 across the world's communes and 97 more."""
    communes = [world.a1, world.a2, world.b1]
    communes += CommuneFactory.create_batch(60, province=world.a) + CommuneFactory.create_batch(37, province=world.b)
    rows, phone, teams = [], 0, 0
    for position, commune in enumerate(communes):
        # The world's communes already have their commune-level team (A2, B1) or a team at Thôn Đông (A1).
        hamlets = [f"Thôn Số {n}" for n in range(15 if position < 3 else 14)]
        levels = hamlets if position < 3 else ["", *hamlets]
        for hamlet in levels:
            size = 7 if teams < 1000 else 6
            team_name = f"Tổ CNSCĐ {hamlet or 'Xã'} {commune.code}"
            established = "2024-03-15" if teams % 2 else "15/03/2024"
            for seat in range(size):
                rows.append(
                    row(
                        commune_code=commune.code,
                        hamlet_name=hamlet,
                        hamlet_kind="Tổ dân phố" if hamlet else "",
                        team_name=team_name,
                        established_on=established,
                        full_name=f"Người Thử {phone}",
                        phone=f"08{phone:08d}",
                        role=["leader", "Tổ phó"][seat] if seat < 2 else "Thành viên",
                        background=["youth_union", "Hội Nông dân", "teacher"][seat % 3],
                        gender=["Nữ", "male", ""][seat % 3],
                        birth_year=str(1960 + phone % 45),
                    )
                )
                phone += 1
            teams += 1
    return rows, teams


def test_ten_thousand_rows_import_with_bulk_writes(world, tmp_path, django_assert_max_num_queries):
    rows, team_count = big_sheet(world)
    assert (len(rows), team_count) == (10_000, 1_500)
    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes(rows))
    teams_before, members_before, hamlets_before = Team.objects.count(), Member.objects.count(), Hamlet.objects.count()

    out = io.StringIO()
    # Bulk writes: a few dozen statements whatever the size of the file, never one per row. How fast
    # that is belongs to the benchmark, not to a timed test.
    with django_assert_max_num_queries(60):
        call_command("import_registry", str(path), stdout=out, stderr=io.StringIO())

    assert "10000 rows: created 1403 hamlets; teams: created 1500" in out.getvalue()
    assert Team.objects.count() == teams_before + 1500
    assert Member.objects.count() == members_before + 10_000
    assert Hamlet.objects.count() == hamlets_before + 1403
    new_teams = Team.objects.filter(members__phone__startswith="08").distinct()
    assert sorted(set(new_teams.values_list("member_count", flat=True))) == [6, 7]
    assert not new_teams.filter(leader__isnull=True).exists()
    assert not new_teams.exclude(size_status="ok").exists()
    assert new_teams.filter(established_on=dt.date(2024, 3, 15)).count() == 1500
    assert DirtyCommune.objects.values("commune_id").distinct().count() == 100


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_csv_and_xlsx_sheets_import_the_same_registry(world, tmp_path, kind):
    rows = [
        *north_team(),
        # A commune-level team in a new commune of A, its date as an Excel day number (CSV) or a date cell (XLSX).
        row(
            commune_code="00009",
            hamlet_name="",
            hamlet_kind="",
            team_name="Tổ CNSCĐ Xã Chín",
            established_on="45292" if kind == "csv" else dt.date(2024, 1, 1),
            decision_number="",
            full_name="Vũ Thị Lan",
            phone="+84 912 000 009",
            role="leader",
            background="Trưởng thôn, tổ trưởng tổ dân phố",
            birth_year=1975 if kind == "xlsx" else "1975",
        ),
    ]
    CommuneFactory(code="00009", province=world.a)
    path = tmp_path / f"registry.{kind}"
    path.write_bytes(csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows))
    out = io.StringIO()
    call_command("import_registry", str(path), stdout=out, stderr=io.StringIO())

    assert "5 rows: created 1 hamlets; teams: created 2" in out.getvalue()
    north = Team.objects.get(name="Tổ CNSCĐ Thôn Bắc")
    assert (north.commune.code, north.hamlet.name, north.hamlet.kind) == ("00001", "Thôn Bắc", "thon")
    assert (north.established_on, north.decision_number, north.member_count) == (dt.date(2024, 5, 1), "12/QĐ-UBND", 4)
    assert north.leader.phone == "0981000001"
    by_phone = {m.phone: m for m in north.members.all()}
    assert by_phone["0981000002"].role == "deputy" and by_phone["0981000002"].gender == "male"
    assert by_phone["0981000003"].background == "police" and by_phone["0981000003"].birth_year == 1990
    assert by_phone["0981000004"].gender is None and by_phone["0981000004"].birth_year is None
    assert by_phone["0981000001"].joined_on == dt.date(2024, 5, 1)
    ninth = Team.objects.get(commune__code="00009")
    assert ninth.hamlet is None and ninth.established_on == dt.date(2024, 1, 1)
    leader = ninth.members.get()
    assert (leader.phone, leader.role, leader.background) == ("0912000009", "leader", "hamlet_head")


def test_command_reports_errors_and_writes_nothing(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([*north_team(), row(phone="0981000009", role="boss")]))
    before = snapshot()
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 errors in 5 rows"):
        call_command("import_registry", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 6, column role" in err.getvalue()
    assert snapshot() == before


def test_missing_columns_are_refused(world, tmp_path):
    path = tmp_path / "short.csv"
    path.write_bytes(csv_bytes([["00001", "Tổ"]], header=["commune_code", "team_name"]))
    with pytest.raises(CommandError, match="established_on"):
        call_command("import_registry", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_dry_run_counts_and_writes_nothing(world, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes(north_team()))
    before = snapshot()
    out = io.StringIO()
    call_command("import_registry", str(path), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "would create 1 hamlets; teams: would create 1" in out.getvalue()
    assert snapshot() == before
