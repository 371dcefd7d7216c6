"""Helpers shared by the reliability tests: "nothing was written" and "a clear 4xx with a message"."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from accounts.models import User
from activities.models import Activity, ActivityType
from areas.models import Commune, Hamlet, Province
from members.models import ImportJob, Member
from teams.models import SizePolicy, Team

DOMAIN_MODELS = [Province, Commune, Hamlet, Team, SizePolicy, Member, ImportJob, Activity, ActivityType, User]


def fingerprint() -> dict:
    """Every domain row, column by column (the file blob and last_login aside), in primary-key order.

    Equal before and after a request means the request wrote nothing: no insert, no update, no delete.
    """
    result = {}
    for model in DOMAIN_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.name not in {"content", "last_login"}]
        result[model._meta.label] = list(model.objects.order_by("pk").values_list(*names))
    return result


def messages(data) -> list[str]:
    """Every message string in an error body, however nested (the envelope's machine `code` is no message; a
    field named code, under `errors`, holds messages)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [
            m for key, value in data.items() if key != "code" or not isinstance(value, str) for m in messages(value)
        ]
    if isinstance(data, list):
        return [m for value in data for m in messages(value)]
    return []


def assert_clear_4xx(response, status: int | tuple[int, ...], field: str | None = None) -> None:
    """The answer is that 4xx, as JSON, in the error envelope (a string detail and code), with a human message
    (under errors[`field`] when given)."""
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, (response.status_code, getattr(response, "data", response.content[:300]))
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    data = response.json()
    assert isinstance(data, dict), data
    assert isinstance(data.get("detail"), str) and data["detail"].strip(), data
    assert isinstance(data.get("code"), str) and data["code"], data
    if field is not None:
        assert field in data.get("errors", {}), (field, data)
        field_messages = messages(data["errors"][field])
        assert field_messages and all(m.strip() for m in field_messages), data
    else:
        assert any(m.strip() for m in messages(data)), data


def production_env(**overrides) -> dict:
    """The environment of a production start (DEBUG off, a fresh secret key), with these overrides; None removes."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "api.example.gov.vn",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_CACHE_URL": settings.REDIS_CACHE_URL,
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def run_python(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run the interpreter in the project directory with this environment (settings are read fresh)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
