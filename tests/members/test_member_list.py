"""GET /api/v1/members/ (and a team's members): filters and a constant query count."""

from __future__ import annotations

import pytest

from tests.members.support import URL

pytestmark = pytest.mark.django_db


def test_member_list_query_count_is_constant(world, api, django_assert_num_queries):
    from tests.factories import MemberFactory

    MemberFactory.create_batch(20, team=world.teams.b1)
    client = api(world.minh)
    # 1: count; 2: the page of members joined with team, province and commune.
    with django_assert_num_queries(2):
        small = client.get(URL, {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get(URL, {"page_size": 100})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 32
    with django_assert_num_queries(3):  # + the team's existence in scope
        client.get(f"/api/v1/teams/{world.teams.b1.pk}/members/", {"page_size": 50})


def test_member_filters(world, api):
    client = api(world.minh)
    assert client.get(URL, {"role": "leader"}).data["count"] == 3
    assert client.get(URL, {"province": "02"}).data["count"] == 4
    assert client.get(URL, {"commune": "00002"}).data["count"] == 4
    assert client.get(URL, {"background": "youth_union", "team": str(world.teams.a1.pk)}).data["count"] == 4
    assert client.get(URL, {"active": "false"}).data["count"] == 0
