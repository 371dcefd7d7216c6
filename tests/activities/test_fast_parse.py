"""The sync's fast item parser accepts only what the serializer accepts, with the same values."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from activities import services
from activities.apis import SyncItemInput, fast_sync_item

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["5", "2026-11-01", "2025-02-30", "vneid", "21.0285", "105.8542", "2026-11-01T10:00:00+07:00"]),
)

ITEMS = st.fixed_dictionaries(
    {
        "id": st.one_of(st.uuids().map(str), ANY_VALUE),
        "team": st.one_of(st.uuids().map(str), ANY_VALUE),
        "type": st.one_of(st.sampled_from(["vneid", "online_safety", "bad type!"]), ANY_VALUE),
        "occurred_on": st.one_of(st.dates().map(str), ANY_VALUE),
        "people_helped": st.one_of(st.integers(min_value=-5, max_value=10005), ANY_VALUE),
    },
    optional={
        "hamlet": st.one_of(st.integers(min_value=-5, max_value=10**20), ANY_VALUE),
        "households_helped": st.one_of(st.integers(min_value=-5, max_value=10005), ANY_VALUE),
        "duration_minutes": st.one_of(st.integers(min_value=-5, max_value=1500), ANY_VALUE),
        "note": st.one_of(st.text(max_size=50), ANY_VALUE),
        "latitude": st.one_of(st.decimals(min_value=0, max_value=30, places=7).map(str), st.floats(0, 30), ANY_VALUE),
        "longitude": st.one_of(st.decimals(min_value=95, max_value=120, places=6).map(str), ANY_VALUE),
        "deleted": ANY_VALUE,
        "base_updated_at": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "+07:00"), ANY_VALUE),
    },
)


def _normalized(values: dict) -> tuple:
    return values["id"], services.normalize(values), values.get("base_updated_at")


@settings(max_examples=600, deadline=None, derandomize=True)
@given(ITEMS)
def test_fast_path_agrees_with_the_serializer(raw):
    fast = fast_sync_item(raw)
    try:
        slow = SyncItemInput().run_validation(raw)
    except serializers.ValidationError:
        slow = None
    if fast is not None:
        assert slow is not None, raw  # never accepts what the serializer refuses
        assert _normalized(fast) == _normalized(slow), raw


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
    assert _normalized(fast) == _normalized(SyncItemInput().run_validation(raw))
