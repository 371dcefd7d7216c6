"""Settings parse the environment strictly: a malformed value stops the start with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
)


def _start(env: dict) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "DEBUG", "SECRET_KEY"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
        ],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"DEBUG": "false"}, "SECRET_KEY is required"),
        ({"DEBUG": "true", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a URL with scheme"),
        ({"DEBUG": "true", "REDIS_URL": "redis://:notaport@host:abc/0"}, "REDIS_URL has an invalid port"),
        ({"DEBUG": "true", "CELERY_TASK_TIME_LIMIT": "ten"}, "CELERY_TASK_TIME_LIMIT must be an integer"),
    ],
)
def test_malformed_values_stop_the_start(env, message):
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_embedded_default_is_sqlite_and_eager():
    result = _start({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_with_both_urls_it_uses_postgres_and_real_workers():
    result = _start(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "example.org",
            "DATABASE_URL": "postgres://u@db:5432/cdt",
            "REDIS_URL": "redis://redis:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.postgresql", "False"]


def test_time_zone_and_languages():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "vi"
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 15 * 60
    assert settings.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] and settings.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"]


def test_celery_is_configured_for_safe_delivery():
    from config.celery import app

    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit > conf.task_soft_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
