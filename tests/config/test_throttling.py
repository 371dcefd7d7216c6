"""Per-user write throttles: a clear 429; reads and other users are unaffected; Redis down fails open."""

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_write_rate():
    from rest_framework.throttling import SimpleRateThrottle

    # The rates are read into a class attribute at import; swap it for the test and put it back after.
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {"login": "30/min", "writes": "3/min"}
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


def test_writes_are_limited_per_user_with_a_clear_429(world, api, low_write_rate):
    client = api(world.hoa)
    codes = [
        client.post("/api/v1/hamlets/", {"commune": "00001", "name": f"Thôn {i}", "kind": "thon"}).status_code
        for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    limited = client.post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn X", "kind": "thon"})
    assert "giây" in limited.data["detail"] and limited["Retry-After"]
    assert client.get("/api/v1/hamlets/").status_code == 200
    assert api(world.hai).post("/api/v1/hamlets/", {"commune": "00002", "name": "Y", "kind": "thon"}).status_code == 201


def test_throttle_fails_open_when_the_cache_is_down(world, api, low_write_rate, settings):
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    caches._settings = None
    from rest_framework import throttling

    throttling.SimpleRateThrottle.cache = caches["default"]
    try:
        codes = [
            api(world.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": f"T{i}", "kind": "thon"}).status_code
            for i in range(5)
        ]
    finally:
        from django.core.cache import cache

        throttling.SimpleRateThrottle.cache = cache
    assert codes == [201] * 5
