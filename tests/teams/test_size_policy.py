"""PUT /api/v1/team-size-policies/{province}/: the province's policy sets each team's size status."""

from __future__ import annotations

import pytest

from tests.teams.support import URL

pytestmark = pytest.mark.django_db


def test_size_status_follows_the_province_policy(world, api):
    team = world.teams.a1
    assert (team.member_count, team.size_status) == (4, "ok")
    response = api(world.lan).put("/api/v1/team-size-policies/01/", {"min_members": 5, "max_members": 8})
    assert response.status_code == 200 and response.data["is_default"] is False
    team.refresh_from_db()
    assert team.size_status == "under"
    assert api(world.hoa).put("/api/v1/team-size-policies/01/", {"min_members": 2, "max_members": 3}).status_code == 403
    assert (
        api(world.binh).put("/api/v1/team-size-policies/01/", {"min_members": 2, "max_members": 3}).status_code == 404
    )
    bad = api(world.lan).put("/api/v1/team-size-policies/01/", {"min_members": 6, "max_members": 5})
    assert bad.status_code == 400 and bad.data["errors"]["max_members"]
    listed = api(world.minh).get(URL, {"size_status": "under"}).data["results"]
    assert {t["id"] for t in listed} == {str(world.teams.a1.pk), str(world.teams.a2.pk)}
