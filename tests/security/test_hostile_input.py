"""Hostile input through HTTP: no value of the corpus gives a 5xx or writes anything, on either database.

The fields to attack are read from the served OpenAPI schema, so a new field or endpoint joins the corpus
by itself. Each write starts from a payload that the test proves valid at the end (the last request sends
it unchanged and expects success): a rejection is therefore the hostile field's doing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import quote

import pytest
from django.utils import timezone

from activities.models import Activity
from tests.reliability.support import fingerprint
from tests.security.support import (
    NESTING_DEPTHS,
    Http,
    assert_4xx_with_message,
    for_kind,
    nested_text,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def http(live_server, world):
    return Http(live_server.url)


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _body_fields(schema, path: str, method: str) -> dict[str, str]:
    """{field: kind} of an operation's JSON request body, kind being integer, date, date-time or string."""
    operation = schema["paths"][f"/api/v1{path}"][method.lower()]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return _kinds(schema, reference)


def _kinds(schema, reference: str) -> dict[str, str]:
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    kinds = {}
    for name, spec in component["properties"].items():
        if spec.get("readOnly"):
            continue
        kinds[name] = spec.get("format") if spec.get("format") in {"date", "date-time"} else spec.get("type", "string")
    return kinds


def _today() -> str:
    return timezone.localdate().isoformat()


def _sync_item(world, **changes) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": _today(),
        "people_helped": 3,
        "note": "Hướng dẫn cài VNeID",
    } | changes


# Each write: (actor, method, path template, a valid body). Templates take the world; bodies may too.
WRITES = {
    "hamlet create": (
        "hoa",
        "POST",
        lambda w: "/hamlets/",
        lambda w: {"commune": "00001", "name": "Thôn Mới", "kind": "thon"},
    ),
    "hamlet update": ("hoa", "PATCH", lambda w: f"/hamlets/{w.hamlets.a1.pk}/", lambda w: {"name": "Thôn Đông Mới"}),
    "team create": (
        "hoa",
        "POST",
        lambda w: "/teams/",
        lambda w: {"commune": "00001", "name": "Tổ CNSCĐ Phường Hoà Bình", "established_on": "2024-01-02"},
    ),
    "team update": (
        "hoa",
        "PATCH",
        lambda w: f"/teams/{w.teams.a1.pk}/",
        lambda w: {"version": w.teams.a1.version, "name": "Tổ CNSCĐ Thôn Đông Mới", "established_on": "2024-01-02"},
    ),
    "team dissolve": (
        "hoa",
        "POST",
        lambda w: f"/teams/{w.teams.a1.pk}/dissolve/",
        lambda w: {"version": w.teams.a1.version, "dissolved_on": _today()},
    ),
    "leader account": (
        "hoa",
        "POST",
        lambda w: f"/teams/{w.teams.a1.pk}/leader-account/",
        lambda w: {"password": "mat-khau-moi-2025"},
    ),
    "member create": (
        "hoa",
        "POST",
        lambda w: "/members/",
        lambda w: {
            "team": str(w.teams.a1.pk),
            "full_name": "Nguyễn Văn Mới",
            "phone": "0966000123",
            "national_id": "001099000123",
            "birth_year": 1990,
            "joined_on": "2024-01-02",
        },
    ),
    "member update": (
        "hoa",
        "PATCH",
        lambda w: f"/members/{w.leaders.a1.pk}/",
        lambda w: {
            "version": w.leaders.a1.version,
            "full_name": "Trần Thị Mới",
            "birth_year": 1991,
            "joined_on": "2024-01-02",
        },
    ),
    "activity type create": (
        "minh",
        "POST",
        lambda w: "/activity-types/",
        lambda w: {"code": "new_kind", "name_vi": "Loại mới", "name_en": "New kind", "sort_order": 5},
    ),
    "activity type update": (
        "minh",
        "PATCH",
        lambda w: "/activity-types/vneid/",
        lambda w: {"name_vi": "VNeID mới", "sort_order": 7},
    ),
    "size policy": ("lan", "PUT", lambda w: "/team-size-policies/01/", lambda w: {"min_members": 3, "max_members": 10}),
    "login": (
        None,
        "POST",
        lambda w: "/auth/token/",
        lambda w: {"phone": w.lan.phone, "password": "mat-khau-an-toan-123"},
    ),
}

