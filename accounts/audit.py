"""Recording registry writes in the audit log, in the writer's own transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import models

from accounts.models import AuditEntry
from config.masking import mask_national_id, mask_phone
from config.timestamps import format_timestamp

# Personal data is kept out of the log: these fields are stored masked.
_MASKED = {"phone": mask_phone, "national_id": mask_national_id}
_SKIP = {"name_key", "name_folded", "created_at", "updated_at"}


def state(obj: models.Model | None) -> dict | None:
    """A JSON-safe copy of a row's columns, with phone and CCCD masked."""
    if obj is None:
        return None
    data = {}
    for field in obj._meta.concrete_fields:
        if field.attname in _SKIP:
            continue
        value = getattr(obj, field.attname)
        if field.name in _MASKED and value:
            value = _MASKED[field.name](value)
        elif isinstance(value, uuid.UUID | Decimal):
            value = str(value)
        elif isinstance(value, dt.datetime):
            value = format_timestamp(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        data[field.attname] = value
    return data


def _entry(*, actor, action: str, obj: models.Model, before: dict | None, after: dict | None) -> AuditEntry:
    """An unsaved entry for one row: who did what to which row, where, and the row before and after."""
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        entity=obj._meta.label_lower,
        entity_id=str(obj.pk),
        province_id=getattr(obj, "province_id", None),
        commune_id=getattr(obj, "commune_id", None),
        before=before,
        after=after if after is not None else state(obj),
    )


def audit_record(*, actor, action: str, obj: models.Model, before: dict | None, after: dict | None = None) -> None:
    """Append one entry. `before` comes from state() taken before the change; after defaults to the row now."""
    _entry(actor=actor, action=action, obj=obj, before=before, after=after).save(force_insert=True)


def audit_bulk(*, actor, action: str, objects: list, befores: dict | None = None) -> None:
    """One entry per object in one INSERT (bulk writes: imports)."""
    befores = befores or {}
    entries = [_entry(actor=actor, action=action, obj=obj, before=befores.get(obj.pk), after=None) for obj in objects]
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
