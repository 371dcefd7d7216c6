"""GET /activities/ and /activity-types/: the FilterSets behind their query parameters, and their query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from activities.models import Activity, ActivityType
from tests.activities.test_sync import items, sync

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"
TYPES_URL = "/api/v1/activity-types/"


def ids(response) -> set[str]:
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


def test_activity_list_filters_by_each_parameter(world, api):
    client = api(world.hoa)
    today = timezone.localdate()
    old = items(1, world.teams.a1, type="online_safety", occurred_on=str(today - dt.timedelta(days=20)))
    new = items(2, world.teams.a1, occurred_on=str(today))
    sync(api(world.tuan), old + new)
    every = {b["id"] for b in old + new}
    assert ids(client.get(URL)) == every
    assert ids(client.get(URL, {"team": str(world.teams.a1.pk), "commune": "00001", "province": "01"})) == every
    assert ids(client.get(URL, {"commune": "00002"})) == set()
    assert ids(client.get(URL, {"type": "online_safety"})) == {old[0]["id"]}
    assert ids(client.get(URL, {"occurred_from": str(today - dt.timedelta(days=1))})) == {b["id"] for b in new}
    assert ids(client.get(URL, {"occurred_to": str(today - dt.timedelta(days=1))})) == {old[0]["id"]}


def test_tombstones_only_with_include_deleted(world, api):
    batch = items(2, world.teams.a1)
    sync(api(world.tuan), batch)
    assert api(world.tuan).delete(f"{URL}{batch[0]['id']}/").status_code == 200
    client = api(world.hoa)
    assert ids(client.get(URL)) == {batch[1]["id"]}
    assert ids(client.get(URL, {"include_deleted": "false"})) == {batch[1]["id"]}
    assert ids(client.get(URL, {"include_deleted": "true"})) == {b["id"] for b in batch}


@pytest.mark.parametrize("params", [{"include_deleted": "maybe"}, {"commune": "1"}, {"occurred_from": "2026-02-30"}])
def test_an_unreadable_filter_is_a_400(world, api, params):
    response = api(world.hoa).get(URL, params)
    assert response.status_code == 400, response.data
    assert all(response.data["errors"][name] for name in params), response.data


def test_activity_list_query_count(world, api, django_assert_num_queries):
    sync(api(world.tuan), items(30, world.teams.a1))
    client = api(world.lan)
    # 1. the page count; 2. the page, with its province and commune joined in.
    with django_assert_num_queries(2):
        response = client.get(URL, {"commune": "00001", "occurred_to": str(timezone.localdate())})
    assert response.data["count"] == 30 and len(response.data["results"]) == 30
    assert {row["commune"] for row in response.data["results"]} == {"00001"}


def test_activity_types_filter_on_active(world, api):
    ActivityType.objects.filter(pk="other").update(active=False)
    client = api(world.tuan)

    def codes(params):
        return {row["code"] for row in client.get(TYPES_URL, params).data["results"]}

    every = set(ActivityType.objects.values_list("code", flat=True))
    assert codes({}) == every
    assert codes({"active": "true"}) == every - {"other"}
    assert codes({"active": "1"}) == every - {"other"}
    assert codes({"active": "false"}) == {"other"}
    assert codes({"active": "no"}) == {"other"}


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_activity_types_refuse_an_unreadable_boolean(world, api, value):
    response = api(world.tuan).get(TYPES_URL, {"active": value})
    assert response.status_code == 400 and response.data["errors"]["active"], response.data


def test_activity_types_query_count(world, api, django_assert_num_queries):
    client = api(world.minh)
    # 1. the page count; 2. the page of types in display order.
    with django_assert_num_queries(2):
        response = client.get(TYPES_URL, {"active": "true"})
    assert response.data["count"] == ActivityType.objects.filter(active=True).count() > 0
    codes = [row["code"] for row in response.data["results"]]
    assert codes == list(
        ActivityType.objects.filter(active=True).order_by("sort_order", "code").values_list("code", flat=True)
    )
    assert not Activity.objects.exists()
