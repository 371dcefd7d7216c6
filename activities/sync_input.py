"""The input of an activity, parsed two ways side by side: the serializer (every rule, with messages) and the
sync's fast parser (plainly valid items only). tests/activities/test_fast_parse.py holds them equal.

Both read every limit from activities.models, where the database constraints use the same constants.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from activities.models import (
    COORD_DIGITS,
    COORD_PLACES,
    COORD_STEP,
    DURATION_MAX,
    DURATION_MIN,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    NOTE_MAX,
    PEOPLE_MAX,
    PEOPLE_MIN,
    TYPE_CODE_MAX,
)
from config import inputs
from config.inputs import storable_text

HAMLET_MIN = 1  # a hamlet id
HOUSEHOLDS_MIN = 0  # households_helped is a PositiveIntegerField


class NoteField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, max_length=NOTE_MAX, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        return unicodedata.normalize("NFC", super().to_internal_value(data))


def _coordinate_field(low: Decimal, high: Decimal) -> serializers.DecimalField:
    optional = {"required": False, "allow_null": True}
    return serializers.DecimalField(COORD_DIGITS, COORD_PLACES, min_value=low, max_value=high, **optional)


class ActivityFields(serializers.Serializer):
    """The fields a client sends for an activity, on a sync item and on an edit."""

    hamlet = inputs.IntegerField(required=False, allow_null=True, min_value=HAMLET_MIN)
    type = serializers.SlugField(max_length=TYPE_CODE_MAX)
    occurred_on = inputs.DateField()
    people_helped = inputs.IntegerField(min_value=PEOPLE_MIN, max_value=PEOPLE_MAX)
    households_helped = inputs.IntegerField(
        required=False, allow_null=True, min_value=HOUSEHOLDS_MIN, max_value=PEOPLE_MAX
    )
    duration_minutes = inputs.IntegerField(
        required=False, allow_null=True, min_value=DURATION_MIN, max_value=DURATION_MAX
    )
    note = NoteField(required=False)
    latitude = _coordinate_field(LAT_MIN, LAT_MAX)
    longitude = _coordinate_field(LON_MIN, LON_MAX)

    def validate(self, attrs):
        has_lat = attrs.get("latitude") is not None
        has_lon = attrs.get("longitude") is not None
        if has_lat != has_lon:
            raise serializers.ValidationError({"location": _("Send both latitude and longitude, or neither.")})
        return attrs


class SyncItemInput(ActivityFields):
    """One item of a sync batch: the serializer's verdict is the endpoint's, field by field."""

    id = serializers.UUIDField()
    team = serializers.UUIDField()
    deleted = serializers.BooleanField(required=False, default=False)
    base_updated_at = inputs.DateTimeField(required=False, allow_null=True)


# fullmatch, not `$`: "vneid\n" is not plainly valid (the serializer trims it to "vneid").
_SLUG = re.compile(rf"[-a-zA-Z0-9_]{{1,{TYPE_CODE_MAX}}}")


def _int_or_none(value, low: int, high: int):
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        raise ValueError
    return value


def _coordinate(value, low: Decimal, high: Decimal) -> Decimal | None:
    if value is None:
        return None
    if type(value) not in (int, float, str):
        raise ValueError
    number = Decimal(str(value))
    if number.quantize(COORD_STEP) != number or not low <= number <= high:
        raise ValueError
    return number


def fast_sync_item(raw: dict) -> dict | None:
    """The item parsed as SyncItemInput would, when every field is plainly valid; None sends it to the serializer.

    Most items from the app are valid: this skips the serializer's per-field machinery for them. Anything
    unusual (a wrong type, a string number, an out-of-range value) returns None, and the serializer then
    accepts it or explains, field by field, what is wrong. It never rejects an item itself.
    """
    try:
        note = raw.get("note", "")
        if type(note) is not str or not storable_text(note):
            return None
        note = unicodedata.normalize("NFC", note.strip())
        if len(note) > NOTE_MAX or type(raw["type"]) is not str or not _SLUG.fullmatch(raw["type"]):
            return None
        occurred = raw["occurred_on"]
        deleted = raw.get("deleted", False)
        if type(occurred) is not str or len(occurred) != 10 or type(deleted) is not bool:
            return None
        latitude = _coordinate(raw.get("latitude"), LAT_MIN, LAT_MAX)
        longitude = _coordinate(raw.get("longitude"), LON_MIN, LON_MAX)
        if (latitude is None) != (longitude is None):
            return None
        base = raw.get("base_updated_at")
        if base is not None:
            base = dt.datetime.fromisoformat(base)
            if base.tzinfo is None or not inputs.FIRST_YEAR <= base.year <= inputs.LAST_YEAR:
                return None
        values = {
            "id": uuid.UUID(raw["id"]),
            "team": uuid.UUID(raw["team"]),
            "hamlet": _int_or_none(raw.get("hamlet"), HAMLET_MIN, inputs.INT64_MAX),
            "type": raw["type"],
            "occurred_on": dt.date.fromisoformat(occurred),
            "people_helped": _int_or_none(raw["people_helped"], PEOPLE_MIN, PEOPLE_MAX),
            "households_helped": _int_or_none(raw.get("households_helped"), HOUSEHOLDS_MIN, PEOPLE_MAX),
            "duration_minutes": _int_or_none(raw.get("duration_minutes"), DURATION_MIN, DURATION_MAX),
            "note": note,
            "latitude": latitude,
            "longitude": longitude,
            "deleted": deleted,
            "base_updated_at": base,
        }
    except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
        return None
    if values["people_helped"] is None or type(raw["id"]) is not str or type(raw["team"]) is not str:
        return None
    if not inputs.FIRST_YEAR <= values["occurred_on"].year <= inputs.LAST_YEAR:
        return None
    return values


def parse_sync_item(raw: dict, parser: SyncItemInput) -> dict:
    """The item as the sync endpoint takes it: the fast parser's values, else the serializer's verdict.

    Raises serializers.ValidationError (the serializer's field messages) for an invalid item. One
    `parser` serves a whole batch: building a serializer per item costs ten times as much.
    """
    values = fast_sync_item(raw)
    return parser.run_validation(raw) if values is None else values