SCHEMA_OPERATION = {  # the schema's path and method of each write, where they differ from the template
    "hamlet update": ("/hamlets/{id}/", "PATCH"),
    "team update": ("/teams/{id}/", "PATCH"),
    "team dissolve": ("/teams/{id}/dissolve/", "POST"),
    "leader account": ("/teams/{id}/leader-account/", "POST"),
    "member update": ("/members/{id}/", "PATCH"),
    "activity type update": ("/activity-types/{code}/", "PATCH"),
    "size policy": ("/team-size-policies/{code}/", "PUT"),
}


def _client(http, world, actor):
    return http if actor is None else http.as_(getattr(world, actor))


@pytest.mark.parametrize("name", sorted(WRITES))
def test_no_hostile_value_in_any_field_of_a_write_gives_a_5xx_or_writes(http, world, schema, name):
    actor, method, path_of, body_of = WRITES[name]
    client = _client(http, world, actor)
    path = path_of(world)
    schema_path, schema_method = SCHEMA_OPERATION.get(name, (path, method))
    fields = _body_fields(schema, schema_path, schema_method)
    assert fields, name
    before = fingerprint()
    tried = 0
    for field, kind in fields.items():
        for label, value in for_kind(kind):
            response = client.request(method, path, body=body_of(world) | {field: value})
            assert_4xx_with_message(response, (name, field, label))
            tried += 1
    for depth in NESTING_DEPTHS:
        response = client.request(method, path, raw=nested_text(depth))
        assert_4xx_with_message(response, (name, "whole body nested", depth))
    assert fingerprint() == before, f"{name}: a hostile request wrote"
    # The valid body passes: every rejection above was the hostile value's doing.
    valid = client.request(method, path, body=body_of(world))
    assert valid.status_code < 300, (name, valid.status_code, valid.text[:300])
    assert tried > len(fields) * 5


def test_no_hostile_value_in_a_sync_item_gives_a_5xx_or_writes(http, world, schema):
    client = http.as_(world.tuan)
    fields = _kinds(schema, "#/components/schemas/SyncItemInputRequest")
    before = fingerprint()
    for field, kind in fields.items():
        for label, value in for_kind(kind):
            response = client.post("/activities/sync/", {"activities": [_sync_item(world, **{field: value})]})
            if response.status_code == 200:
                (result,) = response.json()["results"]
                assert result["status"] == "rejected", (field, label, result)
                assert result.get("errors"), (field, label, result)
            else:
                assert_4xx_with_message(response, (field, label))
    for depth in NESTING_DEPTHS:
        assert_4xx_with_message(client.post("/activities/sync/", raw=nested_text(depth)), depth)
    assert fingerprint() == before
    valid = client.post("/activities/sync/", {"activities": [_sync_item(world)]})
    assert valid.json()["results"][0]["status"] == "created", valid.text[:300]


def test_one_hostile_sync_item_rejects_only_itself(http, world):
    client = http.as_(world.tuan)
    items = [_sync_item(world), _sync_item(world, note="có\x00NUL"), _sync_item(world, note="lẻ \ud800")]
    response = client.post("/activities/sync/", {"activities": items})
    assert response.status_code == 200, response.text[:300]
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected", "rejected"]
    assert Activity.objects.count() == 1


def test_no_hostile_value_in_an_activity_patch_gives_a_5xx_or_writes(http, world, schema):
    client = http.as_(world.tuan)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    created = client.post("/activities/sync/", {"activities": [_sync_item(world, occurred_on=day)]})
    assert created.json()["results"][0]["status"] == "created", created.text[:300]
    activity = Activity.objects.get()
    fields = _body_fields(schema, "/activities/{id}/", "PATCH")
    stamp = activity.updated_at.isoformat()
    before = fingerprint()
    for field, kind in fields.items():
        for label, value in for_kind(kind):
            response = client.patch(f"/activities/{activity.pk}/", {"base_updated_at": stamp, field: value})
            assert_4xx_with_message(response, (field, label))
    assert fingerprint() == before
    valid = client.patch(f"/activities/{activity.pk}/", {"base_updated_at": stamp, "note": "Sửa lại"})
    assert valid.status_code == 200, valid.text[:300]


def _list_operations(schema):
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get or "{" in path or not path.startswith("/api/v1/"):
            continue
        parameters = [p for p in get.get("parameters", []) if p["in"] == "query" and p["name"] != "format"]
        if parameters:
            yield path.removeprefix("/api/v1"), parameters


def _parameter_kind(parameter) -> str:
    spec = parameter.get("schema", {})
    if spec.get("format") in {"date", "date-time"}:
        return spec["format"]
    return spec.get("type", "string")


