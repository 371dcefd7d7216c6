"""The registry import: per-row errors, all or nothing, idempotent upserts, bulk speed, the command and the API."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from accounts.models import User
from areas.models import DirtyCommune, Hamlet
from config.spreadsheets import read_rows
from members.models import ImportJob, ImportStatus, Member
from members.registry_import import COLUMNS, REQUIRED_COLUMNS, parse_date, registry_import
from members.registry_import.jobs import _job_lock
from members.tasks import run_import
from teams.models import Team
from tests.factories import IMPORT_ROW, CommuneFactory, TeamFactory

pytestmark = pytest.mark.django_db

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


# --- The service and the command --------------------------------------------------------------------


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


def test_same_file_twice_changes_nothing(world):
    rows = [
        *north_team(),
        # The world's team at Thôn Đông in another spelling, its leader's phone written with +84.
        row(
            hamlet_name="THÔN  ĐÔNG",
            team_name="tổ cnscđ thôn đông",
            established_on=world.teams.a1.established_on.strftime("%d/%m/%Y"),
            decision_number="",
            full_name="Trưởng Tổ Đông",
            phone="+84 911 000 001",
            role="leader",
        ),
    ]
    first = run(rows)
    assert first.ok, first.errors
    assert (first.teams_created, first.teams_updated, first.members_created, first.members_updated) == (1, 1, 4, 1)
    before = snapshot()

    second = run(rows)

    assert second.ok
    assert (second.teams_created, second.teams_updated, second.teams_unchanged) == (0, 0, 2)
    assert (second.members_created, second.members_updated, second.members_unchanged) == (0, 0, 5)
    assert snapshot() == before


def test_one_bad_row_writes_nothing_and_reports_its_row_and_column(world):
    before = snapshot()
    rows = [*north_team(), row(full_name="Hồ Văn Sai", phone="0912 34 56", role="member")]

    result = run(rows)

    assert pairs(result) == [(6, "phone")]
    assert "mobile" in result.errors[0].message
    assert snapshot() == before


def test_every_rule_reports_its_row_and_column(world):
    b1_member = world.teams.b1.members.exclude(role="leader").first()
    TeamFactory(commune=world.a2, hamlet=world.hamlets.a2, name="Tổ CNSCĐ Thôn Tây")
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    rows = [
        row(phone="0981000001", role="leader"),  # 2: good
        row(phone="0981000001"),  # 3: same phone as row 2
        row(phone="0981000003", role="leader"),  # 4: a second leader of the team
        row(phone="0981000004", established_on="02/05/2024"),  # 5: the team's date differs from row 2
        row(phone="0981000005", commune_code="99999"),  # 6: no such commune
        row(phone="02438256789"),  # 7: a landline
        row(phone="0981000007", role="boss"),  # 8
        row(phone="0981000008", background="astronaut"),  # 9
        row(phone="0981000009", gender="x"),  # 10
        row(phone="0981000010", birth_year="1899"),  # 11
        row(phone="0981000011", birth_year="abc"),  # 12
        row(phone="0981000012", established_on="2024"),  # 13: a bare year is not a date
        row(phone="0981000013", established_on=future),  # 14
        row(phone="0981000014", team_name=" "),  # 15
        row(phone="0981000015", full_name="\u200b"),  # 16
        row(phone="0981000016", hamlet_name="Thôn Mới", hamlet_kind="", team_name="Tổ Mới"),  # 17: kind needed
        row(phone="0981000017", commune_code="00002", hamlet_name="Thôn Tây", team_name="Tổ Khác"),  # 18: taken
        row(phone="0981000018", commune_code="00002", hamlet_name="", team_name="Tổ Xã Khác"),  # 19: A2 has one
        row(phone=b1_member.phone, hamlet_name="Thôn Nam Mới", team_name="Tổ Nam Mới"),  # 20: B1's team not in file
        row(phone="0981000020", hamlet_name="Thôn Đông", team_name="Tổ CNSCĐ Thôn Đông", role="leader"),  # 21
        row(phone="0981000021", hamlet_name="Thôn Kia", hamlet_kind="??", team_name="Tổ Kia"),  # 22
        row(phone="0981000022", team_name="Tổ Thứ Hai Ở Thôn Bắc"),  # 23: Thôn Bắc already has row 2's team
        row(phone="0981000023", decision_number="x" * 101),  # 24
    ]
    before = snapshot()

    result = run(rows)

    assert pairs(result) == [
        (3, "phone"),
        (4, "role"),
        (5, "established_on"),
        (6, "commune_code"),
        (7, "phone"),
        (8, "role"),
        (9, "background"),
        (10, "gender"),
        (11, "birth_year"),
        (12, "birth_year"),
        (13, "established_on"),
        (14, "established_on"),
        (15, "team_name"),
        (16, "full_name"),
        (17, "hamlet_kind"),
        (18, "team_name"),
        (19, "team_name"),
        (20, "phone"),
        (21, "role"),
        (22, "hamlet_kind"),
        (23, "team_name"),
        (24, "decision_number"),
    ]
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert messages[(3, "phone")] == "Same phone number as row 2."
    assert messages[(5, "established_on")] == "Differs from row 2 of the same team."
    assert messages[(18, "team_name")] == "This hamlet already has an active team."
    assert messages[(21, "role")] == "This team already has an active leader."
    assert snapshot() == before


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


def test_reimport_updates_members_in_place_swaps_the_leader_and_moves_between_teams(world):
    a1, a2 = world.teams.a1, world.teams.a2
    old_leader = world.leaders.a1
    promoted = a1.members.exclude(role="leader").order_by("phone").first()
    mover = a2.members.exclude(role="leader").order_by("phone").first()
    a1_place = {"hamlet_name": "Thôn Đông", "team_name": a1.name, "established_on": a1.established_on.isoformat()}
    a2_place = {
        "commune_code": "00002",
        "hamlet_name": "",
        "team_name": a2.name,
        "established_on": a2.established_on.isoformat(),
    }
    rows = [
        row(**a1_place, full_name="Trưởng Cũ", phone=old_leader.phone, role="member", background="teacher"),
        row(**a1_place, full_name=promoted.full_name, phone=promoted.phone, role="leader"),
        row(**a1_place, full_name=mover.full_name, phone=mover.phone, role="member"),
        row(**a2_place, full_name="Trưởng Tổ Hai", phone=world.leaders.a2.phone, role="leader"),
    ]

    result = run(rows)

    assert result.ok, result.errors
    assert (result.members_updated, result.members_moved, result.members_created) == (3, 1, 0)
    old_leader.refresh_from_db()
    assert (old_leader.role, old_leader.background, old_leader.version, old_leader.user_id) == (
        "member",
        "teacher",
        2,
        None,
    )
    world.tuan.refresh_from_db()
    assert not world.tuan.is_active  # the demoted leader's login is switched off
    mover.refresh_from_db()
    assert not mover.active and mover.left_on == timezone.localdate()
    moved = Member.objects.get(phone=mover.phone, active=True)
    assert moved.team_id == a1.pk and moved.background == mover.background
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.leader_id, a1.member_count) == (promoted.pk, 5)
    assert a2.member_count == 3
    assert set(DirtyCommune.objects.values_list("commune_id", flat=True)) == {world.a1.pk, world.a2.pk}


def test_progress_is_reported_up_to_the_last_row(world):
    calls = []
    result = run(north_team(), progress=lambda done, total: calls.append((done, total)))
    assert result.ok
    assert calls[-1] == (4, 4)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01", dt.date(2024, 5, 1)),
        ("1/5/2024", dt.date(2024, 5, 1)),
        ("01/05/2024", dt.date(2024, 5, 1)),
        ("45413", dt.date(2024, 5, 1)),
        ("45413.0", dt.date(2024, 5, 1)),
        ("2024", None),
        ("31/02/2024", None),
        ("05-01-2024", None),
        ("", None),
    ],
)
def test_dates_in_the_accepted_spellings(raw, expected):
    assert parse_date(raw) == expected


# --- The API and the job ----------------------------------------------------------------------------


def upload(client, content: bytes, name: str = "registry.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")


def queued_job_ids() -> list[str]:
    """The job ids of members.run_import messages waiting in the real Redis broker."""
    ids = []
    for raw in redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "members.run_import":
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(kwargs.get("job_id") or args[0])
    return ids


def test_province_admin_upload_is_queued_then_imported(world, api, django_capture_on_commit_callbacks):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, csv_bytes(north_team()))
    assert response.status_code == 201, response.data
    job_id = response.data["id"]
    assert len(callbacks) == 1
    assert queued_job_ids() == [job_id]
    assert (response.data["status"], response.data["province"], response.data["total"]) == ("pending", "01", 0)
    assert not Team.objects.filter(name="Tổ CNSCĐ Thôn Bắc").exists()

    run_import.apply(args=[job_id])

    status = client.get(f"{URL}{job_id}/")
    assert status.status_code == 200
    assert (status.data["status"], status.data["processed"], status.data["total"]) == ("succeeded", 4, 4)
    assert status.data["errors"] == [] and status.data["summary"]["members_created"] == 4
    assert Team.objects.get(name="Tổ CNSCĐ Thôn Bắc").member_count == 4


def test_retried_upload_returns_the_same_job_until_that_job_fails(world, api, django_capture_on_commit_callbacks):
    client = api(world.lan)
    content = csv_bytes([row(phone="0912 34 56")])
    with django_capture_on_commit_callbacks(execute=False):
        first = upload(client, content)
        again = upload(client, content, name="renamed.csv")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"]
    run_import.apply(args=[first.data["id"]])
    assert ImportJob.objects.get(pk=first.data["id"]).status == ImportStatus.FAILED
    with django_capture_on_commit_callbacks(execute=False):
        after_failure = upload(client, content)
    assert after_failure.status_code == 201 and after_failure.data["id"] != first.data["id"]
    assert ImportJob.objects.count() == 2


def test_failed_job_lists_its_errors_and_serves_them_as_xlsx(world, api, django_capture_on_commit_callbacks):
    rows = [*north_team(), row(commune_code="00003", hamlet_name="Thôn Nam", team_name="Tổ Nam", phone="0981000009")]
    client = api(world.lan)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, xlsx_bytes(rows), name="registry.xlsx").data["id"]
    run_import.apply(args=[job_id])

    status = client.get(f"{URL}{job_id}/")
    assert (status.data["status"], status.data["processed"], status.data["total"]) == ("failed", 5, 5)
    # B1 is in province B: for A's admin it does not exist.
    message = gettext("No commune with this code in your area.")  # stored in the worker's language
    assert status.data["errors"] == [{"row": 6, "column": "commune_code", "message": message}]
    assert snapshot() == before

    download = client.get(f"{URL}{job_id}/errors.xlsx", HTTP_ACCEPT="application/vnd.ms-excel")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).worksheets[0]
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines == [["Dòng", "Cột", "Lỗi"], [6, "commune_code", message]]


@pytest.mark.django_db(transaction=True)
def test_status_shows_live_progress_while_the_job_runs(world, api):
    client = api(world.lan)
    job_id = upload(client, csv_bytes(north_team())).data["id"]
    outcome = []

    def worker():
        try:
            run_import.apply(args=[job_id])
            outcome.append("done")
        finally:
            connection.close()

    # Holding the teams table stops the import after it checked the rows, when it locks the teams whose
    # slots the file names (the import locks only those, so no single row of the world's would do).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Team._meta.db_table} IN EXCLUSIVE MODE")
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 30  # a bound on the wait on a loaded machine, not a speed check
        data = client.get(f"{URL}{job_id}/").data
        while (data["status"], data["processed"]) != ("running", 4) and time.monotonic() < deadline:
            time.sleep(0.05)
            data = client.get(f"{URL}{job_id}/").data
        assert (data["status"], data["processed"], data["total"]) == ("running", 4, 4)
        assert ImportJob.objects.get(pk=job_id).processed == 0  # the live count comes from the cache
        assert not Team.objects.filter(name="Tổ CNSCĐ Thôn Bắc").exists()
    thread.join(20)
    assert outcome == ["done"]
    data = client.get(f"{URL}{job_id}/").data
    assert (data["status"], data["processed"], data["total"]) == ("succeeded", 4, 4)


def test_status_is_one_query(world, api, django_capture_on_commit_callbacks, django_assert_num_queries):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, csv_bytes(north_team())).data["id"]
    # 1: the job joined to its province, without the stored file.
    with django_assert_num_queries(1):
        assert client.get(f"{URL}{job_id}/").status_code == 200


@pytest.mark.parametrize("persona", ["hoa", "minh", "tuan", "nobody"])
def test_only_a_province_admin_with_a_province_uploads(world, api, persona):
    response = upload(api(getattr(world, persona)), csv_bytes(north_team()))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_another_province_cannot_see_the_job(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    for persona in (world.binh, world.bao, world.nobody):
        assert api(persona).get(f"{URL}{job_id}/").status_code == 404
        assert api(persona).get(f"{URL}{job_id}/errors.xlsx").status_code == 404
    assert api(world.lan).get(f"{URL}{job_id}/errors.xlsx").status_code == 200


def test_oversized_file_is_413_and_other_types_are_400(world, api):
    client = api(world.lan)
    too_big = client.post(
        URL, {"file": SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1))}, format="multipart"
    )
    assert too_big.status_code == 413 and too_big.data["code"] == "too_large"
    wrong_type = upload(client, csv_bytes(north_team()), name="registry.pdf")
    assert wrong_type.status_code == 400 and "file" in wrong_type.data
    no_file = client.post(URL, {}, format="multipart")
    assert no_file.status_code == 400 and "file" in no_file.data
    assert not ImportJob.objects.exists()


MISSING = ", ".join(c for c in REQUIRED_COLUMNS if c != "commune_code")


def test_a_file_that_is_not_a_workbook_is_refused_at_upload(world, api):
    response = upload(api(world.lan), b"not a workbook", name="registry.xlsx")
    assert response.status_code == 400
    assert response.data["file"] == [gettext("The file is not a readable XLSX workbook.")]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "msgid", "values"),
    [
        (
            "registry.xlsx",
            xlsx_bytes([["00001"]], header=["commune_code"]),
            "Missing columns: %(columns)s.",
            {"columns": MISSING},
        ),
        ("registry.csv", csv_bytes([], header=[]), "The file is empty.", {}),
    ],
)
def test_unreadable_file_fails_the_job_with_a_file_error(
    world, api, django_capture_on_commit_callbacks, name, content, msgid, values
):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, content, name=name).data["id"]
    run_import.apply(args=[job_id])
    data = client.get(f"{URL}{job_id}/").data
    assert data["status"] == "failed"
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(0, "file")]
    assert data["errors"][0]["message"] == (gettext(msgid) % values if values else gettext(msgid))


def test_finished_job_is_not_run_again(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    run_import.apply(args=[job_id])
    finished = ImportJob.objects.get(pk=job_id)
    Member.objects.filter(phone="0981000002").update(background="teacher")

    run_import.apply(args=[job_id])  # a second delivery of the same message

    assert Member.objects.get(phone="0981000002").background == "teacher"
    assert ImportJob.objects.get(pk=job_id).finished_at == finished.finished_at


def test_job_running_in_another_worker_is_left_alone(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    held, release, outcome = threading.Event(), threading.Event(), []

    def other_worker():
        # Its own thread, so its own database session, like a second worker process.
        try:
            with _job_lock(uuid.UUID(job_id)) as locked:
                outcome.append(locked)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10) and outcome == [True]
        run_import.apply(args=[job_id])
        assert ImportJob.objects.get(pk=job_id).status == ImportStatus.PENDING
    finally:
        release.set()
        thread.join(10)
    run_import.apply(args=[job_id])
    assert ImportJob.objects.get(pk=job_id).status == ImportStatus.SUCCEEDED
