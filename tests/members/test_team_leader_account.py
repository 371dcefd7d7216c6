"""POST /api/v1/teams/{id}/leader-account/: the team leader's login is created, then its password reset."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_leader_account_creates_a_login_for_the_leader_phone(world, api):
    team = world.teams.b1
    response = api(world.binh).post(f"/api/v1/teams/{team.pk}/leader-account/", {})
    assert response.status_code == 201
    leader = team.members.get(role="leader")
    assert response.data["phone"] == leader.phone and len(response.data["password"]) >= 12
    login = api().post("/api/v1/auth/token/", {"phone": leader.phone, "password": response.data["password"]})
    assert login.status_code == 200
    me = api().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {login.data['access']}").data
    assert me == {
        "phone": leader.phone,
        "role": "team_leader",
        "province": "02",
        "commune": "00003",
        "team": str(team.pk),
    }
    reset = api(world.binh).post(f"/api/v1/teams/{team.pk}/leader-account/", {"password": "mot-mat-khau-moi-dai"})
    assert reset.status_code == 200 and "password" not in reset.data
    assert (
        api().post("/api/v1/auth/token/", {"phone": leader.phone, "password": "mot-mat-khau-moi-dai"}).status_code
        == 200
    )