@pytest.mark.parametrize("persona", ["minh", "tuan"])
def test_no_hostile_query_parameter_of_any_list_gives_a_5xx(http, world, schema, persona):
    client = http.as_(getattr(world, persona))
    operations = list(_list_operations(schema))
    assert len(operations) >= 8, operations
    for path, parameters in operations:
        for parameter in parameters:
            for label, value in for_kind(_parameter_kind(parameter)):
                if not isinstance(value, str | int):
                    continue
                # Percent-encoded by hand: a lone surrogate goes out as the invalid UTF-8 bytes it would be.
                text = quote(str(value)[:10_000], safe="", errors="surrogatepass")
                response = client.get(f"{path}?{parameter['name']}={text}")
                assert response.status_code < 500, (path, parameter["name"], label, response.text[:300])
                if response.status_code >= 400:
                    assert_4xx_with_message(response, (path, parameter["name"], label))


@pytest.mark.parametrize(
    "path",
    [
        "/teams/{}/",
        "/members/{}/",
        "/hamlets/{}/",
        "/activities/{}/",
        "/imports/{}/",
        "/provinces/{}/",
        "/communes/{}/",
        "/coverage/communes/{}/",
    ],
)
@pytest.mark.parametrize("value", [str(2**63), str(10**30), "٥", "%00", "-1", "9" * 400])
def test_a_hostile_id_in_the_path_is_a_4xx(http, world, path, value):
    response = http.as_(world.minh).get(path.format(value))
    assert_4xx_with_message(response, (path, value))


def test_deep_json_to_the_login_without_a_token_is_a_400(http, world):
    for depth in NESTING_DEPTHS:
        response = http.post("/auth/token/", raw=nested_text(depth))
        assert_4xx_with_message(response, depth)
        assert response.status_code == 400


def test_the_browsable_api_is_never_served(http, world):
    client = http.as_(world.minh)
    for path in ("/members/", "/teams/", "/coverage/national/"):
        response = client.get(path, params={"format": "api"})
        assert response.status_code in {200, 404}, (path, response.status_code)
        assert not response.headers["content-type"].startswith("text/html"), path


# --- Edits hold dates to the rules that creates do ----------------------------------------------------------


def test_an_activity_edit_cannot_move_it_further_back_than_a_create_may(http, world, settings):
    client = http.as_(world.tuan)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert client.post("/activities/sync/", {"activities": [_sync_item(world, occurred_on=day)]}).status_code == 200
    activity = Activity.objects.get()
    too_old = (timezone.localdate() - dt.timedelta(days=settings.ACTIVITY_MAX_AGE_DAYS + 1)).isoformat()
    created = client.post("/activities/sync/", {"activities": [_sync_item(world, occurred_on=too_old)]})
    assert created.json()["results"][0]["status"] == "rejected"
    for value in (too_old, "1950-01-01", "0001-01-01"):
        response = client.patch(
            f"/activities/{activity.pk}/", {"base_updated_at": activity.updated_at.isoformat(), "occurred_on": value}
        )
        assert_4xx_with_message(response, value)
        assert response.json()["errors"]["occurred_on"]
    assert Activity.objects.get().occurred_on.isoformat() == day


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2999-01-01"])
def test_a_team_edit_checks_the_founding_date_as_a_create_does(http, world, value):
    client = http.as_(world.hoa)
    create = client.post("/teams/", {"commune": "00001", "name": "Tổ Mới", "established_on": value})
    patch = client.patch(f"/teams/{world.teams.a1.pk}/", {"version": world.teams.a1.version, "established_on": value})
    for response in (create, patch):
        assert_4xx_with_message(response, value)
        assert response.json()["errors"]["established_on"]


def test_an_out_of_range_time_names_the_years(http, world):
    response = http.as_(world.minh).get("/audit/", params={"since": "0001-01-01T00:00:00"})
    assert_4xx_with_message(response)
    message = response.json()["errors"]["since"][0]
    assert "1900" in message and "2100" in message


@pytest.mark.parametrize("debug", [False, True])
def test_a_url_that_matches_nothing_under_the_api_is_a_json_404_in_every_mode(http, world, settings, debug):
    settings.DEBUG = debug
    client = http.as_(world.minh)
    for path in ("/hamlets/99999999999999999999/", "/teams/not-a-uuid/", "/no-such-endpoint/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert_4xx_with_message(response, path)
        assert "hamlets/<id:pk>" not in response.text
