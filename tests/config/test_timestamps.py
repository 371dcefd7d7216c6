"""One timestamp format everywhere (config.timestamps): RFC 3339 in Vietnam time, +07:00, six fractional digits.

The world test calls every endpoint that returns a time and walks each body twice: along the served
OpenAPI schema (every value declared `format: date-time`) and blindly (every string that looks like a
date and time, so that an untyped extra cannot escape). Headers are walked too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid

import pytest
import time_machine
from django.db import models
from django.db.models.functions import Trunc
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEntry
from activities.models import Activity
from areas.models import Hamlet
from config.timestamps import TimestampField, format_timestamp
from coverage import services as coverage_services
from coverage.models import ReconcileRun
from members.models import ImportJob, Member
from members.tasks import run_import
from teams.models import Team
from tests.members.support_import import csv_bytes, north_team, upload

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+07:00$")
# Anything that could be a time written some other way: "2026-11-30T10:27", "2026-11-30 10:27".
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
UTC = dt.UTC
PLUS_NINE = dt.timezone(dt.timedelta(hours=9))


# --- format_timestamp and TimestampField ------------------------------------------------------------


def test_a_utc_time_is_written_in_vietnam_time():
    moment = dt.datetime(2026, 11, 30, 10, 27, 0, 123456, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-11-30T17:27:00.123456+07:00"


def test_a_plus_nine_time_is_written_in_vietnam_time():
    moment = dt.datetime(2026, 11, 30, 19, 27, 0, 500000, tzinfo=PLUS_NINE)
    assert format_timestamp(moment) == "2026-11-30T17:27:00.500000+07:00"


def test_a_whole_second_keeps_six_fractional_digits():
    assert format_timestamp(dt.datetime(2026, 11, 30, 10, 27, tzinfo=UTC)) == "2026-11-30T17:27:00.000000+07:00"


def test_the_date_is_vietnams_date():
    assert format_timestamp(dt.datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == "2027-01-01T03:00:00.000000+07:00"


def test_a_naive_time_or_a_date_is_a_programming_error():
    with pytest.raises(ValueError, match="aware"):
        format_timestamp(dt.datetime(2026, 11, 30, 17, 27))
    with pytest.raises(TypeError):
        format_timestamp(dt.date(2026, 11, 30))


def test_the_field_reads_back_what_it_writes_to_the_microsecond():
    field = TimestampField()
    for moment in (
        dt.datetime(2026, 11, 30, 10, 27, 0, 123456, tzinfo=UTC),
        dt.datetime(2026, 11, 30, 10, 27, tzinfo=PLUS_NINE),
    ):
        written = field.to_representation(moment)
        assert STAMP.match(written)
        assert field.to_internal_value(written) == moment


def test_the_field_rewrites_a_stored_text_time_and_still_reads_any_offset():
    field = TimestampField()
    assert field.to_representation("2026-11-30T10:27:00Z") == "2026-11-30T17:27:00.000000+07:00"
    assert field.to_representation(None) is None
    assert field.to_internal_value("2026-11-30T10:27:00Z") == dt.datetime(2026, 11, 30, 10, 27, tzinfo=UTC)
    assert field.to_internal_value("2026-11-30T19:27:00.5+09:00") == dt.datetime(
        2026, 11, 30, 10, 27, 0, 500000, tzinfo=UTC
    )


# --- Every response -----------------------------------------------------------------------------------


class Walker:
    """Checks responses against the served schema; remembers which date-time properties it saw filled."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.components = spec["components"]["schemas"]
        self.seen: set[str] = set()  # "Component.property" with a non-null value checked
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path.count("{"), path)
            for path in spec["paths"]
        ]

    def declared(self) -> set[str]:
        """Every "Component.property" that some operation's JSON response declares `format: date-time`."""
        found: set[str] = set()
        for operations in self.spec["paths"].values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    for media in answer.get("content", {}).values():
                        self._declared(media.get("schema", {}), None, None, found, frozenset())
        return found

    def _declared(self, node, component, prop, found, visited) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in visited:
                self._declared(self.components[name], name, None, found, visited | {name})
            return
        if node.get("format") == "date-time":
            found.add(f"{component}.{prop}")
        for key, child in node.get("properties", {}).items():
            self._declared(child, component, key, found, visited)
        for key in ("allOf", "oneOf", "anyOf"):
            for child in node.get(key, []):
                self._declared(child, component, prop, found, visited)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                self._declared(node[key], component, prop, found, visited)

    def check(self, response, expected_status: int):
        """The response's status, its JSON body (returned) and headers, every time in them in the one format."""
        assert response.status_code == expected_status, response.content[:500]
        for name, value in response.headers.items():
            assert not LOOKS_LIKE_TIME.search(value) or STAMP.match(value), (name, value)
        body = json.loads(response.content)
        where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']} {expected_status}"
        self._strings(body, where)
        self._typed(self._schema_of(response), body, None, None, where)
        return body

    def _schema_of(self, response) -> dict:
        path = response.request["PATH_INFO"]
        routes = sorted((params, template) for pattern, params, template in self.routes if pattern.match(path))
        assert routes, f"{path} is not in the schema"
        operation = self.spec["paths"][routes[0][1]][response.request["REQUEST_METHOD"].lower()]
        answer = operation["responses"].get(str(response.status_code))
        assert answer is not None, f"{path}: {response.status_code} is not documented"
        return answer["content"]["application/json"]["schema"]

    def _strings(self, value, where: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                self._strings(key, where)
                self._strings(child, f"{where}.{key}")
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self._strings(child, f"{where}.{index}")
        elif isinstance(value, str) and LOOKS_LIKE_TIME.search(value):
            assert STAMP.match(value), (where, value)

    def _typed(self, node, value, component, prop, where: str) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            self._typed(self.components[name], value, name, None, where)
            return
        for key in ("allOf", "oneOf", "anyOf"):
            for child in node.get(key, []):
                self._typed(child, value, component, prop, where)
        if value is None:
            return
        if node.get("format") == "date-time":
            assert isinstance(value, str) and STAMP.match(value), (where, value)
            self.seen.add(f"{component}.{prop}")
        elif isinstance(value, dict):
            properties = node.get("properties", {})
            extra = node.get("additionalProperties")
            for key, child in value.items():
                if key in properties:
                    self._typed(properties[key], child, component, key, f"{where}.{key}")
                elif isinstance(extra, dict):
                    self._typed(extra, child, component, prop, f"{where}.{key}")
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, child in enumerate(value):
                self._typed(node["items"], child, component, prop, f"{where}.{index}")


def whole_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def truncate_to_seconds() -> None:
    """Every time column of the rows the API shows, cut to its whole second."""
    for model in (Activity, AuditEntry, Hamlet, ImportJob, Member, Team):
        columns = [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
        model.objects.update(**{c: Trunc(c, "second", tzinfo=UTC) for c in columns})


def sync_items(team, n: int) -> list[dict]:
    today = timezone.localdate()
    return [
        {
            "id": str(uuid.uuid4()),
            "team": str(team.pk),
            "type": "vneid",
            "occurred_on": str(today - dt.timedelta(days=i)),
            "people_helped": 1 + i,
            "note": f"Hỗ trợ cài VNeID lần {i}",
        }
        for i in range(n)
    ]


@pytest.fixture
def walker(api, db):
    response = api(None).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return Walker(json.loads(response.content))


@pytest.mark.parametrize(
    "zone", ["Asia/Ho_Chi_Minh", "UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"]
)
@pytest.mark.django_db
def test_postgresql_writes_a_timestamp_as_format_timestamp_would(zone):
    """config.timestamps.TimestampText (lists that send many timestamps) against isoformat in the same zone: both
    sides of daylight saving, half-hour and 45-minute offsets, whole seconds, and a moment of 1900 when Saigon's
    offset had seconds (local mean time)."""
    from zoneinfo import ZoneInfo

    from django.db.models import DateTimeField, Value

    from activities.models import ActivityType
    from config.timestamps import TimestampText

    moments = [
        dt.datetime(2026, 1, 15, 3, 4, 5, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 15, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt.UTC),  # Berlin's clocks go forward
        dt.datetime(2026, 10, 25, 0, 59, 59, 1, tzinfo=dt.UTC),
        dt.datetime(1900, 6, 1, 12, 0, 0, tzinfo=dt.UTC),
    ]
    for moment in moments:
        written = (
            ActivityType.objects.annotate(t=TimestampText(Value(moment, output_field=DateTimeField()), zone))
            .values_list("t", flat=True)
            .first()
        )
        assert written == moment.astimezone(ZoneInfo(zone)).isoformat(timespec="microseconds"), (zone, moment)
    if zone == "Asia/Ho_Chi_Minh":
        with_settings = ActivityType.objects.annotate(t=TimestampText(Value(moments[0], output_field=DateTimeField())))
        assert with_settings.values_list("t", flat=True).first() == format_timestamp(moments[0])


def test_every_time_in_every_response_is_vietnam_time_with_microseconds(
    world, api, walker, django_capture_on_commit_callbacks
):
    api_base = "/api/v1"
    leader, officer, admin, ministry = api(world.tuan), api(world.hoa), api(world.lan), api(world.minh)
    # A time on a whole second must still carry ".000000": one team's and one activity's updated_at are.
    Team.objects.filter(pk=world.teams.a1.pk).update(updated_at=dt.datetime(2026, 3, 4, 1, 2, 3, tzinfo=UTC))

    # Sync: created, replayed (unchanged), and a stale edit answering "conflict" with the server's copy.
    batch = sync_items(world.teams.a1, 3)
    created = walker.check(leader.post(f"{api_base}/activities/sync/", {"activities": batch}), 200)["results"]
    assert [r["status"] for r in created] == ["created"] * 3
    walker.check(leader.post(f"{api_base}/activities/sync/", {"activities": batch}), 200)
    stale = dict(batch[1], people_helped=77, base_updated_at="2020-01-01T00:00:00Z")
    conflict = walker.check(leader.post(f"{api_base}/activities/sync/", {"activities": [stale]}), 200)["results"]
    assert conflict[0]["status"] == "conflict" and STAMP.match(conflict[0]["server"]["updated_at"])

    activity_id = batch[0]["id"]
    Activity.objects.filter(pk=activity_id).update(updated_at=dt.datetime(2026, 3, 4, 1, 2, 3, tzinfo=UTC))
    detail = walker.check(leader.get(f"{api_base}/activities/{activity_id}/"), 200)
    assert detail["updated_at"] == "2026-03-04T08:02:03.000000+07:00"

    # Activity PATCH: 428 without a base and 412 with a stale one, each carrying the current updated_at.
    required = walker.check(officer.patch(f"{api_base}/activities/{activity_id}/", {"note": "Sửa"}), 428)
    assert required["updated_at"] == detail["updated_at"]
    stale_base = "2026-03-04T08:02:03.000001+07:00"
    failed = walker.check(
        officer.patch(f"{api_base}/activities/{activity_id}/", {"note": "Sửa", "base_updated_at": stale_base}), 412
    )
    assert failed["updated_at"] == detail["updated_at"]
    # The round trip: the updated_at a GET gave back, sent as the base, is the stored value to the microsecond.
    edited = walker.check(
        officer.patch(
            f"{api_base}/activities/{activity_id}/", {"note": "Sửa", "base_updated_at": detail["updated_at"]}
        ),
        200,
    )
    stored = Activity.objects.get(pk=activity_id).updated_at
    assert edited["updated_at"] == format_timestamp(stored)
    again = walker.check(
        officer.patch(
            f"{api_base}/activities/{activity_id}/", {"note": "Lại", "base_updated_at": edited["updated_at"]}
        ),
        200,
    )
    assert again["note"] == "Lại"
    # The same round trip through the sync (its own fast parser reads the base).
    fresh = dict(batch[2], people_helped=55, base_updated_at=created[2]["updated_at"])
    assert (
        walker.check(leader.post(f"{api_base}/activities/sync/", {"activities": [fresh]}), 200)["results"][0]["status"]
        == "updated"
    )

    # The other writes: a team edit (for the audit log) and an import job run to its end.
    version = Team.objects.get(pk=world.teams.a2.pk).version
    walker.check(admin.patch(f"{api_base}/teams/{world.teams.a2.pk}/", {"version": version, "name": "Tổ Mới"}), 200)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = walker.check(upload(admin, csv_bytes(north_team())), 201)["id"]
    run_import.apply(args=[job_id])

    # Every stored time on a whole second from here: DRF's own format matches the pattern except there
    # (it drops ".000000"), so the reads below would catch a serializer that bypasses TimestampField.
    truncate_to_seconds()
    walker.check(officer.get(f"{api_base}/activities/", {"team": str(world.teams.a1.pk)}), 200)
    changes = walker.check(leader.get(f"{api_base}/activities/changes/"), 200)
    assert changes["results"]
    walker.check(leader.get(f"{api_base}/activities/changes/", {"since": changes["next_cursor"]}), 200)

    # The registry: team, members, hamlets, /me/, the audit log and the import job.
    team = walker.check(leader.get(f"{api_base}/teams/{world.teams.a1.pk}/"), 200)
    assert team["updated_at"] == "2026-03-04T08:02:03.000000+07:00"
    walker.check(admin.get(f"{api_base}/teams/"), 200)
    walker.check(leader.get(f"{api_base}/teams/{world.teams.a1.pk}/members/"), 200)
    walker.check(admin.get(f"{api_base}/members/{world.leaders.a1.pk}/"), 200)
    walker.check(admin.get(f"{api_base}/members/"), 200)
    walker.check(officer.get(f"{api_base}/hamlets/", {"commune": world.a1.code}), 200)
    walker.check(leader.get(f"{api_base}/me/"), 200)
    audit = walker.check(ministry.get(f"{api_base}/audit/"), 200)
    assert AuditEntry.objects.exists() and audit["results"]
    job = walker.check(admin.get(f"{api_base}/imports/{job_id}/"), 200)
    assert job["status"] == "succeeded" and job["finished_at"].endswith(".000000+07:00")

    # Coverage, computed on a whole second, then read now and from a day's snapshot (stored as JSON text).
    computed = whole_second(timezone.now())
    with time_machine.travel(computed, tick=False):
        coverage_services.recompute_all()
    computed_text = format_timestamp(computed)
    assert computed_text.endswith(".000000+07:00")
    nation = walker.check(ministry.get(f"{api_base}/coverage/national/"), 200)
    assert nation["computed_at"] == computed_text
    walker.check(admin.get(f"{api_base}/coverage/provinces/"), 200)
    walker.check(admin.get(f"{api_base}/coverage/provinces/{world.a.code}/"), 200)
    walker.check(admin.get(f"{api_base}/coverage/provinces/{world.a.code}/communes/"), 200)
    walker.check(officer.get(f"{api_base}/coverage/communes/{world.a1.code}/"), 200)
    today = timezone.localdate()
    coverage_services.snapshot_take(day=today)
    snapshot = walker.check(ministry.get(f"{api_base}/coverage/national/", {"as_of": str(today)}), 200)
    assert snapshot["computed_at"] == computed_text
    walker.check(admin.get(f"{api_base}/coverage/provinces/", {"as_of": str(today)}), 200)
    walker.check(admin.get(f"{api_base}/coverage/provinces/{world.a.code}/communes/", {"as_of": str(today)}), 200)

    # Health: the last reconcile.
    ReconcileRun.objects.create(started_at=computed, finished_at=computed, communes=4, differences=0, examples=[])
    health = walker.check(api(None).get(f"{api_base}/health/"), 200)
    assert health["coverage"]["last_reconcile"] == computed_text

    missing = walker.declared() - walker.seen
    assert not missing, f"date-time properties no call above filled: {sorted(missing)}"


def test_csv_exports_write_the_one_format_and_xlsx_a_real_vietnam_time(world, api):
    computed = whole_second(timezone.now())
    with time_machine.travel(computed, tick=False):
        coverage_services.recompute_all()
    client = api(world.lan)
    today = timezone.localdate()
    coverage_services.snapshot_take(day=today)
    for params in ({}, {"as_of": str(today)}):
        response = client.get("/api/v1/coverage/provinces/export/csv/", params)
        assert response.status_code == 200
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        column = lines[0].index("Thời điểm tính")
        assert [line[column] for line in lines[1:]] == [format_timestamp(computed)]

    response = client.get("/api/v1/coverage/provinces/export/xlsx/")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    cell = rows[1][rows[0].index("Thời điểm tính")]
    assert cell == timezone.localtime(computed, timezone.get_default_timezone()).replace(tzinfo=None)
