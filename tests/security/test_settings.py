"""Settings that security rests on, read in a fresh process as a deployment would start."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.reliability.support import production_env, run_python

PROBE = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({
    "renderers": s.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
    "num_proxies": s.REST_FRAMEWORK.get("NUM_PROXIES"),
    "proxy_ssl_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "broker": s.CELERY_BROKER_URL,
    "cache": s.CACHES["default"].get("LOCATION"),
}))
"""


def _start(**env) -> subprocess.CompletedProcess:
    # No database or Redis unless the test names them: these checks only read the settings.
    services = {"DATABASE_URL": None, "REDIS_URL": None, "REDIS_CACHE_URL": None}
    return run_python(["-c", PROBE], production_env(**(services | env)))


def _settings(**env) -> dict:
    result = _start(**env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("debug", ["true", "false"])
def test_only_json_is_rendered_even_with_debug_on(debug):
    # The browsable API crashed on ?format=api with DEBUG on (issue 11); it is not served in any mode.
    assert _settings(DEBUG=debug)["renderers"] == ["config.inputs.JSONRenderer"]


def test_no_forwarded_header_is_believed_by_default():
    values = _settings()
    assert values["num_proxies"] == 0
    assert values["proxy_ssl_header"] is None


def test_a_deployment_behind_one_proxy_says_so():
    values = _settings(TRUSTED_PROXIES="1")
    assert values["num_proxies"] == 1
    assert values["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_cache_and_the_broker_never_share_a_redis_database():
    values = _settings(REDIS_URL="redis://redis.internal:6379/0", DATABASE_URL="postgres://u@db/cdt")
    assert values["broker"] == "redis://redis.internal:6379/0"
    assert values["cache"] == "redis://redis.internal:6379/1"
    chosen = _settings(
        REDIS_URL="redis://redis.internal:6379/3",
        REDIS_CACHE_URL="redis://cache.internal:6379/0",
        DATABASE_URL="postgres://u@db/cdt",
    )
    assert chosen["cache"] == "redis://cache.internal:6379/0"


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_URL": "redis://r:6379/2", "REDIS_CACHE_URL": "redis://r:6379/2"},
        {"REDIS_URL": "redis://r/2", "REDIS_CACHE_URL": "redis://r:6379/2"},
        {"REDIS_URL": "redis://r:6379/15"},
        {"REDIS_URL": "redis://r:6379/x"},
    ],
)
def test_settings_refuse_a_cache_that_could_empty_the_queue(env):
    result = _start(DATABASE_URL="postgres://u@db/cdt", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REDIS" in result.stderr


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_settings_refuse_a_malformed_proxy_count(value):
    result = _start(TRUSTED_PROXIES=value)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
