"""The one error envelope (config.errors), on real requests: every 4xx is JSON with a string `detail` and `code`;
field errors are under `errors`, flattened to dotted paths; the extras (version, existing_id, updated_at,
retry_after) are typed. Errors are JSON even on the export URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"


def _invalid_input(language: str = "vi") -> str:
    with translation.override(language):
        return gettext("Invalid input.")


def assert_envelope(response, status: int, code: str, extras: set[str] = frozenset()) -> dict:
    """That status, as JSON, with exactly detail, code and these extra keys (plus errors on a 400 about fields)."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    assert body["code"] == code, body
    assert set(body) - {"errors"} == {"detail", "code", *extras}, body
    return body


def assert_field_errors(body: dict, paths: set[str]) -> None:
    """errors holds exactly these paths, each with non-empty string messages; no field at the top level."""
    assert set(body["errors"]) == paths, body
    for path in paths:
        messages = body["errors"][path]
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(m, str) and m.strip() for m in messages), body


# --- 400 about fields ------------------------------------------------------------------------------------------


def test_a_400_lists_every_bad_field_under_errors_with_a_translated_detail(world, api):
    bad = {"commune": "1", "name": "", "established_on": "2025-02-30"}
    response = api(world.hoa).post("/api/v1/teams/", bad)
    body = assert_envelope(response, 400, "invalid")
    assert body["detail"] == _invalid_input("vi") != "Invalid input."
    assert_field_errors(body, {"commune", "name", "established_on"})

    english = api(world.hoa, language="en").post("/api/v1/teams/", bad).json()
    assert english["detail"] == "Invalid input." and english["code"] == "invalid"
    assert set(english["errors"]) == {"commune", "name", "established_on"}
    assert english["errors"]["established_on"] != body["errors"]["established_on"]


def test_a_message_that_names_no_field_is_under_non_field_errors(world, api):
    # A JSON list where an object is expected: the serializer's message is about the body, not a field.
    response = api(world.hoa).post("/api/v1/teams/", [{"commune": "00001"}], format="json")
    body = assert_envelope(response, 400, "invalid")
    assert_field_errors(body, {"non_field_errors"})


def test_a_rule_across_fields_names_its_path(world, api):
    # An activity edit with a latitude but no longitude: the serializer's validate() names "location".
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate() - dt.timedelta(days=1)),
        "people_helped": 3,
    }
    client = api(world.tuan)
    created = client.post("/api/v1/activities/sync/", {"activities": [item]}, format="json")
    assert created.data["results"][0]["status"] == "created", created.data
    detail = client.get(f"/api/v1/activities/{item['id']}/").json()
    response = client.patch(
        f"/api/v1/activities/{item['id']}/",
        {"base_updated_at": detail["updated_at"], "latitude": "21.0278"},
        format="json",
    )
    body = assert_envelope(response, 400, "invalid")
    assert_field_errors(body, {"location"})


class _Leader(serializers.Serializer):
    phone = serializers.RegexField(r"^0[0-9]{9}$")


class _Item(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1)


class _NestedInput(serializers.Serializer):
    leader = _Leader()
    activities = _Item(many=True)
    tags = serializers.ListField(child=serializers.IntegerField())
    contact = _Leader()


