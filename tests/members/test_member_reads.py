"""Member reads: GET /api/v1/members/{id}/ in one query; the list's filters match the database."""

from __future__ import annotations

import pytest

from members.models import Member

pytestmark = pytest.mark.django_db

URL = "/api/v1/members/"


def test_member_detail_is_one_query(world, api, django_assert_num_queries):
    member = world.leaders.a1
    # 1: the member in scope joined with team, province and commune.
    with django_assert_num_queries(1):
        response = api(world.hoa).get(f"{URL}{member.pk}/")
    assert response.status_code == 200
    assert (response.data["team"], response.data["commune"]) == (str(world.teams.a1.pk), "00001")
    assert response["ETag"] == f'"{member.version}"'


@pytest.mark.parametrize(
    ("params", "lookup"),
    [
        ({"role": "leader"}, {"role": "leader"}),
        ({"province": "02"}, {"province__code": "02"}),
        ({"commune": "00002"}, {"commune__code": "00002"}),
        ({"active": "false"}, {"active": False}),
        ({"active": "true", "role": "member"}, {"active": True, "role": "member"}),
    ],
)
def test_filters_match_the_database(world, api, params, lookup):
    leaving = world.teams.b1.members.exclude(role="leader").first()
    assert api(world.bao).delete(f"{URL}{leaving.pk}/").status_code == 200
    rows = api(world.minh).get(URL, {**params, "page_size": 100}).data["results"]
    assert sorted(r["id"] for r in rows) == sorted(
        str(pk) for pk in Member.objects.filter(**lookup).values_list("pk", flat=True)
    )


def test_a_team_member_list_is_404_outside_the_scope(world, api):
    assert api(world.hai).get(f"/api/v1/teams/{world.teams.a1.pk}/members/").status_code == 404
    listed = api(world.hoa).get(f"/api/v1/teams/{world.teams.a1.pk}/members/", {"province": "02"}).data
    assert listed["count"] == 0  # the path's team and a filter of another province: nothing, not the team's members


def test_a_member_patch_takes_its_version_from_if_match_or_the_body(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    client = api(world.tuan)
    assert client.patch(f"{URL}{member.pk}/", {"birth_year": 1990}, HTTP_IF_MATCH='"999"').status_code == 412
    by_header = client.patch(f"{URL}{member.pk}/", {"birth_year": 1990}, HTTP_IF_MATCH=f'"{member.version}"')
    assert by_header.status_code == 200 and by_header.data["version"] == member.version + 1
    by_body = client.patch(f"{URL}{member.pk}/", {"birth_year": 1991, "version": member.version + 1})
    assert by_body.status_code == 200 and by_body.data["birth_year"] == 1991
