"""Security properties: short-lived tokens, rotating refresh tokens, login lockout, headers, production settings."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.reliability.support import assert_clear_4xx, production_env, run_python

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def _login(api, phone, password=PASSWORD):
    return api().post(LOGIN, {"phone": phone, "password": password}, format="json")


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- Tokens ---------------------------------------------------------------------------------------------------


def test_an_access_token_lasts_at_most_15_minutes(world, api):
    response = _login(api, world.lan.phone)
    assert response.status_code == 200, response.data
    claims = _claims(response.data["access"])
    assert claims["token_type"] == "access"
    assert 0 < claims["exp"] - claims["iat"] <= 15 * 60


def test_the_access_lifetime_cannot_be_configured_above_15_minutes():
    code = "from django.conf import settings; print(int(settings.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds()))"
    result = run_python(["-c", f"import django; django.setup(); {code}"], production_env(JWT_ACCESS_MINUTES="600"))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) <= 15 * 60


def test_a_refresh_rotates_and_the_old_refresh_token_is_blacklisted(world, api):
    first = _login(api, world.lan.phone).data
    rotated = api().post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.data
    assert rotated.data["refresh"] != first["refresh"]
    assert _claims(rotated.data["access"])["user_id"] == str(world.lan.pk)
    assert_clear_4xx(api().post(REFRESH, {"refresh": first["refresh"]}, format="json"), 401)
    # The new one still works once, then it too is spent.
    assert api().post(REFRESH, {"refresh": rotated.data["refresh"]}, format="json").status_code == 200
    assert api().post(REFRESH, {"refresh": rotated.data["refresh"]}, format="json").status_code == 401


def test_an_access_token_is_not_a_refresh_token(world, api):
    tokens = _login(api, world.lan.phone).data
    assert_clear_4xx(api().post(REFRESH, {"refresh": tokens["access"]}, format="json"), 401)


def test_the_api_accepts_the_access_token_and_refuses_a_tampered_one(world, api):
    access = _login(api, world.lan.phone).data["access"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/v1/me/").data["phone"] == world.lan.phone
    header, payload, signature = access.split(".")
    forged = jwt.encode(
        {**_claims(access), "user_id": str(world.minh.pk)}, "not-the-signing-key-" * 3, algorithm="HS256"
    )
    for token in (f"{header}.{payload}.{signature[:-2]}xx", forged):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_clear_4xx(client.get("/api/v1/me/"), 401)


# --- Lockout ----------------------------------------------------------------------------------------------------


def test_repeated_login_failures_lock_the_phone_out_with_a_message(world, api):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert_clear_4xx(_login(api, world.lan.phone, "sai-mat-khau"), 401)
    locked = _login(api, world.lan.phone, "sai-mat-khau")
    assert_clear_4xx(locked, 429)
    assert locked.json()["code"] == "locked_out"
    # Locked out means the right password is refused too, in every spelling of the number.
    assert_clear_4xx(_login(api, world.lan.phone), 429)
    spaced = f"+84 {world.lan.phone[1:4]} {world.lan.phone[4:7]} {world.lan.phone[7:]}"
    assert_clear_4xx(_login(api, spaced), 429)
    # Another phone is not affected.
    assert _login(api, world.binh.phone).status_code == 200


def test_a_good_login_before_the_limit_resets_the_count(world, api):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(api, world.lan.phone, "sai-mat-khau")
    assert _login(api, world.lan.phone).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(api, world.lan.phone, "sai-mat-khau").status_code == 401


# --- Headers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/me/", "/api/v1/teams/", "/api/v1/teams/00000000-0000-0000-0000-000000000000/"]
)
def test_security_headers_are_set_on_api_responses(world, api, path):
    assert settings.DEBUG is False
    for client in (api(world.lan), api()):
        response = client.get(path, secure=True)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        hsts = response["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts
        assert "includeSubDomains" in hsts


def test_hsts_is_only_sent_over_https(world, api):
    assert "Strict-Transport-Security" not in api(world.lan).get("/api/v1/me/")


# --- Production settings ------------------------------------------------------------------------------------


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_unset():
    env = production_env(DEBUG=None, SECRET_KEY=None)
    result = run_python(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://db/cdt"}, "DATABASE_URL"),
    ],
)
def test_settings_refuse_unsafe_or_malformed_production_values(overrides, message):
    result = run_python(["-c", "import django; django.setup()"], production_env(**overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_the_deploy_checklist_passes_with_production_settings():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
