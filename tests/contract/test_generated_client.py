"""The proof of the API contract: a client generated from the served schema, used as the mobile app and the
dashboards use the API, against gunicorn and a real Celery worker.

The scenario makes no HTTP call of its own: every request is a generated operation, every body a generated
model, and every error, on the way, is parsed by the client as the typed envelope (ErrorOutput). The clients
raise on a status the schema does not document for that operation.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from coverage import services as coverage_services
from tests.conftest import PASSWORD, build_world
from tests.contract.conftest import Generation, Operations, Server, run_generator
from tests.worker import celery_worker

ACTIVITIES = 50
PEOPLE_PER_ACTIVITY = 2
EDITED_PEOPLE = 5
FRESHNESS_DEADLINE = 15.0
TIMEOUT = httpx.Timeout(30.0)
NEW_MEMBER_PHONE = "0977000111"


def test_the_served_schema_generates_a_client_with_no_warning(generation: Generation, client_package):
    """`--fail-on-warning` exits 0 and the generator prints nothing but "Generating ...": no warning of any kind."""
    generation.check()
    assert generation.complaints() == []
    assert hasattr(client_package, "AuthenticatedClient") and hasattr(client_package, "Client")
    assert hasattr(client_package.models, "ErrorOutput")


def test_a_generator_warning_fails_the_check(generation: Generation, tmp_path: Path):
    """The check is not blind: the served schema with one response in a type the generator cannot read (what
    the XLSX exports were before) makes the generator warn, and the check fails on it."""
    schema = json.loads(generation.schema_path.read_text())
    operation = schema["paths"]["/api/v1/me/"]["get"]
    operation["responses"]["200"]["content"] = {"application/x-unknown": {"schema": {"type": "string"}}}
    broken = tmp_path / "schema.json"
    broken.write_text(json.dumps(schema))
    result = run_generator(broken, tmp_path / "cdt_client")
    assert result.returncode != 0
    assert any("Unsupported content_type application/x-unknown" in line for line in result.complaints()), result.output
    with pytest.raises(AssertionError, match="openapi-python-client exited"):
        result.check()


# --- helpers: typed answers ---------------------------------------------------------------------------------------


def parsed(response, status: int, model: type):
    """The generated client's parse of an answer: the expected status, parsed as the expected model."""
    assert response.status_code == status, (
        f"expected {status}, got {int(response.status_code)}: {response.content[:1500]!r}"
    )
    assert isinstance(response.parsed, model), (
        f"{status} parsed as {type(response.parsed).__name__}, not {model.__name__}: {response.content[:1500]!r}"
    )
    return response.parsed


def error(models: ModuleType, response, status: int, code: str):
    """An error answer parsed by the client as the typed envelope, with its code and a message."""
    envelope = parsed(response, status, models.ErrorOutput)
    assert envelope.code == code, envelope
    assert isinstance(envelope.detail, str) and envelope.detail, envelope
    return envelope


class Session:
    """One login: the generated login operation, then the generated authenticated client with its access token."""

    def __init__(self, package: ModuleType, ops: Operations, url: str, phone: str, stack: ExitStack):
        models = package.models
        anonymous = stack.enter_context(package.Client(base_url=url, timeout=TIMEOUT, raise_on_unexpected_status=True))
        tokens = parsed(
            ops.login.sync_detailed(client=anonymous, body=models.LoginInputRequest(phone=phone, password=PASSWORD)),
            200,
            models.TokenPair,
        )
        self.client = stack.enter_context(
            package.AuthenticatedClient(
                base_url=url, token=tokens.access, timeout=TIMEOUT, raise_on_unexpected_status=True
            )
        )


def assert_conditional_get(call, what: str) -> str:
    """A GET answers an ETag, and the same GET with the operation's If-None-Match parameter answers 304 with no
    body; returns the ETag. `call(**parameters)` runs the generated operation."""
    first = call()
    assert first.status_code == 200, (what, first.status_code, first.content[:500])
    etag = first.headers.get("ETag")
    assert etag, f"{what}: no ETag on the 200 (headers: {dict(first.headers)})"
    again = call(if_none_match=etag)
    assert again.status_code == 304, (what, again.status_code, again.content[:500])
    assert again.content == b"" and again.parsed is None, (what, again.content[:500])
    return etag


def set_known_password(*users: User) -> None:
    """The logins' password, hashed as the server checks it (the suite's fast MD5 hasher is not the server's)."""
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=hasher.encode(PASSWORD, hasher.salt()))


