"""PATCH /api/v1/members/{id}/: stale versions, and the leader's login on demotion or a new phone."""

from __future__ import annotations

import pytest

from tests.members.support import URL

pytestmark = pytest.mark.django_db


def test_stale_member_patch_is_412(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    url = f"{URL}{member.pk}/"
    assert api(world.hoa).patch(url, {"background": "police", "version": member.version}).status_code == 200
    stale = api(world.tuan).patch(url, {"background": "teacher", "version": member.version})
    assert stale.status_code == 412 and stale.data["version"] == member.version + 1
    member.refresh_from_db()
    assert member.background == "police"


def test_demoting_the_leader_switches_off_their_login(world, api):
    leader = world.leaders.a1
    response = api(world.hoa).patch(f"{URL}{leader.pk}/", {"role": "member", "version": leader.version})
    assert response.status_code == 200
    world.tuan.refresh_from_db()
    assert world.tuan.is_active is False
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.leader_id is None


def test_a_leader_whose_phone_changes_loses_the_login_and_keeps_the_role(world, api):
    leader = world.leaders.a1
    response = api(world.hoa).patch(f"{URL}{leader.pk}/", {"phone": "0911222333", "version": leader.version})
    assert response.status_code == 200, response.data
    leader.refresh_from_db()
    world.tuan.refresh_from_db()
    assert (leader.role, leader.user_id, world.tuan.is_active) == ("leader", None, False)
