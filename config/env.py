"""Strict readers for settings taken from the environment.

Every helper raises ImproperlyConfigured with the variable's name when a value
is malformed, so a typo stops the process at start instead of changing behaviour.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0/yes/no/on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} must be a comma-separated list with at least one item")
    return items


def env_url(name: str, *, schemes: set[str]) -> str | None:
    """Return the URL in NAME, or None when unset; refuse other schemes, and hostless URLs other than SQLite's."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}, got scheme {parsed.scheme!r}")
    if not parsed.hostname and parsed.scheme != "sqlite":  # sqlite:////path/to/file names a file
        raise ImproperlyConfigured(f"{name} must name a host")
    try:
        port = parsed.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    if port == 0:
        raise ImproperlyConfigured(f"{name} has an invalid port")
    return value


def redis_database(url: str) -> int:
    """The database number a redis:// URL names (0 when it names none)."""
    path = urlsplit(url).path.strip("/")
    if not path:
        return 0
    if not path.isascii() or not path.isdigit():
        raise ImproperlyConfigured(f"The Redis URL names database {path!r}: use a number")
    return int(path)


def redis_cache_url(broker_url: str) -> str:
    """The cache's Redis URL by default: the broker's server, the next database.

    The cache and the broker never share a database: clearing the cache (FLUSHDB) would empty the queue.
    """
    number = redis_database(broker_url)
    if number >= 15:
        raise ImproperlyConfigured("REDIS_URL uses database 15: set REDIS_CACHE_URL to another database")
    parts = urlsplit(broker_url)
    return urlunsplit(parts._replace(path=f"/{number + 1}"))


def redis_target(url: str) -> tuple:
    """(host, port, database) of a Redis URL: two URLs with the same target share one keyspace."""
    parts = urlsplit(url)
    return (parts.hostname, parts.port or 6379, redis_database(url))
