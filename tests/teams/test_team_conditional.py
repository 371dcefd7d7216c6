"""GET /api/v1/teams/{id}/ is conditional; its ETag is "<version>.<digest>", and a PATCH's If-Match reads the version.

Member writes and the size policy change a team's body (member_count, size_status, leader) without bumping its
version, so the GET's ETag digests those columns too; the version in front keeps it usable as If-Match.
"""

from __future__ import annotations

import pytest

from members.models import MemberRole
from tests.teams.support import URL

pytestmark = pytest.mark.django_db


def _url(team) -> str:
    return f"{URL}{team.pk}/"


def test_a_repeated_read_is_304_from_the_narrow_validator(world, api, django_assert_num_queries):
    team = world.teams.a1
    client = api(world.hoa)
    # 1: the team in scope with province, commune, hamlet and leader; the ETag is read off that row.
    with django_assert_num_queries(1):
        first = client.get(_url(team))
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith(f'"{team.version}.')
    # 1: the version, member count, size status, leader and the names the body shows, alone (no instance,
    # no serializer); nothing else.
    with django_assert_num_queries(1):
        again = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag
    # A tag that no longer holds: the validator, then the team (2), and the new tag.
    with django_assert_num_queries(2):
        stale = client.get(_url(team), HTTP_IF_NONE_MATCH='"1.0000"')
    assert stale.status_code == 200 and stale["ETag"] == tag


def test_a_new_member_changes_the_etag_but_not_the_version(world, api):
    team = world.teams.a1
    client = api(world.hoa)
    before = client.get(_url(team))
    added = client.post("/api/v1/members/", {"team": str(team.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"})
    assert added.status_code == 201
    after = client.get(_url(team), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.data["member_count"] == before.data["member_count"] + 1
    assert after.data["version"] == before.data["version"]
    assert after["ETag"] != before["ETag"]
    assert after["ETag"].startswith(f'"{before.data["version"]}.')
    # The new tag still works as If-Match: the version before the dot is what the PATCH checks.
    edited = client.patch(_url(team), {"name": "Tổ CNSCĐ Thôn Đông Mới"}, HTTP_IF_MATCH=after["ETag"])
    assert edited.status_code == 200 and edited.data["version"] == before.data["version"] + 1
    stale = client.patch(_url(team), {"name": "Tên khác"}, HTTP_IF_MATCH=after["ETag"])
    assert stale.status_code == 412
    assert client.patch(_url(team), {"name": "Tên khác"}, HTTP_IF_MATCH='"x.abc"').status_code == 400


def test_the_leaders_and_the_hamlets_names_change_the_etag(world, api):
    team = world.teams.a1
    client = api(world.hoa)
    tag = client.get(_url(team))["ETag"]
    leader = world.leaders.a1
    renamed = client.patch(f"/api/v1/members/{leader.pk}/", {"full_name": "Trần Văn Tuấn", "version": leader.version})
    assert renamed.status_code == 200
    after_leader = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after_leader.status_code == 200 and after_leader.data["leader"]["full_name"] == "Trần Văn Tuấn"
    tag = after_leader["ETag"]
    assert client.patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"name": "Thôn Đông Mới"}).status_code == 200
    after_hamlet = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after_hamlet.status_code == 200 and after_hamlet.data["hamlet_name"] == "Thôn Đông Mới"
    assert after_hamlet["ETag"] != tag


def test_a_leader_who_steps_down_changes_the_etag(world, api):
    team = world.teams.a1
    client = api(world.hoa)
    tag = client.get(_url(team))["ETag"]
    leader = world.leaders.a1
    stepped = client.patch(f"/api/v1/members/{leader.pk}/", {"role": MemberRole.MEMBER, "version": leader.version})
    assert stepped.status_code == 200
    after = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after.data["leader"] is None


def test_the_size_policy_changes_the_etag(world, api):
    team = world.teams.a1
    tag = api(world.hoa).get(_url(team))["ETag"]
    assert api(world.lan).put("/api/v1/team-size-policies/01/", {"min_members": 6, "max_members": 9}).status_code == 200
    after = api(world.hoa).get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after.data["size_status"] == "under"


def test_another_language_or_another_user_gets_another_etag(world, api):
    team = world.teams.a1
    tag = api(world.hoa).get(_url(team))["ETag"]
    english = api(world.hoa, language="en").get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert english.status_code == 200 and english["ETag"] != tag
    for persona in ("lan", "tuan", "minh"):
        other = api(getattr(world, persona)).get(_url(team), HTTP_IF_NONE_MATCH=tag)
        assert other.status_code == 200 and other["ETag"] != tag


@pytest.mark.parametrize("persona", ["hai", "binh", "tam", "nobody"])
def test_out_of_scope_is_404_never_304(world, api, persona):
    team = world.teams.a1
    tag = api(world.hoa).get(_url(team))["ETag"]
    client = api(getattr(world, persona))
    for header in (tag, "*"):
        response = client.get(_url(team), HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 404
        assert "ETag" not in response


def test_star_gives_304_for_a_team_in_scope_and_404_for_none(world, api):
    client = api(world.hoa)
    assert client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH="*").status_code == 304
    missing = client.get(f"{URL}00000000-0000-0000-0000-000000000000/", HTTP_IF_NONE_MATCH="*")
    assert missing.status_code == 404
