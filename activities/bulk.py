"""The sync's set-based statements: one INSERT ... ON CONFLICT and one compare-and-set UPDATE per batch.

They write rows that activities.services has already checked; no rule is decided here.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import orjson
from django.db import connection

from activities.feed import change_seq_expression, change_seq_sql
from activities.models import Activity

# The fields a client sends; equal values on all of them make a replay "unchanged".
CONTENT_FIELDS = (
    "team_id",
    "hamlet_id",
    "type_id",
    "occurred_on",
    "people_helped",
    "households_helped",
    "duration_minutes",
    "note",
    "latitude",
    "longitude",
    "deleted",
)
_INSERT_COLUMNS = (
    "id",
    *CONTENT_FIELDS,
    "province_id",
    "commune_id",
    "recorded_by_id",
    "created_at",
    "updated_at",
)
# An activity never moves to another team.
UPDATE_COLUMNS = [c for c in CONTENT_FIELDS if c != "team_id"]


def _prep(column: str, value):
    model_field = Activity._meta.get_field(column.removesuffix("_id") if column.endswith("_id") else column)
    if column.endswith("_id") and column != "id":
        model_field = model_field.target_field
    return model_field.get_db_prep_save(value, connection)


# PostgreSQL types of the columns the sync writes, for passing each column as one array.
_PG_TYPES = {
    "id": "uuid",
    "team_id": "uuid",
    "hamlet_id": "bigint",
    "type_id": "varchar",
    "occurred_on": "date",
    "people_helped": "integer",
    "households_helped": "integer",
    "duration_minutes": "integer",
    "note": "text",
    "latitude": "numeric",
    "longitude": "numeric",
    "deleted": "boolean",
    "province_id": "bigint",
    "commune_id": "bigint",
    "recorded_by_id": "bigint",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "base": "timestamptz",
}


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _arrays(rows: list[dict], columns) -> tuple[str, list]:
    """`jsonb_to_recordset(%s) AS u(col type, ...)` and its one parameter, whatever the batch size: the rows as
    one JSON array (orjson, in C), which PostgreSQL reads into typed columns. Passing one array per column
    instead cost 12 ms of Python a 500-item batch in psycopg's array dumpers (docs/performance.md)."""
    record = ", ".join(f"{c} {_PG_TYPES[c]}" for c in columns)
    body = orjson.dumps([{c: row[c] for c in columns} for row in rows], default=_json_default)
    return f"jsonb_to_recordset(%s::jsonb) AS u({record})", [body.decode()]


def insert_ignoring_existing(rows: list[dict]) -> set[uuid.UUID]:
    """One INSERT ... ON CONFLICT (id) DO NOTHING for the batch; returns the ids it inserted."""
    if not rows:
        return set()
    columns = ", ".join([*_INSERT_COLUMNS, "change_seq"])
    if connection.vendor == "postgresql":
        source, params = _arrays(rows, _INSERT_COLUMNS)
        sql = (
            f"INSERT INTO activities_activity ({columns}) "
            f"SELECT {', '.join(_INSERT_COLUMNS)}, {change_seq_sql()} FROM {source} "
            "ON CONFLICT (id) DO NOTHING RETURNING id"
        )
    else:
        placeholder = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + f", {change_seq_sql()})"
        params = [_prep(column, row[column]) for row in rows for column in _INSERT_COLUMNS]
        sql = (
            f"INSERT INTO activities_activity ({columns}) VALUES {', '.join([placeholder] * len(rows))} "
            "ON CONFLICT (id) DO NOTHING RETURNING id"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    id_field = Activity._meta.pk
    return {id_field.to_python(row[0]) for row in inserted}


def update_if_unchanged(rows: list[dict], now) -> set[uuid.UUID]:
    """Apply edits whose base still matches (compare-and-set); returns the ids it updated."""
    if not rows:
        return set()
    if connection.vendor != "postgresql":
        done = set()
        for row in rows:
            changed = Activity.objects.filter(pk=row["id"], updated_at=row["base"]).update(
                **{c: row[c] for c in UPDATE_COLUMNS}, updated_at=now, change_seq=change_seq_expression()
            )
            if changed:
                done.add(row["id"])
        return done
    source, params = _arrays(rows, ["id", "base", *UPDATE_COLUMNS])
    assignments = ", ".join(f"{c} = u.{c}" for c in UPDATE_COLUMNS)
    sql = (
        f"UPDATE activities_activity AS a SET {assignments}, updated_at = %s, change_seq = {change_seq_sql()} "
        f"FROM {source} WHERE a.id = u.id AND a.updated_at = u.base RETURNING a.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return {row[0] for row in cursor.fetchall()}
