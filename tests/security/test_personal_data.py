"""Refusals tell nothing about people outside the caller's scope, through HTTP, on both databases."""

from __future__ import annotations

import uuid

import pytest

from members.models import Member
from tests.security.support import Http, assert_4xx_with_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def http(live_server, world):
    return Http(live_server.url)


def _patch_member(client, member, **changes):
    version = Member.objects.get(pk=member.pk).version
    return client.patch(f"/members/{member.pk}/", {"version": version, **changes})


@pytest.fixture
def b_member(world):
    """An active member of team B1 (province B) with a citizen id."""
    member = Member.objects.filter(team=world.teams.b1).exclude(pk=world.leaders.b1.pk).first()
    Member.objects.filter(pk=member.pk).update(national_id="079099000777")
    member.refresh_from_db()
    return member


@pytest.mark.parametrize("field", ["phone", "national_id"])
def test_a_value_held_out_of_scope_is_refused_without_saying_by_whom(http, world, b_member, field):
    value = getattr(b_member, field)
    own = Member.objects.filter(team=world.teams.a1).exclude(pk=world.leaders.a1.pk).first()
    response = _patch_member(http.as_(world.tuan), own, **{field: value})
    assert_4xx_with_message(response, field)
    assert response.status_code == 400
    text = response.text
    assert value not in text
    assert "member" not in response.json()["errors"][field][0].lower()
    # The same refusal for a value held inside the scope names the reason: the caller can see that member.
    neighbour = Member.objects.filter(team=world.teams.a1).exclude(pk__in=[world.leaders.a1.pk, own.pk]).first()
    Member.objects.filter(pk=neighbour.pk).update(national_id="001099000888")
    inside = _patch_member(http.as_(world.tuan), own, **{field: getattr(Member.objects.get(pk=neighbour.pk), field)})
    assert inside.status_code == 400
    assert inside.json()["errors"][field] != response.json()["errors"][field]


def test_creating_a_member_under_the_id_of_one_out_of_scope_is_a_404(http, world, b_member):
    body = {
        "id": str(b_member.pk),
        "team": str(world.teams.a1.pk),
        "full_name": "Người Khác",
        "phone": "0966000555",
    }
    response = http.as_(world.hoa).post("/members/", body)
    assert_4xx_with_message(response)
    assert response.status_code == 404
    assert "version" not in response.json()
    assert Member.objects.get(pk=b_member.pk).team_id == world.teams.b1.pk


def test_creating_a_team_under_the_id_of_one_out_of_scope_is_a_404(http, world):
    body = {"id": str(world.teams.b1.pk), "commune": "00001", "name": "Tổ Khác", "established_on": "2025-08-01"}
    response = http.as_(world.hoa).post("/teams/", body)
    assert response.status_code == 404, response.text[:300]
    assert "version" not in response.json()


def test_a_replay_inside_the_scope_still_answers_as_before(http, world):
    body = {"id": str(uuid.uuid4()), "team": str(world.teams.a1.pk), "full_name": "Người Mới", "phone": "0966000556"}
    hoa = http.as_(world.hoa)
    assert hoa.post("/members/", body).status_code == 201
    assert hoa.post("/members/", body).status_code == 200
    different = hoa.post("/members/", body | {"full_name": "Người Khác"})
    assert different.status_code == 409
    assert "version" in different.json()
    assert different.json()["existing_id"] == body["id"]
