"""The security suite's client and its hostile-input corpus.

Every request goes over a real socket to the live test server (pytest-django's `live_server`), on
PostgreSQL with Redis or on the embedded SQLite default, whichever the suite runs on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from django.core.cache import cache

from tests.conftest import PASSWORD

API = "/api/v1"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[a-z]|\{[a-z_]+\}")


@dataclass
class Http:
    """A client of the live server; `as_(user)` logs in through the login API and keeps the tokens."""

    base: str
    access: str | None = None
    refresh: str | None = None
    # False: every request starts with fresh rate-limit counters, so a long corpus never meets a 429.
    keep_limits: bool = False

    def as_(self, user, password: str = PASSWORD) -> Http:
        response = self.post("/auth/token/", {"phone": user.phone, "password": password})
        assert response.status_code == 200, (response.status_code, response.text[:300])
        body = response.json()
        return Http(self.base, access=body["access"], refresh=body["refresh"])

    def request(self, method: str, path: str, *, body=None, raw: bytes | None = None, **kwargs) -> httpx.Response:
        if not self.keep_limits:
            cache.clear()
        headers = dict(kwargs.pop("headers", {}))
        if self.access:
            headers.setdefault("Authorization", f"Bearer {self.access}")
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            headers.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else f"{self.base}{path if path.startswith('/health') else API + path}"
        return httpx.request(method, url, content=raw, headers=headers, timeout=60.0, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> httpx.Response:
        return self.request("POST", path, body=body, **kwargs)

    def patch(self, path: str, body=None, **kwargs) -> httpx.Response:
        return self.request("PATCH", path, body=body, **kwargs)


def assert_4xx_with_message(response: httpx.Response, context=None) -> None:
    """A client error, as JSON, with at least one human message in it."""
    assert 400 <= response.status_code < 500, (context, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), (context, response.headers)
    messages = _messages(response.json())
    assert messages, (context, response.text[:300])
    # A message with a placeholder left in it ("%(max)d", "{first}") was never filled in.
    assert not [m for m in messages if PLACEHOLDER.search(m)], (context, messages)


def _messages(data) -> list[str]:
    if isinstance(data, str):
        return [data] if data.strip() else []
    if isinstance(data, dict):
        # "code" is the envelope's machine code when it is a string; a field named code holds messages.
        return [
            m for key, value in data.items() if key != "code" or not isinstance(value, str) for m in _messages(value)
        ]
    if isinstance(data, list):
        return [m for value in data for m in _messages(value)]
    return []


# --- The corpus ---------------------------------------------------------------------------------------------
# Each generator yields (label, value). Every value is wrong for a field of its kind: the service must answer
# it with a clear 4xx (or reject the one sync item) and write nothing.

INT64_MAX = 2**63 - 1


def hostile_integers() -> Iterator[tuple[str, object]]:
    for exponent in (63, 64, 100):
        yield f"2**{exponent}", 2**exponent
        yield f"-2**{exponent}", -(2**exponent)
    yield "10**30", 10**30
    yield "10**30 as text", str(10**30)
    yield "a 5,000-digit number as text", "9" * 5000
    # Digits of other scripts, which Python's int() would accept.
    for digits in ("٥", "५", "５", "১২", "௧"):
        yield f"non-ASCII digits {digits!r}", digits
    yield "a digit with a NUL", "1\x00"
    yield "nested list", [[[1]]]


def hostile_dates() -> Iterator[tuple[str, object]]:
    for day in ("0001-01-01", "0999-12-31", "9999-12-31", "1800-01-01"):
        yield day, day
    yield "non-ASCII digits", "٢٠٢٥-٠١-٠١"
    yield "fullwidth digits", "２０２５-０１-０１"
    yield "NUL", "2025-01-01\x00"


def hostile_datetimes() -> Iterator[tuple[str, object]]:
    for stamp in (
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59.999999-12:00",
        "0001-01-01",
    ):
        yield stamp, stamp
    yield "non-ASCII digits", "٢٠٢٥-٠١-٠١T00:00:00Z"
    yield "NUL", "2025-01-01T00:00:00\x00"


def hostile_strings() -> Iterator[tuple[str, object]]:
    yield "NUL alone", "\x00"
    yield "NUL inside", "Thôn\x00Đông"
    yield "lone surrogate", "Thôn \ud800"
    yield "1 MB of text", "a" * 1_000_000


def nested(depth: int, leaf=1) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_objects(depth: int) -> object:
    value: object = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_text(depth: int) -> bytes:
    """A JSON array nested `depth` deep, as text (building it as an object would itself recurse)."""
    return b"[" * depth + b"1" + b"]" * depth


NESTING_DEPTHS = (64, 500, 950, 1_000, 5_000, 100_000)


def hostile_structures() -> Iterator[tuple[str, object]]:
    yield "deep list", nested(200)
    yield "deep object", nested_objects(200)
    yield "empty object", {}
    yield "list of strings", ["a", "b"]


def for_kind(kind: str) -> Iterator[tuple[str, object]]:
    """The corpus for a field of this kind (integer, date, date-time, string)."""
    if kind == "integer":
        yield from hostile_integers()
    elif kind == "date":
        yield from hostile_dates()
    elif kind == "date-time":
        yield from hostile_datetimes()
    else:
        yield from hostile_strings()
    yield from hostile_structures()
