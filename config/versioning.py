"""Optimistic concurrency: the version check and the replay of a create under a known id; over HTTP, ETag out
and If-Match (or a version field) in."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from config.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired, invalid

# "3", or a conditional GET's "3.<digest>" (config.conditional): the version is what a PATCH checks.
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)(?:\.[0-9a-f]+)?"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def versioned_input(serializer_class, request) -> tuple[dict, int | None]:
    """A PATCH body parsed by `serializer_class`, and the version the client edits (the body's `version`,
    else If-Match; None when it sent neither). The values come back without `version`."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    version = requested_version(request, values)
    values.pop("version", None)
    return values, version


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


def check_version(obj, version: int | None) -> None:
    """Optimistic concurrency: the caller must say which version it edits, and it must be current."""
    if version is None:
        raise PreconditionRequired(
            _("Send the version you are editing (If-Match header or a version field)."),
            extra={"version": obj.version},
        )
    if int(version) != obj.version:
        raise PreconditionFailed(
            _("This record was changed by someone else. Reload it and try again."), extra={"version": obj.version}
        )


def replay_or_conflict(model, pk, values: dict, message: str, *, actor):
    """A create replayed under an existing id: the row if its content is the same, a 409 if it differs.

    An id the actor cannot see is a 404, as for any out-of-scope row: neither its version nor its
    existence is told (actor None is the command line, which sees everything).
    """
    if actor is not None and not model.objects.visible_to(actor).filter(pk=pk).exists():
        raise NotFound(_("Not found."))
    existing = model.objects.get(pk=pk)
    if all(getattr(existing, key) == value for key, value in values.items()):
        return existing
    raise Conflict(message, code="id_conflict", extra={"existing_id": str(pk), "version": existing.version})
