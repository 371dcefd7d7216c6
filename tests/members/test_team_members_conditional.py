"""GET /api/v1/teams/{id}/members/ is conditional: an ETag per requester (phones and CCCDs are masked by role)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from members.models import Member
from members.services import team_members_dissolve
from tests.factories import MemberFactory
from tests.members.support import URL

pytestmark = pytest.mark.django_db


def _url(team) -> str:
    return f"/api/v1/teams/{team.pk}/members/"


def test_a_repeated_read_is_304_in_two_queries_instead_of_three(world, api, django_assert_num_queries):
    MemberFactory.create_batch(10, team=world.teams.a1)
    client = api(world.hoa)
    # 1: the team in scope; 2: the count, latest save, versions, logins and the team's version of its members
    # (the validator, also the page's count); 3: the page of members with team, province and commune.
    with django_assert_num_queries(3):
        first = client.get(_url(world.teams.a1))
    assert first.status_code == 200 and first.data["count"] == 14
    # 1: the team in scope; 2: the validator. No member is fetched or serialized.
    with django_assert_num_queries(2):
        again = client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]


def test_an_edited_member_changes_the_etag(world, api):
    client = api(world.hoa)
    tag = client.get(_url(world.teams.a1))["ETag"]
    member = world.teams.a1.members.exclude(role="leader").first()
    edited = client.patch(f"{URL}{member.pk}/", {"full_name": "Phạm Thị Mới", "version": member.version})
    assert edited.status_code == 200
    after = client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after["ETag"] != tag
    assert "Phạm Thị Mới" in [m["full_name"] for m in after.data["results"]]
    assert client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_new_member_and_a_member_who_leaves_change_the_etag(world, api):
    client = api(world.hoa)
    tag = client.get(_url(world.teams.a1))["ETag"]
    added = client.post(URL, {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"})
    assert added.status_code == 201
    after_add = client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=tag)
    assert after_add.status_code == 200 and after_add.data["count"] == 5
    left = client.delete(f"{URL}{added.data['id']}/")
    assert left.status_code == 200
    after_leave = client.get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=after_add["ETag"])
    assert after_leave.status_code == 200 and after_leave["ETag"] not in {tag, after_add["ETag"]}


def test_members_who_leave_with_a_dissolution_change_the_etag_though_no_row_is_saved(world, api):
    # The dissolution's hook bulk-updates active, left_on and version only (updated_at stays): the sum of
    # versions is what tells.
    team = world.teams.a1
    client = api(world.hoa)
    tag = client.get(_url(team))["ETag"]
    saved = set(Member.objects.filter(team=team).values_list("updated_at", flat=True))
    with transaction.atomic():
        team_members_dissolve(team=team, day=timezone.localdate())
    assert set(Member.objects.filter(team=team).values_list("updated_at", flat=True)) == saved
    after = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and not any(m["active"] for m in after.data["results"])


def test_a_renamed_team_changes_the_etag(world, api):
    team = world.teams.a1
    client = api(world.hoa)
    tag = client.get(_url(team))["ETag"]
    assert client.patch(f"/api/v1/teams/{team.pk}/", {"name": "Tổ Mới", "version": team.version}).status_code == 200
    after = client.get(_url(team), HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and {m["team_name"] for m in after.data["results"]} == {"Tổ Mới"}


def test_each_role_gets_its_own_etag_since_masking_differs(world, api):
    team = world.teams.a1
    member = team.members.exclude(role="leader").first()
    Member.objects.filter(pk=member.pk).update(national_id="079012345678")
    seen = {}
    for persona in ("lan", "hoa", "tuan", "minh"):
        response = api(getattr(world, persona)).get(_url(team))
        row = next(m for m in response.data["results"] if m["id"] == str(member.pk))
        seen[persona] = (response["ETag"], row["national_id"], row["phone"])
    assert seen["lan"][1] == "079012345678" and seen["hoa"][1] == "********5678"  # the bodies differ…
    assert seen["minh"][2] != member.phone and seen["hoa"][2] == member.phone
    assert len({tag for tag, _, _ in seen.values()}) == 4  # …and so do the tags
    # lan's tag, sent by hoa, is not hoa's: hoa gets the masked body in full.
    masked = api(world.hoa).get(_url(team), HTTP_IF_NONE_MATCH=seen["lan"][0])
    assert masked.status_code == 200 and "079012345678" not in str(masked.data)


def test_another_language_gets_another_etag(world, api):
    tag = api(world.hoa).get(_url(world.teams.a1))["ETag"]
    english = api(world.hoa, language="en").get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=tag)
    assert english.status_code == 200 and english["ETag"] != tag


@pytest.mark.parametrize("persona", ["hai", "binh", "tam", "nobody"])
def test_out_of_scope_is_404_never_304(world, api, persona):
    tag = api(world.hoa).get(_url(world.teams.a1))["ETag"]
    for header in (tag, "*"):
        response = api(getattr(world, persona)).get(_url(world.teams.a1), HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 404 and "ETag" not in response
