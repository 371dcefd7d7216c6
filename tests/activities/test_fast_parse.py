"""The sync's two item parsers agree: what the endpoint applies is exactly the serializer's verdict.

activities.sync_input has the serializer (SyncItemInput: every rule, with field messages) and the fast
parser (fast_sync_item: plainly valid items only, None otherwise). The endpoint takes an item through
parse_sync_item: the fast values when there are some, else the serializer's. These properties hold:

- the endpoint's verdict on any item is the serializer's: it accepts exactly what the serializer accepts,
  with the same values, and rejects the rest with the serializer's messages;
- the fast parser never accepts what the serializer refuses, and where both accept the values are equal;
- on plainly typed items (what the app sends) the fast parser declines nothing the serializer accepts, so
  the fast path is really taken and the first two properties are not met by always declining.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from activities import services
from activities.models import DURATION_MAX, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, NOTE_MAX, PEOPLE_MAX
from activities.sync_input import SyncItemInput, fast_sync_item, parse_sync_item
from config import inputs

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["5", "2026-11-01", "2025-02-30", "vneid", "21.0285", "105.8542", "2026-11-01T10:00:00+07:00"]),
)


def _around(low: int, high: int):
    """Integers inside a range, each end and just past it."""
    return st.sampled_from([low - 1, low, high, high + 1]) | st.integers(min_value=low - 3, max_value=high + 3)


_STEP = Decimal("0.000001")


def _coordinate_decimals(low: Decimal, high: Decimal):
    """Coordinates with six decimals in and just out of range: each end and one step past it, or any."""
    return st.sampled_from([low - _STEP, low, high, high + _STEP]) | st.decimals(low - 1, high + 1, places=6)


def _coordinates(low: Decimal, high: Decimal):
    """Coordinates with six decimals or seven, as JSON numbers or strings."""
    as_decimal = _coordinate_decimals(low, high) | st.decimals(low - 1, high + 1, places=7)
    return as_decimal.map(str) | as_decimal.map(float) | st.integers(min_value=int(low) - 1, max_value=int(high) + 1)


# Notes at the length limit, before and after trimming and NFC ("e" + U+0301 is one character once composed).
NOTE_EDGES = [
    "x" * (NOTE_MAX - 1),
    "x" * NOTE_MAX,
    "x" * (NOTE_MAX + 1),
    "  " + "x" * NOTE_MAX + "\n",
    "e\u0301" * NOTE_MAX,
    "e\u0301" * (NOTE_MAX + 1),
    "Ho\u0302\u0300 tro\u031b\u0323",  # "Hồ trợ", decomposed
    " Hỗ trợ ",
    "",
    "   ",
]
NOTES = st.text(max_size=40) | st.sampled_from([*NOTE_EDGES, "a\x00b", "\ud800"])
AWARE_TIMES = st.datetimes(
    min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(2110, 1, 1), timezones=st.timezones()
).map(lambda moment: moment.isoformat())

# Any JSON-ish value in every field: wrong types, strings for numbers, out-of-range values, missing fields.
ITEMS = st.fixed_dictionaries(
    {
        "id": st.one_of(st.uuids().map(str), ANY_VALUE),
        "team": st.one_of(st.uuids().map(str), ANY_VALUE),
        "type": st.one_of(
            st.sampled_from(["vneid", "online_safety", "bad type!", "x" * 41, "vneid\n", " vneid"]), ANY_VALUE
        ),
        "occurred_on": st.one_of(st.dates().map(str), ANY_VALUE),
        "people_helped": st.one_of(_around(1, PEOPLE_MAX), ANY_VALUE),
    },
    optional={
        "hamlet": st.one_of(st.integers(min_value=-5, max_value=2**64), ANY_VALUE),
        "households_helped": st.one_of(_around(0, PEOPLE_MAX), ANY_VALUE),
        "duration_minutes": st.one_of(_around(1, DURATION_MAX), ANY_VALUE),
        "note": st.one_of(NOTES, ANY_VALUE),
        "latitude": st.one_of(_coordinates(LAT_MIN, LAT_MAX), ANY_VALUE),
        "longitude": st.one_of(_coordinates(LON_MIN, LON_MAX), ANY_VALUE),
        "deleted": ANY_VALUE,
        "base_updated_at": st.one_of(AWARE_TIMES, ANY_VALUE),
    },
)


def _location(lat, lon) -> st.SearchStrategy:
    """Both coordinates (each as a JSON number or string), or neither."""
    as_json = st.sampled_from([float, str])
    pair = st.tuples(lat, lon, as_json, as_json).map(lambda p: {"latitude": p[2](p[0]), "longitude": p[3](p[1])})
    return st.just({}) | pair


_VALID_LOCATION = _location(st.decimals(LAT_MIN, LAT_MAX, places=6), st.decimals(LON_MIN, LON_MAX, places=6))
# A valid item as the app sends it: every field of its JSON type, dates and times in their ISO form.
VALID_ITEMS = st.tuples(
    st.fixed_dictionaries(
        {
            "id": st.uuids().map(str),
            "team": st.uuids().map(str),
            "type": st.sampled_from(["vneid", "online_safety"]) | st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True),
            "occurred_on": st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(str),
            "people_helped": st.integers(min_value=1, max_value=PEOPLE_MAX),
        },
        optional={
            "hamlet": st.none() | st.integers(min_value=1, max_value=inputs.INT64_MAX),
            "households_helped": st.none() | st.integers(min_value=0, max_value=PEOPLE_MAX),
            "duration_minutes": st.none() | st.integers(min_value=1, max_value=DURATION_MAX),
            "note": st.text(max_size=40).filter(lambda t: "\x00" not in t),
            "deleted": st.booleans(),
            "base_updated_at": st.none()
            | st.datetimes(dt.datetime(1901, 1, 1), dt.datetime(2099, 12, 31), timezones=st.timezones()).map(
                lambda moment: moment.isoformat()
            ),
        },
    ),
    _VALID_LOCATION,
).map(lambda parts: parts[0] | parts[1])


def _edge_location() -> st.SearchStrategy:
    """One coordinate at a limit or one step past it (the other in range), or half a location."""
    lat_mid, lon_mid = (LAT_MIN + LAT_MAX) / 2, (LON_MIN + LON_MAX) / 2
    pairs = [(lat, lon_mid) for lat in (LAT_MIN - _STEP, LAT_MIN, LAT_MAX, LAT_MAX + _STEP)]
    pairs += [(lat_mid, lon) for lon in (LON_MIN - _STEP, LON_MIN, LON_MAX, LON_MAX + _STEP)]
    as_json = st.sampled_from([float, str])
    edge = st.tuples(st.sampled_from(pairs), as_json).map(
        lambda p: {"latitude": p[1](p[0][0]), "longitude": p[1](p[0][1])}
    )
    return edge | st.sampled_from([{"latitude": 21.0}, {"longitude": 105.0}])


# Values at each limit and just past it, for one field at a time.
EDGES = {
    "people_helped": st.sampled_from([-1, 0, 1, PEOPLE_MAX, PEOPLE_MAX + 1]),
    "households_helped": st.sampled_from([None, -1, 0, PEOPLE_MAX, PEOPLE_MAX + 1]),
    "duration_minutes": st.sampled_from([None, 0, 1, DURATION_MAX, DURATION_MAX + 1]),
    "hamlet": st.sampled_from([None, 0, 1, inputs.INT64_MAX, inputs.INT64_MAX + 1]),
    "type": st.sampled_from(["a", "x" * 40, "x" * 41, "vne id", "đ"]),
    "occurred_on": st.sampled_from(["1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "2026-02-29"]),
    "base_updated_at": st.sampled_from(
        [
            None,
            "1899-12-31T23:59:59+00:00",
            "1900-01-01T00:00:00+07:00",
            "2100-12-31T23:59:59+07:00",
            "2101-01-01T00:00:00+07:00",
            "2026-11-01T10:00:00Z",
        ]
    ),
    "note": st.sampled_from(NOTE_EDGES),
    "deleted": st.booleans(),
    "location": _edge_location(),
}


@st.composite
def plain_items(draw) -> dict:
    """A valid item with one or two fields at (or just past) a limit."""
    item = draw(VALID_ITEMS)
    for name in draw(st.lists(st.sampled_from(sorted(EDGES)), min_size=1, max_size=2, unique=True)):
        value = draw(EDGES[name])
        if name == "location":
            item = {k: v for k, v in item.items() if k not in {"latitude", "longitude"}} | value
        else:
            item[name] = value
    return item


# Values the fast parser leaves to the serializer by design: strings for numbers, untrimmed codes, and so on.
ODD_VALUES = ANY_VALUE | st.sampled_from(["vneid\n", " vneid", "5", " 5", "2026-1-01", "2026-11-01T10:00:00", "1e1"])


@st.composite
def odd_items(draw) -> dict:
    """A valid item with one or two fields replaced by an odd value, a limit, or nothing."""
    item = draw(VALID_ITEMS)
    for name in draw(st.lists(st.sampled_from(sorted(EDGES)), min_size=1, max_size=2, unique=True)):
        if name == "location":
            item = {k: v for k, v in item.items() if k not in {"latitude", "longitude"}} | draw(_edge_location())
        elif draw(st.booleans()):
            item[name] = draw(ODD_VALUES | EDGES[name])
        else:
            item.pop(name, None)
    return item


def _verdict(parse, raw) -> tuple:
    """("accepted", the values as the sync service stores them) or ("rejected", the field messages)."""
    try:
        values = parse(raw)
    except serializers.ValidationError as exc:
        return "rejected", exc.detail
    return "accepted", (values["id"], services.normalize(values), values.get("base_updated_at"))


def _serializer(raw):
    return SyncItemInput().run_validation(raw)


def _endpoint(raw):
    return parse_sync_item(raw, SyncItemInput())


def _fast(raw):
    values = fast_sync_item(raw)
    if values is None:
        raise serializers.ValidationError("declined")
    return values


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(ITEMS | odd_items())
@example({"id": str(uuid.uuid4()), "team": str(uuid.uuid4()), "type": "vneid", "occurred_on": "2026-11-01",
          "people_helped": 3, "duration_minutes": DURATION_MAX + 1})  # fmt: skip
def test_the_endpoint_applies_the_serializers_verdict_to_any_item(raw):
    endpoint, serializer = _verdict(_endpoint, raw), _verdict(_serializer, raw)
    assert endpoint == serializer, raw
    fast = fast_sync_item(raw)
    if fast is not None:  # the fast parser only ever accepts, and only what the serializer accepts, as it would
        assert serializer == _verdict(_fast, raw), raw


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(VALID_ITEMS | plain_items())
@example({"id": str(uuid.uuid4()), "team": str(uuid.uuid4()), "type": "vneid", "occurred_on": "2026-11-01",
          "people_helped": 3, "duration_minutes": DURATION_MAX})  # fmt: skip
def test_on_plain_items_the_fast_parser_accepts_exactly_what_the_serializer_accepts(raw):
    fast, serializer = _verdict(_fast, raw), _verdict(_serializer, raw)
    if serializer[0] == "accepted":
        assert fast == serializer, raw  # taken on the fast path, with the serializer's values
    else:
        assert fast[0] == "rejected", raw  # declined, so the serializer explains
    assert _verdict(_endpoint, raw) == serializer, raw


def test_a_typical_item_takes_the_fast_path():
    raw = {
        "id": str(uuid.uuid4()),
        "team": str(uuid.uuid4()),
        "type": "vneid",
        "occurred_on": "2026-11-01",
        "people_helped": 3,
        "note": " Hỗ trợ ",
        "latitude": 21.0285,
        "longitude": 105.8542,
    }
    fast = fast_sync_item(raw)
    assert fast is not None and fast["note"] == "Hỗ trợ"
    assert _verdict(_fast, raw) == _verdict(_serializer, raw)
