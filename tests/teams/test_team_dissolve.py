"""POST /api/v1/teams/{id}/dissolve/: members leave, the leader's login is switched off, the hamlet is freed."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.teams.support import URL, body

pytestmark = pytest.mark.django_db


def test_dissolving_makes_members_leave_and_switches_off_the_leader_login(world, api):
    team = world.teams.a1
    response = api(world.hoa).post(f"{URL}{team.pk}/dissolve/", {"dissolved_on": "2026-01-01"})
    assert response.status_code == 200, response.data
    assert response.data["status"] == "dissolved" and response.data["member_count"] == 0
    assert not team.members.filter(active=True).exists()
    world.tuan.refresh_from_db()
    assert world.tuan.is_active is False
    # The hamlet is free again, and a retry of the dissolution changes nothing.
    again = api(world.hoa).post(f"{URL}{team.pk}/dissolve/", {})
    assert again.status_code == 200 and again.data["dissolved_on"] == "2026-01-01"
    assert api(world.hoa).post(URL, body(world, hamlet=world.hamlets.a1.pk)).status_code == 201


def test_dissolving_ends_each_membership_on_the_day_or_on_the_later_joining_day(world, api):
    team = world.teams.a1
    early, late, gone = team.members.filter(active=True).exclude(role="leader").order_by("pk")[:3]
    team.members.filter(pk=late.pk).update(joined_on=dt.date(2026, 2, 1))
    team.members.filter(pk=gone.pk).update(active=False, left_on=dt.date(2025, 12, 1))
    versions = dict(team.members.values_list("pk", "version"))
    response = api(world.hoa).post(f"{URL}{team.pk}/dissolve/", {"dissolved_on": "2026-01-01"})
    assert response.status_code == 200, response.data
    for member in (early, late, gone):
        member.refresh_from_db()
    assert (early.active, early.left_on, early.version) == (False, dt.date(2026, 1, 1), versions[early.pk] + 1)
    assert (late.active, late.left_on, late.version) == (False, dt.date(2026, 2, 1), versions[late.pk] + 1)
    # A member who had left before keeps the day they left.
    assert (gone.left_on, gone.version) == (dt.date(2025, 12, 1), versions[gone.pk])
