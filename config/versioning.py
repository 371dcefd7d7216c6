"""Optimistic concurrency over HTTP: ETag out, If-Match (or a version field) in."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from config.errors import invalid

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def requested_version(request, data: dict) -> int | None:
    """The version the client edits: the body's `version`, else If-Match; None when it sent neither."""
    if data.get("version") is not None:
        return data["version"]
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = _ETAG.match(header)
    if not match:
        raise invalid(version=_('If-Match must be a version number in quotes, e.g. "3".'))
    return int(match.group(1))
