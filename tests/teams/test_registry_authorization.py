"""The registry's authorization matrix: every role x every registry endpoint x {own, sibling, no scope}.

"own" is a team (or member) inside the persona's scope, "sibling" one just outside it (the other
commune of the same province, or the other province). No read or write across scopes succeeds.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# persona -> (own team, sibling team); minh's "sibling" is also visible (the nation is his scope).
TARGETS = {
    "minh": ("a1", "b1"),
    "lan": ("a1", "b1"),
    "binh": ("b1", "a1"),
    "hoa": ("a1", "a2"),
    "hai": ("a2", "a1"),
    "tuan": ("a1", "a2"),
    "tam": ("a2", "a1"),
    "nobody": ("a1", "b1"),
}

# (persona) -> expected status for (own, sibling) per operation
READ = {"minh": (200, 200), "nobody": (404, 404)}
READ_DEFAULT = (200, 404)
TEAM_PATCH = {"minh": (403, 403), "nobody": (404, 404)}
TEAM_PATCH_DEFAULT = (200, 404)
TEAM_ADMIN_ONLY = {"minh": (403, 403), "nobody": (404, 404), "tuan": (403, 404), "tam": (403, 404)}
TEAM_ADMIN_DEFAULT = (200, 404)
MEMBER_WRITE = {"minh": (403, 403), "nobody": (404, 404)}
MEMBER_WRITE_DEFAULT = (200, 404)
CREATE_IN = {"minh": (400, 400), "nobody": (400, 400), "tuan": (400, 400), "tam": (400, 400)}
CREATE_IN_DEFAULT = (201, 400)
MEMBER_CREATE_IN = {"minh": (400, 400), "nobody": (400, 400)}
MEMBER_CREATE_IN_DEFAULT = (201, 400)


def _pair(table, default, persona):
    return table.get(persona, default)


def _team(world, key):
    return getattr(world.teams, key)


def _member(world, key):
    # A non-leader member of that team.
    return _team(world, key).members.exclude(role="leader").order_by("id").first()


@pytest.fixture(params=list(TARGETS))
def persona(request):
    return request.param


def test_team_read(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(READ, READ_DEFAULT, persona), strict=True):
        assert client.get(f"/api/v1/teams/{_team(world, target).pk}/").status_code == expected
        assert client.get(f"/api/v1/teams/{_team(world, target).pk}/members/").status_code == expected


def test_member_read(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(READ, READ_DEFAULT, persona), strict=True):
        assert client.get(f"/api/v1/members/{_member(world, target).pk}/").status_code == expected


def test_team_patch(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(TEAM_PATCH, TEAM_PATCH_DEFAULT, persona), strict=True):
        team = _team(world, target)
        team.refresh_from_db()
        response = client.patch(f"/api/v1/teams/{team.pk}/", {"name": f"Tên mới {persona}", "version": team.version})
        assert response.status_code == expected, (target, response.data)
        team.refresh_from_db()
        assert (team.name == f"Tên mới {persona}") == (expected == 200)


def test_team_dissolve(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(TEAM_ADMIN_ONLY, TEAM_ADMIN_DEFAULT, persona), strict=True):
        team = _team(world, target)
        response = client.post(f"/api/v1/teams/{team.pk}/dissolve/", {})
        assert response.status_code == expected, (target, response.data)
        team.refresh_from_db()
        assert (team.status == "dissolved") == (expected == 200)


def test_leader_account(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(TEAM_ADMIN_ONLY, TEAM_ADMIN_DEFAULT, persona), strict=True):
        response = client.post(f"/api/v1/teams/{_team(world, target).pk}/leader-account/", {})
        expected_codes = {200, 201} if expected == 200 else {expected}
        assert response.status_code in expected_codes, (target, response.data)


def test_team_create(world, api, persona):
    from teams.models import Team

    client = api(getattr(world, persona))
    communes = {"a1": "00001", "a2": "00002", "b1": "00003"}
    for target, expected in zip(TARGETS[persona], _pair(CREATE_IN, CREATE_IN_DEFAULT, persona), strict=True):
        # A1's commune-level slot is free (team_a1 is hamlet-level).
        hamlet = getattr(world.hamlets, target) if target != "a1" else None
        body = {"commune": communes[target], "name": f"Tổ mới {persona}", "established_on": "2025-08-01"}
        if hamlet is not None:
            body["hamlet"] = hamlet.pk  # A2 and B1 have a commune-level team; their hamlet slot is free
        before = Team.objects.count()
        response = client.post("/api/v1/teams/", body)
        assert response.status_code == expected, (target, response.data)
        assert Team.objects.count() == before + (1 if response.status_code == 201 else 0)


def test_member_patch_and_leave(world, api, persona):
    client = api(getattr(world, persona))
    for target, expected in zip(TARGETS[persona], _pair(MEMBER_WRITE, MEMBER_WRITE_DEFAULT, persona), strict=True):
        member = _member(world, target)
        patched = client.patch(f"/api/v1/members/{member.pk}/", {"background": "police", "version": member.version})
        assert patched.status_code == expected, (target, patched.data)
        left = client.delete(f"/api/v1/members/{member.pk}/")
        assert left.status_code == expected, (target, left.data)
        member.refresh_from_db()
        assert (member.active is False) == (expected == 200)


def test_member_create(world, api, persona):
    from members.models import Member

    client = api(getattr(world, persona))
    pairs = zip(TARGETS[persona], _pair(MEMBER_CREATE_IN, MEMBER_CREATE_IN_DEFAULT, persona), strict=True)
    for index, (target, expected) in enumerate(pairs):
        before = Member.objects.count()
        response = client.post(
            "/api/v1/members/",
            {"team": str(_team(world, target).pk), "full_name": "Trần Thị Mới", "phone": f"098800000{index}"},
        )
        assert response.status_code == expected, (target, response.data)
        assert Member.objects.count() == before + (1 if expected == 201 else 0)


def test_lists_show_only_scope(world, api, persona):
    client = api(getattr(world, persona))
    teams = {t["id"] for t in client.get("/api/v1/teams/").data["results"]}
    members = {m["team"] for m in client.get("/api/v1/members/", {"page_size": 100}).data["results"]}
    visible = {
        "minh": {"a1", "a2", "b1"},
        "lan": {"a1", "a2"},
        "binh": {"b1"},
        "hoa": {"a1"},
        "hai": {"a2"},
        "tuan": {"a1"},
        "tam": {"a2"},
        "nobody": set(),
    }[persona]
    expected = {str(_team(world, key).pk) for key in visible}
    assert teams == expected
    assert {str(t) for t in members} == expected
