"""Team registration: replays, stale writes, concurrent creates, bad input, dissolution, size policy."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from teams.models import Team

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/"


def body(world, **extra):
    return {"commune": "00001", "name": "Tổ CNSCĐ Phường Hoà Bình", "established_on": "2025-08-01"} | extra


def test_same_id_three_times_leaves_one_row(world, api):
    team_id = str(uuid.uuid4())
    client = api(world.hoa)
    statuses = [client.post(URL, body(world, id=team_id)).status_code for _ in range(3)]
    assert statuses == [201, 200, 200]
    assert Team.objects.filter(pk=team_id).count() == 1
    assert Team.objects.filter(commune=world.a1, hamlet__isnull=True).count() == 1


def test_same_id_with_different_content_is_409(world, api):
    team_id = str(uuid.uuid4())
    client = api(world.hoa)
    assert client.post(URL, body(world, id=team_id)).status_code == 201
    response = client.post(URL, body(world, id=team_id, name="Tên khác"))
    assert response.status_code == 409
    assert response.data["code"] == "id_conflict"
    assert Team.objects.get(pk=team_id).name == "Tổ CNSCĐ Phường Hoà Bình"


def test_a_second_active_team_for_a_hamlet_is_409(world, api):
    response = api(world.hoa).post(URL, body(world, hamlet=world.hamlets.a1.pk))
    assert response.status_code == 409
    assert response.data["existing_id"] == str(world.teams.a1.pk)


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_for_one_hamlet_give_one_201_and_one_409(api):
    """Two requests race for one hamlet on real PostgreSQL connections: the constraint decides."""
    from tests.conftest import build_world

    world = build_world()
    from tests.factories import HamletFactory

    hamlet = HamletFactory(commune=world.a1, name="Thôn Tranh Chấp")
    barrier = threading.Barrier(2)
    results = []

    def create(user):
        try:
            client = api(user)
            barrier.wait()
            results.append(client.post(URL, body(world, hamlet=hamlet.pk, name=f"Tổ {user.phone}")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(u,)) for u in (world.hoa, world.lan)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert Team.objects.filter(hamlet=hamlet, status="active").count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"hamlet": "other-commune"}, "hamlet"),
        ({"commune": "99999"}, "commune"),
        ({"name": "  "}, "name"),
        ({"established_on": "2025-02-30"}, "established_on"),
        ({"established_on": "2999-01-01"}, "established_on"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_bad_team_input_is_400_per_field(world, api, payload, field):
    if payload.get("hamlet") == "other-commune":
        payload = {"hamlet": world.hamlets.a2.pk}
    before = Team.objects.count()
    response = api(world.lan).post(URL, body(world, **payload))
    assert response.status_code == 400, response.data
    assert field in response.data
    assert Team.objects.count() == before


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
    assert bad.status_code == 400 and "max_members" in bad.data
    listed = api(world.minh).get(URL, {"size_status": "under"}).data["results"]
    assert {t["id"] for t in listed} == {str(world.teams.a1.pk), str(world.teams.a2.pk)}


def test_team_search_ignores_tone_placement_and_case(world, api):
    found = api(world.minh).get(URL, {"search": "THUỴ KHUÊ"}).data["results"]
    assert [t["id"] for t in found] == [str(world.teams.a2.pk)]
    toneless = api(world.minh).get(URL, {"search": "thuy khue"}).data["results"]
    assert [t["id"] for t in toneless] == [str(world.teams.a2.pk)]


def test_team_list_filters(world, api):
    client = api(world.minh)
    assert client.get(URL, {"province": "02"}).data["count"] == 1
    assert client.get(URL, {"commune": "00002"}).data["results"][0]["id"] == str(world.teams.a2.pk)
    assert client.get(URL, {"hamlet": world.hamlets.a1.pk}).data["count"] == 1
    assert client.get(URL, {"level": "commune"}).data["count"] == 2
    assert client.get(URL, {"status": "dissolved"}).data["count"] == 0
    assert client.get(URL, {"size_status": "bogus"}).status_code == 400


def test_team_list_query_count_is_constant(world, api, django_assert_num_queries):
    from tests.factories import MemberFactory, TeamFactory

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for _ in range(12):
        MemberFactory(team=TeamFactory(commune=world.b1, hamlet=None, status="dissolved", dissolved_on=yesterday))
    client = api(world.minh)
    # 1: count; 2: the page of teams joined with province, commune, hamlet and leader.
    with django_assert_num_queries(2):
        small = client.get(URL, {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get(URL, {"page_size": 50})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 15
