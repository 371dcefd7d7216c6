"""Hostile and awkward input: each case gets a clear 4xx with a message and writes nothing, or is stored as it should.

Vietnamese names arrive in NFC and NFD, with the tone mark on either vowel, and with invisible characters
pasted from chat apps; clients send huge bodies, broken JSON, the wrong content type, impossible dates and
numbers as strings. Integer fields accept numeric strings ("5") everywhere, as DRF does, and refuse
non-numeric ones ("five") everywhere: the rule is the same on every field.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from activities.models import Activity
from areas.models import Hamlet
from members.models import Member
from teams.models import Team
from tests.reliability.support import assert_clear_4xx, fingerprint

pytestmark = pytest.mark.django_db

NFC = unicodedata.normalize("NFC", "Thôn Hoà Bình Thượng")
NFD = unicodedata.normalize("NFD", NFC)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def _hamlet(client, commune, name):
    return client.post("/api/v1/hamlets/", {"commune": commune.code, "name": name, "kind": "thon"}, format="json")


def _team(client, commune, name, **extra):
    body = {"commune": commune.code, "name": name, "established_on": "2025-08-01", **extra}
    return client.post("/api/v1/teams/", body, format="json")


def _member(client, team, **fields):
    body = {"team": str(team.pk), "full_name": "Lê Thị Mới", "phone": "0987000111", **fields}
    return client.post("/api/v1/members/", body, format="json")


def _activity(world, api):
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate()),
        "people_helped": 3,
    }
    result = api(world.tuan).post("/api/v1/activities/sync/", {"activities": [item]}).data["results"][0]
    assert result["status"] == "created", result
    return Activity.objects.get(pk=item["id"])


def _patch_activity(api, world, activity, **changes):
    activity.refresh_from_db()
    body = {"base_updated_at": activity.updated_at.isoformat(), **changes}
    return api(world.tuan).patch(f"/api/v1/activities/{activity.pk}/", body, format="json")


# --- Unicode forms, tone placement and invisible characters -----------------------------------------------


@pytest.mark.parametrize(("first", "second"), [(NFD, NFC), (NFC, NFD)], ids=["nfd-then-nfc", "nfc-then-nfd"])
def test_a_name_is_stored_nfc_and_its_twin_in_the_other_form_is_refused(world, api, first, second):
    client = api(world.lan)
    created = _hamlet(client, world.a1, first)
    assert created.status_code == 201, created.data
    assert created.json()["name"] == NFC
    assert Hamlet.objects.get(pk=created.data["id"]).name == NFC
    before = fingerprint()
    assert_clear_4xx(_hamlet(client, world.a1, second), 400, field="name")
    assert fingerprint() == before


def test_team_and_member_names_are_stored_nfc(world, api):
    client = api(world.lan)
    team = _team(client, world.a1, unicodedata.normalize("NFD", "Tổ CNSCĐ Phường Hoà Bình"))
    assert team.status_code == 201, team.data
    assert Team.objects.get(pk=team.data["id"]).name == unicodedata.normalize("NFC", "Tổ CNSCĐ Phường Hoà Bình")
    member = _member(client, world.teams.a1, full_name=unicodedata.normalize("NFD", "Nguyễn Thị Thuỵ"))
    assert member.status_code == 201, member.data
    assert Member.objects.get(pk=member.data["id"]).full_name == unicodedata.normalize("NFC", "Nguyễn Thị Thuỵ")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Thôn Hoá Lạc", "Thôn Hóa Lạc"),  # the tone on the second vowel (old style) or the first (new style)
        ("Tổ dân phố Thuỵ Khuê", "Tổ dân phố Thụy Khuê"),
        ("Ấp Hoà Khánh", "ẤP HÒA KHÁNH"),  # and letter case
    ],
)
def test_tone_placement_variants_are_duplicates(world, api, first, second):
    client = api(world.lan)
    assert _hamlet(client, world.a1, first).status_code == 201
    before = fingerprint()
    assert_clear_4xx(_hamlet(client, world.a1, second), 400, field="name")
    assert fingerprint() == before


def test_a_different_tone_is_a_different_name(world, api):
    # Hoà (falling) and Hóa (rising) are different words: refusing them would refuse real hamlets.
    client = api(world.lan)
    assert _hamlet(client, world.a1, "Thôn Hoà").status_code == 201
    assert _hamlet(client, world.a1, "Thôn Hóa").status_code == 201


def test_zero_width_characters_are_stripped(world, api):
    client = api(world.lan)
    hamlet = _hamlet(client, world.a1, "Thôn\u200b Đông\u200d Mới\ufeff")
    assert hamlet.status_code == 201, hamlet.data
    assert hamlet.json()["name"] == "Thôn Đông Mới"
    team = _team(client, world.a1, "Tổ\u2060 CNSCĐ\u200c Mới")
    assert team.status_code == 201, team.data
    assert team.json()["name"] == "Tổ CNSCĐ Mới"
    member = _member(client, world.teams.a1, full_name="Trần\u200b Văn\u00ad Ba")
    assert member.status_code == 201, member.data
    assert Member.objects.get(pk=member.data["id"]).full_name == "Trần Văn Ba"


def test_a_zero_width_twin_of_an_existing_name_is_a_duplicate(world, api):
    client = api(world.lan)
    assert _hamlet(client, world.a1, "Thôn Bắc").status_code == 201
    before = fingerprint()
    assert_clear_4xx(_hamlet(client, world.a1, "Thôn\u200b Bắc"), 400, field="name")
    assert fingerprint() == before


@pytest.mark.parametrize("invisible", [INVISIBLE, "\u200b", " \u200b \ufeff "])
def test_a_name_of_only_invisible_characters_is_refused(world, api, invisible):
    client = api(world.lan)
    before = fingerprint()
    assert_clear_4xx(_hamlet(client, world.a1, invisible), 400, field="name")
    assert_clear_4xx(_team(client, world.a1, invisible), 400, field="name")
    assert_clear_4xx(_member(client, world.teams.a1, full_name=invisible), 400, field="full_name")
    assert fingerprint() == before


# --- Size limits ------------------------------------------------------------------------------------------


TEN_MB = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/teams/"), ("post", "/api/v1/members/"), ("post", "/api/v1/hamlets/")],
)
def test_a_ten_megabyte_json_body_is_refused(world, api, method, path):
    # Valid JSON whose padding field the endpoint would otherwise ignore: only the size can refuse it.
    body = {
        "commune": world.a1.code,
        "team": str(world.teams.a1.pk),
        "name": "Tổ CNSCĐ Cồng Kềnh",
        "full_name": "Phạm Văn Nặng",
        "phone": "0987000222",
        "kind": "thon",
        "established_on": "2025-08-01",
        "padding": "x" * TEN_MB,
    }
    before = fingerprint()
    response = getattr(api(world.lan), method)(path, json.dumps(body), content_type="application/json")
    assert_clear_4xx(response, (413, 400))
    assert fingerprint() == before


def test_a_ten_megabyte_sync_body_is_refused(world, api):
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate()),
        "people_helped": 3,
        "note": "x" * TEN_MB,
    }
    before = fingerprint()
    response = api(world.tuan).post("/api/v1/activities/sync/", {"activities": [item]}, format="json")
    assert_clear_4xx(response, 413)
    assert fingerprint() == before


def test_an_upload_over_ten_megabytes_is_refused(world, api):
    upload = SimpleUploadedFile("dang-ky.csv", b"ma_xa,ho_ten\n" + b"x" * (TEN_MB + 1), content_type="text/csv")
    before = fingerprint()
    response = api(world.lan).post("/api/v1/imports/", {"file": upload}, format="multipart")
    assert_clear_4xx(response, (413, 400))
    assert fingerprint() == before


def test_a_sync_batch_of_10001_items_is_refused(world, api):
    today = str(timezone.localdate())
    batch = [
        {
            "id": str(uuid.uuid4()),
            "team": str(world.teams.a1.pk),
            "type": "vneid",
            "occurred_on": today,
            "people_helped": 1,
        }
        for _ in range(10_001)
    ]
    before = fingerprint()
    response = api(world.tuan).post("/api/v1/activities/sync/", {"activities": batch}, format="json")
    assert_clear_4xx(response, 413)
    assert fingerprint() == before


# --- Malformed JSON and wrong content types ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b'{"name": ', b'{"name": "x",}', b"{'name': 'x'}", b"\xff\xfe{}", b'{"people_helped": NaN}', b"[1, 2"],
    ids=["truncated", "trailing-comma", "single-quotes", "not-utf8", "nan", "unclosed-array"],
)
@pytest.mark.parametrize("path", ["/api/v1/teams/", "/api/v1/members/", "/api/v1/hamlets/", "/api/v1/activities/sync/"])
def test_malformed_json_is_400(world, api, raw, path):
    before = fingerprint()
    response = api(world.lan).post(path, raw, content_type="application/json")
    assert_clear_4xx(response, 400)
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("path", "content_type", "raw"),
    [
        ("/api/v1/teams/", "text/plain", b"name=x"),
        ("/api/v1/teams/", "application/xml", b"<team><name>x</name></team>"),
        ("/api/v1/teams/", "application/x-www-form-urlencoded", b"commune=00001&name=x&established_on=2025-08-01"),
        ("/api/v1/members/", "multipart/form-data; boundary=zzz", b"--zzz--\r\n"),
        ("/api/v1/activities/sync/", "text/csv", b"id,team\n1,2\n"),
        ("/api/v1/imports/", "application/json", b'{"file": "dang-ky.csv"}'),
    ],
)
def test_a_wrong_content_type_is_415(world, api, path, content_type, raw):
    before = fingerprint()
    response = api(world.lan).post(path, raw, content_type=content_type)
    assert_clear_4xx(response, 415)
    assert fingerprint() == before


# --- SQL and HTML metacharacters ---------------------------------------------------------------------------

HOSTILE = [
    "'; DROP TABLE teams_team; --",
    "<script>alert(1)</script>",
    'Robert"); DELETE FROM members_member; --',
    "<img src=x onerror=alert(1)> & \" ' \\",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_sql_and_html_metacharacters_are_stored_verbatim_and_returned_as_json(world, api, value):
    client = api(world.lan)
    created = _team(client, world.a1, value)
    assert created.status_code == 201, created.data
    team_id = created.data["id"]
    read = client.get(f"/api/v1/teams/{team_id}/")
    assert read["Content-Type"] == "application/json"
    assert read["X-Content-Type-Options"] == "nosniff"
    assert json.loads(read.content)["name"] == value
    assert Team.objects.get(pk=team_id).name == value
    member = _member(client, world.teams.a1, full_name=value)
    assert member.status_code == 201, member.data
    assert json.loads(client.get(f"/api/v1/members/{member.data['id']}/").content)["full_name"] == value
    hamlet = _hamlet(client, world.a1, value)
    assert hamlet.status_code == 201, hamlet.data
    assert json.loads(client.get(f"/api/v1/hamlets/{hamlet.data['id']}/").content)["name"] == value
    # Nothing ran: the tables are there and hold every row.
    tables = set(connection.introspection.table_names())
    assert {"teams_team", "members_member", "areas_hamlet"} <= tables
    assert Team.objects.count() == 4
    assert Member.objects.filter(active=True).count() == 13


@pytest.mark.parametrize("term", ["' OR '1'='1", "%' OR 1=1 --", "%", "_", "\\"])
def test_sql_metacharacters_in_a_search_match_literally(world, api, term):
    response = api(world.lan).get("/api/v1/teams/", {"search": term})
    assert response.status_code == 200
    assert response.data["results"] == []


def test_an_activity_note_round_trips_verbatim(world, api):
    activity = _activity(world, api)
    value = "<b>ghi chú</b> '; DROP TABLE activities_activity; --"
    response = _patch_activity(api, world, activity, note=value)
    assert response.status_code == 200, response.data
    assert json.loads(api(world.tuan).get(f"/api/v1/activities/{activity.pk}/").content)["note"] == value
    assert "activities_activity" in connection.introspection.table_names()


# --- Dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2025-02-30", "2025-13-01", "2025-00-10", "30/02/2025", "2025-2-3x"])
def test_impossible_dates_are_400(world, api, day):
    client = api(world.lan)
    before = fingerprint()
    assert_clear_4xx(_team(client, world.a1, "Tổ Ngày Sai", established_on=day), 400, field="established_on")
    assert_clear_4xx(_member(client, world.teams.a1, joined_on=day), 400, field="joined_on")
    team = world.teams.a1
    team.refresh_from_db()
    response = client.patch(
        f"/api/v1/teams/{team.pk}/", {"established_on": day, "version": team.version}, format="json"
    )
    assert_clear_4xx(response, 400, field="established_on")
    assert_clear_4xx(client.get("/api/v1/coverage/provinces/", {"as_of": day}), 400, field="as_of")
    assert_clear_4xx(client.get("/api/v1/activities/", {"occurred_from": day}), 400, field="occurred_from")
    assert fingerprint() == before


def test_an_impossible_date_in_a_sync_item_is_rejected_with_a_message(world, api):
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": "2025-02-30",
        "people_helped": 3,
    }
    before = fingerprint()
    result = api(world.tuan).post("/api/v1/activities/sync/", {"activities": [item]}, format="json").data["results"]
    assert result[0]["status"] == "rejected"
    assert result[0]["errors"]["occurred_on"]
    assert fingerprint() == before


# --- Numbers --------------------------------------------------------------------------------------------------


def _integer_writes(world, api, activity, value):
    """One write per integer field of the API, each sending `value`; yields (field, response)."""
    client = api(world.lan)
    yield "birth_year", _member(client, world.teams.a1, phone="0987000333", birth_year=value)
    policy = {"min_members": value, "max_members": 9}
    yield "min_members", client.put(f"/api/v1/team-size-policies/{world.a.code}/", policy, format="json")
    yield "hamlet", _team(client, world.a2, "Tổ Thôn Tây", hamlet=value)
    yield "people_helped", _patch_activity(api, world, activity, people_helped=value)
    yield "duration_minutes", _patch_activity(api, world, activity, duration_minutes=value)


@pytest.mark.parametrize("value", ["five", "5x", "5.5", "0x10", "1e3", "5 5"])
def test_non_numeric_strings_for_integer_fields_are_400(world, api, value):
    activity = _activity(world, api)
    before = fingerprint()
    for name, response in _integer_writes(world, api, activity, value):
        assert_clear_4xx(response, 400, field=name)
    assert fingerprint() == before
    assert_clear_4xx(api(world.tuan).get("/api/v1/activities/changes/", {"limit": value}), 400, field="limit")


def test_numeric_strings_are_accepted_on_every_integer_field(world, api):
    # Decided: accept, everywhere (DRF's IntegerField coerces "5"); a client cannot tell fields apart.
    hamlet_id = world.hamlets.a2.pk
    client = api(world.lan)
    member = _member(client, world.teams.a1, phone="0987000333", birth_year="1985")
    assert member.status_code == 201, member.data
    assert member.json()["birth_year"] == 1985
    policy = client.put(f"/api/v1/team-size-policies/{world.a.code}/", {"min_members": "3", "max_members": "9"})
    assert policy.status_code == 200, policy.data
    assert policy.json()["min_members"] == 3
    team = _team(client, world.a2, "Tổ Thôn Tây", hamlet=str(hamlet_id))
    assert team.status_code == 201, team.data
    assert team.json()["hamlet"] == hamlet_id
    activity = _activity(world, api)
    response = _patch_activity(api, world, activity, people_helped="5", duration_minutes="45")
    assert response.status_code == 200, response.data
    assert (response.json()["people_helped"], response.json()["duration_minutes"]) == (5, 45)
    assert api(world.tuan).get("/api/v1/activities/changes/", {"limit": "5"}).status_code == 200


@pytest.mark.parametrize("value", [-1, 0, 10**30, -(10**30), 2**63], ids=str)
def test_negative_and_huge_integers_are_400_not_500(world, api, value):
    activity = _activity(world, api)
    before = fingerprint()
    for name, response in _integer_writes(world, api, activity, value):
        assert_clear_4xx(response, 400, field=name)
    assert fingerprint() == before


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "5.5", "true"])
def test_float_literals_for_integer_fields_are_400(world, api, literal):
    # Sent as raw JSON: 1e400 parses to infinity, which no client library would even encode. (An integral float
    # such as 1e3 is accepted as 1000, as JSON Schema's "integer" accepts it.)
    activity = _activity(world, api)
    before = fingerprint()
    raw = '{"commune": "00002", "name": "Tổ Thôn Tây", "established_on": "2025-08-01", "hamlet": ' + literal + "}"
    response = api(world.lan).post("/api/v1/teams/", raw.encode(), content_type="application/json")
    assert_clear_4xx(response, 400, field="hamlet")
    raw = '{"base_updated_at": "' + activity.updated_at.isoformat() + '", "people_helped": ' + literal + "}"
    response = api(world.tuan).patch(
        f"/api/v1/activities/{activity.pk}/", raw.encode(), content_type="application/json"
    )
    assert_clear_4xx(response, 400, field="people_helped")
    assert fingerprint() == before


def test_a_number_too_long_to_parse_is_400(world, api):
    raw = '{"commune": "00001", "name": "Tổ Số Dài", "established_on": "2025-08-01", "hamlet": ' + "9" * 5000 + "}"
    before = fingerprint()
    assert_clear_4xx(api(world.lan).post("/api/v1/teams/", raw.encode(), content_type="application/json"), 400)
    assert fingerprint() == before


@pytest.mark.parametrize("path", [f"/api/v1/hamlets/{10**30}/", f"/api/v1/hamlets/{2**63}/"])
def test_a_huge_id_in_the_path_is_404_not_500(world, api, path):
    assert_clear_4xx(api(world.lan).get(path), 404)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/teams/", {"hamlet": "-1"}, "hamlet"),
        ("/api/v1/activities/changes/", {"limit": str(10**30)}, "limit"),
        ("/api/v1/activities/changes/", {"limit": "-1"}, "limit"),
    ],
)
def test_huge_and_negative_integers_in_filters_are_400(world, api, path, params, field):
    assert_clear_4xx(api(world.lan).get(path, params), 400, field=field)


def test_a_huge_hamlet_filter_is_an_empty_list_or_a_400(world, api):
    # Filters narrow a scoped list: an id past bigint matches nothing (Django turns the overflow into an empty
    # result); a 400 would do as well. A 500, or any row, would not.
    response = api(world.lan).get("/api/v1/teams/", {"hamlet": str(10**30)})
    if response.status_code == 200:
        assert response.data["results"] == []
    else:
        assert_clear_4xx(response, 400, field="hamlet")


def test_huge_page_numbers_are_404_and_huge_page_sizes_are_capped(world, api):
    client = api(world.lan)
    assert_clear_4xx(client.get("/api/v1/teams/", {"page": str(10**30)}), 404)
    response = client.get("/api/v1/teams/", {"page_size": str(10**30)})
    assert response.status_code == 200
    assert len(response.data["results"]) == 2


def test_far_future_and_far_past_dates_are_clear_400s(world, api):
    client = api(world.lan)
    tomorrow = str(timezone.localdate() + dt.timedelta(days=1))
    before = fingerprint()
    assert_clear_4xx(_team(client, world.a1, "Tổ Tương Lai", established_on=tomorrow), 400, field="established_on")
    assert_clear_4xx(_team(client, world.a1, "Tổ Năm Lớn", established_on="99999-01-01"), 400, field="established_on")
    assert fingerprint() == before
