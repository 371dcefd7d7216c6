"""Login by phone (any spelling), token refresh with rotation and blacklist, and lockout."""

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


@pytest.mark.parametrize("spelling", ["0900000002", "+84900000002", "84 900 000 002", "090.000.0002"])
def test_every_spelling_of_the_phone_logs_in(world, api, spelling):
    response = api().post(LOGIN, {"phone": spelling, "password": PASSWORD})
    assert response.status_code == 200, response.data
    me = api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {response.data['access']}")
    assert me.data["phone"] == "0900000002"


def test_wrong_password_is_401_with_a_vietnamese_message(world, api):
    response = api().post(LOGIN, {"phone": "0900000002", "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert response.data["code"] == "invalid_credentials"
    assert "không đúng" in response.data["detail"]


def test_malformed_phone_is_400_on_the_field(world, api):
    response = api().post(LOGIN, {"phone": "12345", "password": PASSWORD})
    assert response.status_code == 400
    assert response.data["errors"]["phone"]


def test_lockout_after_repeated_failures_says_so(world, api):
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"phone": "0900000002", "password": "sai-mat-khau"})
    # Locked: even the right password is refused, with a clear message, for any spelling of the phone.
    response = client.post(LOGIN, {"phone": "+84 900 000 002", "password": PASSWORD})
    assert response.status_code == 429
    assert response.data["code"] == "locked_out"
    assert "phút" in response.data["detail"]
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert response.data["retry_after"] == cooloff
    assert response["Retry-After"] == str(cooloff)
    english = api(language="en").post(LOGIN, {"phone": "0900000002", "password": PASSWORD})
    assert english.status_code == 429
    assert "minutes" in english.data["detail"]
    # Another phone is not locked.
    assert client.post(LOGIN, {"phone": "0900000003", "password": PASSWORD}).status_code == 200


def test_lockout_expires_after_the_cooloff(world, api, time_machine):
    time_machine.move_to("2026-01-05 09:00:00+07:00", tick=True)
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"phone": "0900000002", "password": "sai-mat-khau"})
    assert client.post(LOGIN, {"phone": "0900000002", "password": PASSWORD}).status_code == 429
    time_machine.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 60)
    assert client.post(LOGIN, {"phone": "0900000002", "password": PASSWORD}).status_code == 200


def test_refresh_rotates_and_blacklists_the_old_token(world, api):
    tokens = api().post(LOGIN, {"phone": "0900000002", "password": PASSWORD}).data
    renewed = api().post(REFRESH, {"refresh": tokens["refresh"]})
    assert renewed.status_code == 200
    assert renewed.data["refresh"] != tokens["refresh"]
    replay = api().post(REFRESH, {"refresh": tokens["refresh"]})
    assert replay.status_code == 401


def test_access_token_lasts_at_most_15_minutes(world, api, time_machine):
    time_machine.move_to("2026-01-05 09:00:00+07:00", tick=True)
    tokens = api().post(LOGIN, {"phone": "0900000002", "password": PASSWORD}).data
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
    assert api().get("/api/v1/me/", **auth).status_code == 200
    time_machine.shift(15 * 60 + 1)
    assert api().get("/api/v1/me/", **auth).status_code == 401


def test_a_token_kept_by_the_process_ends_as_one_checked_from_scratch(world, api, time_machine):
    from accounts.tokens import verified_token

    time_machine.move_to("2026-01-05 09:00:00+07:00", tick=True)
    access = api().post(LOGIN, {"phone": "0900000002", "password": PASSWORD}).data["access"]
    assert api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    assert verified_token.cache_info().currsize == 1
    # Another signature on the same claims is other bytes: checked, and refused.
    head, claims, signature = access.split(".")
    forged = f"{head}.{claims}.{signature[::-1]}"
    assert api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    time_machine.shift(15 * 60 + 1)
    kept = api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    verified_token.cache_clear()
    fresh = api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert kept.status_code == fresh.status_code == 401
    assert kept.data == fresh.data and fresh.data["code"] == "token_not_valid"


def test_anonymous_requests_are_401(api, db):
    assert api().get("/api/v1/provinces/").status_code == 401
