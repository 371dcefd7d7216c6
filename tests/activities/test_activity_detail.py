"""GET /activities/{id}/ and /activity-types/{code}/: one query each, named, with the response checked."""

from __future__ import annotations

import pytest

from activities.models import Activity, ActivityType
from tests.activities.test_sync import items, sync

pytestmark = pytest.mark.django_db


def test_activity_detail_is_one_query(world, api, django_assert_num_queries):
    batch = items(1, world.teams.a1)
    sync(api(world.tuan), batch)
    client = api(world.hoa)
    # 1. the activity in the caller's scope, with its province and commune joined in.
    with django_assert_num_queries(1):
        response = client.get(f"/api/v1/activities/{batch[0]['id']}/")
    assert response.status_code == 200
    stored = Activity.objects.get(pk=batch[0]["id"])
    assert (response.data["team"], response.data["people_helped"]) == (str(stored.team_id), stored.people_helped)


def test_activity_type_detail_is_one_query(world, api, django_assert_num_queries):
    client = api(world.hoa)
    # 1. the type.
    with django_assert_num_queries(1):
        response = client.get("/api/v1/activity-types/vneid/")
    assert response.status_code == 200
    assert response.data["name_vi"] == ActivityType.objects.get(pk="vneid").name_vi