def national_figures(models, ops, ministry: Session):
    return parsed(ops.get_national_coverage.sync_detailed(client=ministry.client), 200, models.NationalCoverageOutput)


def wait_for_national(models, ops, ministry: Session, *, deadline: float, expect) -> tuple:
    """Poll the national figures through the client until expect(figures) holds; (figures, seconds waited)."""
    started = time.monotonic()
    while True:
        figures = national_figures(models, ops, ministry)
        if expect(figures):
            return figures, time.monotonic() - started
        assert time.monotonic() - started < deadline, (
            f"the national figures did not reflect the writes within {deadline} s: {figures.to_dict()}"
        )
        time.sleep(0.25)


# --- the field scenario -------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_field_scenario_through_the_generated_client(
    server: Server, client_package: ModuleType, ops: Operations, tmp_path: Path
):
    models = client_package.models
    world = build_world()
    set_known_password(world.tuan, world.lan, world.minh)
    coverage_services.recompute_all()  # the figures before the scenario, committed: nothing stale
    team_id, hamlet_id = world.teams.a1.pk, world.hamlets.a1.pk
    timeline: dict[str, float] = {}
    started = time.monotonic()

    with celery_worker(log_dir=tmp_path) as worker, ExitStack() as stack:
        # The ministry's figures before the leader's writes.
        ministry = Session(client_package, ops, server.url, world.minh.phone, stack)
        before = national_figures(models, ops, ministry)
        assert before.stale is False, before.to_dict()

        # ---- The team leader (tuan, team_a1 at hamlet a1 of commune 00001) --------------------------------------
        with client_package.Client(base_url=server.url, timeout=TIMEOUT, raise_on_unexpected_status=True) as anon:
            wrong = ops.login.sync_detailed(
                client=anon, body=models.LoginInputRequest(phone=world.tuan.phone, password="not-the-password")
            )
        error(models, wrong, 401, "invalid_credentials")
        leader = Session(client_package, ops, server.url, world.tuan.phone, stack)

        me = parsed(ops.get_me.sync_detailed(client=leader.client), 200, models.MeOutput)
        assert (me.role, me.province, me.commune, me.team) == ("team_leader", "01", "00001", str(team_id))

        hamlets = parsed(
            ops.list_hamlets.sync_detailed(client=leader.client, commune="00001"), 200, models.PaginatedHamletOutputList
        )
        assert [h.id for h in hamlets.results] == [hamlet_id]
        assert hamlets.results[0].active is True

        team = parsed(ops.get_team.sync_detailed(team_id, client=leader.client), 200, models.TeamOutput)
        assert (team.id, team.commune, team.hamlet, team.member_count) == (team_id, "00001", hamlet_id, 4)
        assert team.leader is not None and team.leader.id == world.leaders.a1.pk
        error(models, ops.get_team.sync_detailed(world.teams.b1.pk, client=leader.client), 404, "not_found")

        members = parsed(
            ops.list_team_members.sync_detailed(team_id, client=leader.client), 200, models.PaginatedMemberOutputList
        )
        assert members.count == 4 and sum(m.role == models.RoleEnum.LEADER for m in members.results) == 1

        # Conditional GET: the team and the commune's hamlets, polled by the app, answer 304 when unchanged.
        assert_conditional_get(lambda **p: ops.get_team.sync_detailed(team_id, client=leader.client, **p), "get_team")
        assert_conditional_get(
            lambda **p: ops.list_hamlets.sync_detailed(client=leader.client, commune="00001", **p), "list_hamlets"
        )
        members_etag = assert_conditional_get(
            lambda **p: ops.list_team_members.sync_detailed(team_id, client=leader.client, **p), "list_team_members"
        )

        added = parsed(
            ops.create_member.sync_detailed(
                client=leader.client,
                body=models.MemberCreateInputRequest(
                    team=team_id, full_name="Nguyễn Thị Hồng", phone=NEW_MEMBER_PHONE, birth_year=1998
                ),
            ),
            201,
            models.MemberOutput,
        )
        assert (added.team, added.active, added.version) == (team_id, True, 1)
        after_add = ops.list_team_members.sync_detailed(team_id, client=leader.client, if_none_match=members_etag)
        members = parsed(after_add, 200, models.PaginatedMemberOutputList)  # a stale ETag gets the new list
        assert members.count == 5 and added.id in {m.id for m in members.results}

        # The member's version: an edit with it, then a stale one (412 with the current version).
        renamed = parsed(
            ops.update_member.sync_detailed(
                added.id,
                client=leader.client,
                body=models.PatchedMemberUpdateInputRequest(version=1, full_name="Nguyễn Thị Hồng Nhung"),
            ),
            200,
            models.MemberOutput,
        )
        assert (renamed.full_name, renamed.version) == ("Nguyễn Thị Hồng Nhung", 2)
        stale_member = error(
            models,
            ops.update_member.sync_detailed(
                added.id, client=leader.client, body=models.PatchedMemberUpdateInputRequest(version=1, full_name="X")
            ),
            412,
            "stale_version",
        )
        assert stale_member.version == 2
        timeline["leader: reads and member"] = time.monotonic() - started

        # Sync 50 activities recorded offline, then replay the same upload (a retry after a lost answer).
        types = parsed(
            ops.list_activity_types.sync_detailed(client=leader.client), 200, models.PaginatedActivityTypeOutputList
        )
        type_code = next(t.code for t in types.results if t.active)
        today = timezone.localdate()
        items = [
            models.SyncItemInputRequest(
                id=uuid.uuid4(),
                team=team_id,
                hamlet=hamlet_id,
                type_=type_code,
                occurred_on=today - dt.timedelta(days=i % 60),
                people_helped=PEOPLE_PER_ACTIVITY,
                duration_minutes=30,
                note=f"Hỗ trợ cài đặt VNeID, lượt {i + 1}",
            )
            for i in range(ACTIVITIES)
        ]
        sync_started = time.monotonic()
        synced = parsed(
            ops.sync_activities.sync_detailed(client=leader.client, body=models.SyncInputRequest(activities=items)),
            200,
            models.SyncResponse,
        )
        assert [(r.id, r.status) for r in synced.results] == [(str(i.id), "created") for i in items]
        bases = {r.id: r.updated_at for r in synced.results}
        assert all(isinstance(b, dt.datetime) and b.utcoffset() == dt.timedelta(hours=7) for b in bases.values())

        replayed = parsed(
            ops.sync_activities.sync_detailed(client=leader.client, body=models.SyncInputRequest(activities=items)),
            200,
            models.SyncResponse,
        )
        assert [(r.id, r.status) for r in replayed.results] == [(str(i.id), "unchanged") for i in items]
        timeline["leader: sync and replay"] = time.monotonic() - sync_started

        # Edit one activity with its base; the same base again is stale (412); no base is 428.
        edited_id = items[0].id
        base = bases[str(edited_id)]
        edited = parsed(
            ops.update_activity.sync_detailed(
                edited_id,
                client=leader.client,
                body=models.PatchedActivityUpdateInputRequest(base_updated_at=base, people_helped=EDITED_PEOPLE),
            ),
            200,
            models.ActivityOutput,
        )
        assert edited.people_helped == EDITED_PEOPLE and edited.updated_at > base
        stale = error(
            models,
            ops.update_activity.sync_detailed(
                edited_id,
                client=leader.client,
                body=models.PatchedActivityUpdateInputRequest(base_updated_at=base, people_helped=7),
            ),
            412,
            "stale_version",
        )
        assert stale.updated_at == edited.updated_at, (stale.updated_at, edited.updated_at)
        no_base = error(
            models,
            ops.update_activity.sync_detailed(
                edited_id,
                client=leader.client,
                body=models.PatchedActivityUpdateInputRequest(base_updated_at=None, people_helped=7),
            ),
            428,
            "version_required",
        )
        assert no_base.updated_at == edited.updated_at

        # Pull the changes feed from the start: every activity once, the edit included; then nothing new.
        seen: dict = {}
        cursor = None
        for _ in range(10):
            page = parsed(
                ops.list_activity_changes.sync_detailed(
                    client=leader.client, limit=20, **({"since": cursor} if cursor else {})
                ),
                200,
                models.ChangesOutput,
            )
            seen.update({a.id: a for a in page.results})
            cursor = page.next_cursor
            if not page.has_more:
                break
        assert set(seen) == {i.id for i in items}
        assert seen[edited_id].people_helped == EDITED_PEOPLE and seen[edited_id].deleted is False
        assert cursor
        empty = parsed(
            ops.list_activity_changes.sync_detailed(client=leader.client, since=cursor), 200, models.ChangesOutput
        )
        assert (empty.results, empty.has_more) == ([], False)
        invalid = error(
            models, ops.list_activity_changes.sync_detailed(client=leader.client, since="garbage"), 400, "invalid"
        )
        assert "since" in invalid.errors.additional_properties, invalid.to_dict()
        timeline["leader: done"] = time.monotonic() - started

        # ---- The ministry: the national figures show the leader's writes within seconds --------------------------
        people = ACTIVITIES * PEOPLE_PER_ACTIVITY - PEOPLE_PER_ACTIVITY + EDITED_PEOPLE
        nation, waited = wait_for_national(
            models,
            ops,
            ministry,
            deadline=FRESHNESS_DEADLINE,
            expect=lambda f: (
                f.stale is False
                and f.activities == before.activities + ACTIVITIES
                and f.people_helped == before.people_helped + people
                and f.members_active == before.members_active + 1
            ),
        )
        assert nation.teams_active == before.teams_active == 3
        assert nation.computed_at is not None and nation.computed_at.utcoffset() == dt.timedelta(hours=7)
        timeline["ministry: fresh after"] = waited

        # ---- The province admin (lan, province 01) ---------------------------------------------------------------
        admin = Session(client_package, ops, server.url, world.lan.phone, stack)
        teams = parsed(ops.list_teams.sync_detailed(client=admin.client), 200, models.PaginatedTeamOutputList)
        assert {t.id for t in teams.results} == {world.teams.a1.pk, world.teams.a2.pk}
        assert teams.count == 2 and all(t.province == "01" for t in teams.results)

        province = parsed(
            ops.get_province_coverage.sync_detailed("01", client=admin.client), 200, models.ProvinceCoverageOutput
        )
        assert (province.communes_total, province.communes_covered, province.teams_active) == (2, 2, 2)
        assert (province.activities, province.people_helped, province.stale) == (ACTIVITIES, people, False)
        communes = parsed(
            ops.list_commune_coverage.sync_detailed("01", client=admin.client),
            200,
            models.PaginatedCommuneCoverageOutputList,
        )
        by_code = {c.code: c for c in communes.results}
        assert communes.count == 2 and set(by_code) == {"00001", "00002"}
        assert (by_code["00001"].activities, by_code["00001"].members_active) == (ACTIVITIES, 5)
        assert by_code["00001"].covered and by_code["00001"].fully_covered

        # The exports, downloaded as files through their own operations, saved and read back.
        csv_file = parsed(
            ops.export_province_coverage.sync_detailed(
                "01", models.ExportProvinceCoverageFormat.CSV, client=admin.client
            ),
            200,
            client_package.types.File,
        )
        csv_path = tmp_path / "province-01.csv"
        csv_path.write_bytes(csv_file.payload.read())
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == 1, rows
        assert (rows[0]["Mã"], rows[0]["Số hoạt động (từ đầu)"], rows[0]["Số thành viên"]) == (
            "01",
            str(ACTIVITIES),
            str(province.members_active),
        )

        xlsx_file = parsed(
            ops.export_commune_coverage_list.sync_detailed(
                "01", models.ExportCommuneCoverageListFormat.XLSX, client=admin.client
            ),
            200,
            client_package.types.File,
        )
        xlsx_path = tmp_path / "province-01-communes.xlsx"
        xlsx_path.write_bytes(xlsx_file.payload.read())
        workbook = load_workbook(xlsx_path, read_only=True)
        try:
            header, *lines = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
        sheet = {line[header.index("Mã")]: dict(zip(header, line, strict=True)) for line in lines}
        assert set(sheet) == {"00001", "00002"}, sheet
        assert sheet["00001"]["Số hoạt động (từ đầu)"] == ACTIVITIES
        assert sheet["00001"]["Số thành viên"] == 5

        # Out of scope: another province is a 404 in the envelope, as JSON on an export URL too.
        error(models, ops.get_province_coverage.sync_detailed("02", client=admin.client), 404, "not_found")
        error(
            models,
            ops.export_province_coverage.sync_detailed(
                "02", models.ExportProvinceCoverageFormat.XLSX, client=admin.client
            ),
            404,
            "not_found",
        )
        timeline["total"] = time.monotonic() - started

        assert worker.alive(), worker.log()[-3000:]
    print("field scenario timeline (s):", {k: round(v, 2) for k, v in timeline.items()})