class _NestedApi(APIView):
    """A view with nested input, as DRF builds it: no endpoint of the API takes nested input today."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        _NestedInput(data=request.data).is_valid(raise_exception=True)


def test_nested_field_errors_are_flattened_to_dotted_paths():
    body = {
        "leader": {"phone": "12345"},
        "activities": [{"minutes": 5}, {"minutes": 0}, {"minutes": "many"}],
        "tags": [1, "two", 3],
        "contact": "not an object",
    }
    request = APIRequestFactory().post("/api/v1/nested/", body, format="json")
    response = _NestedApi.as_view()(request)
    response.render()
    data = assert_envelope(response, 400, "invalid")
    assert_field_errors(
        data,
        {"leader.phone", "activities.1.minutes", "activities.2.minutes", "tags.1", "contact.non_field_errors"},
    )


# --- A field named code -----------------------------------------------------------------------------------------


def test_a_field_named_code_stays_under_errors_and_the_envelope_code_is_a_string(world, api):
    client = api(world.minh)
    response = client.post("/api/v1/activity-types/", {"code": "mã sai!", "name_vi": "Loại", "name_en": "Kind"})
    body = assert_envelope(response, 400, "invalid")
    assert_field_errors(body, {"code"})

    # The same through a service's refusal (a DomainError with fields), for a code already taken.
    taken = client.post("/api/v1/activity-types/", {"code": "vneid", "name_vi": "Loại", "name_en": "Kind"})
    body = assert_envelope(taken, 400, "invalid")
    assert body["detail"] == _invalid_input("vi")
    assert_field_errors(body, {"code"})


# --- 401, 404 ---------------------------------------------------------------------------------------------------


def test_401s_are_enveloped(world, api):
    assert_envelope(api().get("/api/v1/me/"), 401, "not_authenticated")
    # simplejwt's own body ({"detail", "code", "messages": [...]}) is reduced to the envelope.
    forged = api().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_envelope(forged, 401, "token_not_valid")
    wrong = api().post(LOGIN, {"phone": world.lan.phone, "password": "sai-mat-khau"})
    assert_envelope(wrong, 401, "invalid_credentials")


def test_an_unknown_url_under_api_is_a_json_404(world, api):
    assert_envelope(api(world.minh).get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_envelope(api(world.minh).get(f"/api/v1/teams/{uuid.uuid4()}/"), 404, "not_found")


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_errors_on_an_export_url_are_json(world, api, export_format):
    client = api(world.binh)
    # Out of B's scope, and a province that does not exist: the same JSON 404, never a file.
    for path in ("/api/v1/coverage/provinces/01/communes/", "/api/v1/coverage/provinces/99/"):
        assert_envelope(client.get(path, {"format": export_format}), 404, "not_found")
        assert_envelope(client.get(f"{path}export/{export_format}/"), 404, "not_found")
    # A 404 might be mended on the way out (config.middleware); a 400 and a 401 are the handler's own.
    path = "/api/v1/coverage/provinces/02/communes/"
    for response in (
        client.get(path, {"format": export_format, "as_of": "2025-02-30"}),
        client.get(f"{path}export/{export_format}/", {"as_of": "2025-02-30"}),
    ):
        assert_field_errors(assert_envelope(response, 400, "invalid"), {"as_of"})
    assert_envelope(api().get(path, {"format": export_format}), 401, "not_authenticated")
    assert_envelope(api().get(f"{path}export/{export_format}/"), 401, "not_authenticated")


# --- 409, 412, 428 ----------------------------------------------------------------------------------------------


def test_a_replayed_id_with_other_content_names_the_existing_id_as_a_string(world, api):
    member_id = str(uuid.uuid4())
    body = {"id": member_id, "team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"}
    assert api(world.hoa).post("/api/v1/members/", body).status_code == 201
    response = api(world.hoa).post("/api/v1/members/", body | {"full_name": "Người Khác"})
    data = assert_envelope(response, 409, "id_conflict", {"existing_id", "version"})
    assert data["existing_id"] == member_id
    assert isinstance(data["version"], int)


def test_a_second_team_for_a_hamlet_names_the_existing_team_as_a_string(world, api):
    body = {
        "commune": "00001",
        "hamlet": world.hamlets.a1.pk,
        "name": "Tổ Thứ Hai",
        "established_on": "2025-08-01",
    }
    response = api(world.hoa).post("/api/v1/teams/", body)
    data = assert_envelope(response, 409, "team_exists", {"existing_id"})
    assert data["existing_id"] == str(world.teams.a1.pk)
    assert_field_errors(data, {"hamlet"})


def test_a_duplicate_hamlet_names_the_existing_hamlet_as_a_string(world, api):
    # The service hands over the hamlet's integer id: the envelope makes it a string, as every existing_id is.
    response = api(world.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "THÔN ĐÔNG", "kind": "thon"})
    data = assert_envelope(response, 400, "duplicate", {"existing_id"})
    assert data["existing_id"] == str(world.hamlets.a1.pk)
    assert_field_errors(data, {"name"})


def test_412_and_428_carry_the_current_version(world, api):
    team = world.teams.a1
    url = f"/api/v1/teams/{team.pk}/"
    missing = api(world.hoa).patch(url, {"name": "Tên"})
    data = assert_envelope(missing, 428, "version_required", {"version"})
    assert data["version"] == team.version

    assert api(world.hoa).patch(url, {"name": "Tên một", "version": team.version}).status_code == 200
    stale = api(world.hoa).patch(url, {"name": "Tên hai", "version": team.version})
    data = assert_envelope(stale, 412, "stale_version", {"version"})
    assert data["version"] == team.version + 1


def test_an_activity_412_and_428_carry_the_current_updated_at(world, api):
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate() - dt.timedelta(days=1)),
        "people_helped": 3,
    }
    client = api(world.tuan)
    assert client.post("/api/v1/activities/sync/", {"activities": [item]}, format="json").status_code == 200
    url = f"/api/v1/activities/{item['id']}/"
    first = client.get(url).json()["updated_at"]
    data = assert_envelope(
        client.patch(url, {"people_helped": 4}, format="json"), 428, "version_required", {"updated_at"}
    )
    assert data["updated_at"] == first
    assert client.patch(url, {"base_updated_at": first, "people_helped": 5}, format="json").status_code == 200
    current = client.get(url).json()["updated_at"]
    stale = client.patch(url, {"base_updated_at": first, "people_helped": 6}, format="json")
    data = assert_envelope(stale, 412, "stale_version", {"updated_at"})
    assert data["updated_at"] == current != first


# --- 429 --------------------------------------------------------------------------------------------------------


@pytest.fixture
def low_login_rate():
    from rest_framework.throttling import SimpleRateThrottle

    # The rates are read into a class attribute at import; swap it for the test and put it back after.
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "login": "2/min"}
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


def test_the_login_rate_limit_is_a_429_with_retry_after(world, api, low_login_rate):
    client = api()
    # Two phones, so that the per-phone lockout plays no part: only the per-address rate limit.
    assert client.post(LOGIN, {"phone": world.lan.phone, "password": "sai"}).status_code == 401
    assert client.post(LOGIN, {"phone": world.binh.phone, "password": "sai"}).status_code == 401
    limited = client.post(LOGIN, {"phone": world.hoa.phone, "password": PASSWORD})
    data = assert_envelope(limited, 429, "throttled", {"retry_after"})
    assert isinstance(data["retry_after"], int) and 1 <= data["retry_after"] <= 60
    assert limited["Retry-After"] == str(data["retry_after"])
    assert "giây" in data["detail"]


# --- The NUL guard (config.middleware) --------------------------------------------------------------------------


def test_a_nul_in_the_query_is_an_enveloped_400_naming_the_parameter(world, api):
    response = api(world.minh).get("/api/v1/teams/", {"search": "Tổ\x00", "commune": "00001"})
    body = assert_envelope(response, 400, "invalid")
    assert body["detail"] == _invalid_input("vi")
    assert_field_errors(body, {"search"})
    # A NUL in the parameter's name: the name is given without it.
    response = api(world.minh).get("/api/v1/teams/?sea%00rch=x")
    assert_field_errors(assert_envelope(response, 400, "invalid"), {"search"})


def test_a_body_that_is_not_json_says_where_in_the_request_language(world, api):
    response = api(world.lan).post("/api/v1/teams/", '{"name": "Tổ", oops}', content_type="application/json")
    body = assert_envelope(response, 400, "parse_error")
    assert body["detail"] == "Nội dung yêu cầu không phải JSON hợp lệ (dòng 1, cột 16)."
    english = api(world.lan, language="en").post("/api/v1/teams/", "[1,", content_type="application/json")
    assert assert_envelope(english, 400, "parse_error")["detail"].startswith("The request body is not valid JSON")
