"""The API's one timestamp format: RFC 3339 in Vietnam time, explicit offset, always six fractional digits.

Example: 2026-11-30T17:27:00.123456+07:00. Every time the API writes (bodies, error extras, CSV cells)
goes through format_timestamp. Fixed width and a fixed offset let a client compare, sort and echo it
back (base_updated_at) without losing a microsecond; DRF's default would drop ".000000" and write "Z"
for UTC, and datetime.isoformat() keeps whatever zone the value happens to carry.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import serializers
from rest_framework.utils import encoders


def format_timestamp(value: dt.datetime) -> str:
    """`value` (aware) in settings.TIME_ZONE as YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM. A naive value is a bug: ValueError."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"format_timestamp takes a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("format_timestamp takes an aware datetime; a naive one has no defined moment")
    # timespec="microseconds" keeps ".000000"; the +HH:MM offset is what %:z would give (Python 3.12+).
    return value.astimezone(timezone.get_default_timezone()).isoformat(timespec="microseconds")


class TimestampField(serializers.DateTimeField):
    """DRF's DateTimeField written as format_timestamp; input is parsed as DRF does (ISO 8601 with an offset).

    A string value (a timestamp read back from JSON storage, e.g. a coverage snapshot) is parsed and rewritten.
    """

    def to_representation(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return format_timestamp(value)


class TimestampText(models.Func):
    """A timestamp column as format_timestamp's text, written by PostgreSQL (PostgreSQL only).

    For a list that sends many timestamps: decoding each into a datetime and formatting it again took a
    quarter of the team list's time in the web process (docs/performance.md). The offset is the zone's on
    that moment (zone: settings.TIME_ZONE unless given), with seconds only when it has some, as isoformat.
    """

    output_field = models.CharField()

    def __init__(self, expression, zone: str | None = None):
        super().__init__(expression, models.Value(zone or settings.TIME_ZONE))

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError("TimestampText is for PostgreSQL; format_timestamp formats elsewhere")

    def as_postgresql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        zone, zone_params = compiler.compile(self.source_expressions[1])
        local = (f"({column} AT TIME ZONE {zone})", [*column_params, *zone_params])
        offset = (f"({local[0]} - ({column} AT TIME ZONE 'UTC'))", [*local[1], *column_params])
        parts = [
            "to_char(",
            local,
            """, 'YYYY-MM-DD"T"HH24:MI:SS.US') || CASE WHEN """,
            offset,
            " < interval '0' THEN '-' ELSE '+' END || to_char(CASE WHEN ",
            offset,
            " < interval '0' THEN -",
            offset,
            " ELSE ",
            offset,
            " END, CASE WHEN extract(second FROM ",
            offset,
            ") = 0 THEN 'HH24:MI' ELSE 'HH24:MI:SS' END)",
        ]
        sql, params = [], []
        for part in parts:
            if isinstance(part, str):
                sql.append(part)
            else:
                sql.append(part[0])
                params += part[1]
        return "".join(sql), params


class ModelSerializer(serializers.ModelSerializer):
    """The project's ModelSerializer: a model DateTimeField becomes a TimestampField, as an explicit field would."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: TimestampField,
    }


class JSONEncoder(encoders.JSONEncoder):
    """DRF's encoder, with a datetime that reaches a body as an object (a hand-built dict) in the one format."""

    def default(self, obj):
        if isinstance(obj, dt.datetime):
            return format_timestamp(obj)
        return super().default(obj)
