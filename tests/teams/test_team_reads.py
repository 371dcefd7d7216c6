"""Team reads: GET /api/v1/teams/{id}/ and the team-size policy, each a fixed number of queries."""

from __future__ import annotations

import pytest

from teams.models import SizePolicy

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/"


def test_team_detail_is_one_query(world, api, django_assert_num_queries):
    team = world.teams.a1
    # 1: the team in scope joined with province, commune, hamlet and leader.
    with django_assert_num_queries(1):
        response = api(world.hoa).get(f"{URL}{team.pk}/")
    assert response.status_code == 200
    assert (response.data["commune"], response.data["hamlet_name"]) == ("00001", world.hamlets.a1.name)
    assert response.data["leader"]["full_name"] == world.leaders.a1.full_name
    # The ETag is the version (If-Match reads it) and a digest of what else the body shows (config.conditional).
    assert response["ETag"].startswith(f'"{team.version}.')


def test_a_sibling_team_is_404_in_one_query(world, api, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = api(world.hoa).get(f"{URL}{world.teams.a2.pk}/")
    assert response.status_code == 404


def test_the_size_policy_is_read_once(world, api, settings, django_assert_num_queries):
    client = api(world.lan)
    # 1: the province in scope with its policy's range (or none) as subqueries.
    with django_assert_num_queries(1):
        default = client.get("/api/v1/team-size-policies/01/")
    assert default.data == {
        "province": "01",
        "min_members": settings.TEAM_SIZE_MIN_DEFAULT,
        "max_members": settings.TEAM_SIZE_MAX_DEFAULT,
        "is_default": True,
    }
    assert client.put("/api/v1/team-size-policies/01/", {"min_members": 3, "max_members": 7}).status_code == 200
    stored = SizePolicy.objects.get(province=world.a)
    with django_assert_num_queries(1):
        after = client.get("/api/v1/team-size-policies/01/")
    assert after.data == {
        "province": "01",
        "min_members": stored.min_members,
        "max_members": stored.max_members,
        "is_default": False,
    }
    assert (stored.min_members, stored.max_members) == (3, 7)
    assert api(world.binh).get("/api/v1/team-size-policies/01/").status_code == 404


def test_a_team_patch_takes_its_version_from_if_match_or_the_body(world, api):
    team = world.teams.a1
    client = api(world.hoa)
    stale = client.patch(f"{URL}{team.pk}/", {"name": "Tên A"}, HTTP_IF_MATCH=f'"{team.version + 5}"')
    assert stale.status_code == 412
    by_header = client.patch(f"{URL}{team.pk}/", {"name": "Tên A"}, HTTP_IF_MATCH=f'"{team.version}"')
    assert by_header.status_code == 200 and by_header.data["version"] == team.version + 1
    by_body = client.patch(f"{URL}{team.pk}/", {"name": "Tên B", "version": team.version + 1})
    assert by_body.status_code == 200 and by_body.data["name"] == "Tên B"
    assert client.patch(f"{URL}{team.pk}/", {"name": "Tên C"}, HTTP_IF_MATCH="ba").status_code == 400


def test_the_selector_refuses_a_filter_value_it_cannot_read(world):
    from config.errors import DomainError
    from teams.selectors import team_list

    with pytest.raises(DomainError) as refused:
        team_list(user=world.minh, filters={"level": "district"})
    assert "level" in refused.value.fields
    assert team_list(user=world.minh, filters={"level": "hamlet"}).get() == world.teams.a1
