"""PATCH /api/v1/teams/{id}/: the version (body or If-Match) and who may move a team."""

from __future__ import annotations

import pytest

from tests.teams.support import URL

pytestmark = pytest.mark.django_db


def test_stale_patch_is_412_with_the_current_version(world, api):
    team = world.teams.a1
    first = api(world.hoa).patch(f"{URL}{team.pk}/", {"name": "Tên một", "version": team.version})
    second = api(world.lan).patch(f"{URL}{team.pk}/", {"name": "Tên hai", "version": team.version})
    assert first.status_code == 200
    assert second.status_code == 412
    assert second.data["version"] == team.version + 1
    team.refresh_from_db()
    assert team.name == "Tên một"


def test_if_match_header_carries_the_version(world, api):
    team = world.teams.a1
    detail = api(world.hoa).get(f"{URL}{team.pk}/")
    etag = detail["ETag"]
    ok = api(world.hoa).patch(f"{URL}{team.pk}/", {"name": "Tên mới"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok["ETag"] != etag
    stale = api(world.hoa).patch(f"{URL}{team.pk}/", {"name": "Tên khác"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412


def test_patch_without_a_version_is_refused(world, api):
    response = api(world.hoa).patch(f"{URL}{world.teams.a1.pk}/", {"name": "Tên"})
    assert response.status_code == 428
    assert response.data["version"] == world.teams.a1.version


def test_team_leader_cannot_move_the_team(world, api):
    team = world.teams.a1
    response = api(world.tuan).patch(f"{URL}{team.pk}/", {"hamlet": None, "version": team.version})
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.hamlet_id == world.hamlets.a1.pk
