"""The audit log: every registry write says who, what, when, before and after; scoped reads."""

import pytest

from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/"


def test_registry_writes_are_audited_with_before_and_after(world, api):
    team = world.teams.a1
    api(world.hoa).patch(f"/api/v1/teams/{team.pk}/", {"name": "Tên mới", "version": team.version})
    entry = AuditEntry.objects.get(action="team.update")
    assert (entry.actor, entry.actor_role, entry.entity, entry.entity_id) == (
        world.hoa,
        "commune_officer",
        "teams.team",
        str(team.pk),
    )
    assert entry.before["name"] == "Tổ CNSCĐ Thôn Đông" and entry.after["name"] == "Tên mới"
    assert entry.before["version"] + 1 == entry.after["version"]
    assert (entry.province, entry.commune) == (world.a, world.a1)


def test_every_registry_write_leaves_an_entry(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    api(world.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Mới", "kind": "thon"})
    api(world.hoa).post("/api/v1/teams/", {"commune": "00001", "name": "Tổ xã", "established_on": "2025-08-01"})
    api(world.tuan).post("/api/v1/members/", {"team": str(world.teams.a1.pk), "full_name": "A", "phone": "0981111222"})
    api(world.tuan).patch(f"/api/v1/members/{member.pk}/", {"background": "police", "version": member.version})
    api(world.tuan).delete(f"/api/v1/members/{member.pk}/")
    api(world.binh).post(f"/api/v1/teams/{world.teams.b1.pk}/dissolve/", {})
    api(world.lan).put("/api/v1/team-size-policies/01/", {"min_members": 3, "max_members": 9})
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert actions == {
        "hamlet.create",
        "team.create",
        "member.create",
        "member.update",
        "member.leave",
        "team.dissolve",
        "size_policy.set",
    }


def test_personal_data_is_masked_in_the_log(world, api):
    response = api(world.tuan).post(
        "/api/v1/members/",
        {"team": str(world.teams.a1.pk), "full_name": "B", "phone": "0981111333", "national_id": "079012345678"},
    )
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="member.create")
    assert entry.after["phone"] == "098****333" and entry.after["national_id"] == "********5678"
    assert "0981111333" not in str(entry.after) and "079012345678" not in str(entry.after)


def test_reads_are_scoped(world, api):
    api(world.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn A", "kind": "thon"})
    api(world.bao).post("/api/v1/hamlets/", {"commune": "00003", "name": "Thôn B", "kind": "thon"})
    assert api(world.minh).get(URL).data["count"] == 2
    lan = api(world.lan).get(URL).data["results"]
    assert [e["province"] for e in lan] == ["01"]
    assert api(world.binh).get(URL).data["results"][0]["province"] == "02"
    for persona in ("hoa", "tuan", "nobody"):
        assert api(getattr(world, persona)).get(URL).data["count"] == 0
    assert api(world.minh).get(URL, {"action": "hamlet.create", "entity": "areas.hamlet"}).data["count"] == 2
