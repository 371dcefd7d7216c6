"""Members: replays, stale writes, bad input per field, leaving, masking, the leader's login."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from members.models import Member
from members.services import leader_loses_login, member_changes_apply, member_leave_apply

pytestmark = pytest.mark.django_db

URL = "/api/v1/members/"


def body(world, **extra):
    return {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"} | extra


def test_same_id_three_times_leaves_one_row(world, api):
    member_id = str(uuid.uuid4())
    statuses = [api(world.hoa).post(URL, body(world, id=member_id)).status_code for _ in range(3)]
    assert statuses == [201, 200, 200]
    assert Member.objects.filter(pk=member_id).count() == 1
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.member_count == 5


def test_same_id_with_different_content_is_409(world, api):
    member_id = str(uuid.uuid4())
    assert api(world.hoa).post(URL, body(world, id=member_id)).status_code == 201
    response = api(world.hoa).post(URL, body(world, id=member_id, full_name="Người Khác"))
    assert response.status_code == 409 and response.data["code"] == "id_conflict"


def test_full_name_is_nfc_and_trimmed(world, api):
    import unicodedata

    response = api(world.tuan).post(URL, body(world, full_name="  " + unicodedata.normalize("NFD", "Lê  Thị Hoa ")))
    assert response.status_code == 201
    assert response.data["full_name"] == "Lê Thị Hoa"
    assert unicodedata.is_normalized("NFC", Member.objects.get(pk=response.data["id"]).full_name)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "02438256789"}, "phone"),  # a landline
        ({"phone": "091234567"}, "phone"),  # 9 digits
        ({"phone": "09abc45678"}, "phone"),  # letters
        ({"national_id": "12345"}, "national_id"),
        ({"national_id": "0790123456789"}, "national_id"),
        ({"birth_year": 1899}, "birth_year"),
        ({"role": "boss"}, "role"),
        ({"background": "astronaut"}, "background"),
        ({"full_name": "\u200b"}, "full_name"),
        ({"team": "not-a-uuid"}, "team"),
    ],
)
def test_bad_member_input_is_400_per_field(world, api, payload, field):
    before = Member.objects.count()
    response = api(world.hoa).post(URL, body(world, **payload))
    assert response.status_code == 400, response.data
    assert response.data.get(field)
    assert Member.objects.count() == before


def test_birth_year_in_the_future_is_refused(world, api):
    response = api(world.hoa).post(URL, body(world, birth_year=timezone.localdate().year + 1))
    assert response.status_code == 400 and "birth_year" in response.data


def test_phone_active_in_another_team_is_refused_in_any_spelling(world, api):
    other = world.teams.a2.members.exclude(role="leader").first()
    spelled = "+84 " + other.phone[1:4] + " " + other.phone[4:7] + " " + other.phone[7:]
    response = api(world.hoa).post(URL, body(world, phone=spelled))
    assert response.status_code == 400
    assert "phone" in response.data


def test_a_second_leader_is_refused(world, api):
    response = api(world.hoa).post(URL, body(world, role="leader"))
    assert response.status_code == 400
    assert "role" in response.data


def test_cccd_unique_among_active_members(world, api):
    assert api(world.hoa).post(URL, body(world, national_id="079012345678")).status_code == 201
    dup = api(world.hai).post(
        URL, {"team": str(world.teams.a2.pk), "full_name": "B", "phone": "0987000111", "national_id": "079012345678"}
    )
    assert dup.status_code == 400 and "national_id" in dup.data


def test_errors_are_english_on_request(world, api):
    vi = api(world.hoa).post(URL, body(world, phone="02438256789")).data["phone"][0]
    en = api(world.hoa, language="en").post(URL, body(world, phone="02438256789")).data["phone"][0]
    assert vi != en and "landline" in en


def test_stale_member_patch_is_412(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    url = f"{URL}{member.pk}/"
    assert api(world.hoa).patch(url, {"background": "police", "version": member.version}).status_code == 200
    stale = api(world.tuan).patch(url, {"background": "teacher", "version": member.version})
    assert stale.status_code == 412 and stale.data["version"] == member.version + 1
    member.refresh_from_db()
    assert member.background == "police"


def test_leaving_keeps_history_and_frees_the_phone(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    response = api(world.tuan).delete(f"{URL}{member.pk}/")
    assert response.status_code == 200
    assert response.data["active"] is False and response.data["left_on"] == str(timezone.localdate())
    assert Member.objects.filter(pk=member.pk).exists()
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.member_count == 3 and world.teams.a1.size_status == "under"
    # The same person may now join another team.
    rejoin = api(world.hai).post(URL, {"team": str(world.teams.a2.pk), "full_name": "X", "phone": member.phone})
    assert rejoin.status_code == 201
    # A retry of the leave changes nothing.
    assert api(world.tuan).delete(f"{URL}{member.pk}/").data["left_on"] == str(timezone.localdate())


def test_national_id_is_masked_except_for_the_province_admin(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    Member.objects.filter(pk=member.pk).update(national_id="079012345678")
    url = f"{URL}{member.pk}/"
    assert api(world.lan).get(url).data["national_id"] == "079012345678"
    for persona in ("hoa", "tuan", "minh"):
        assert api(getattr(world, persona)).get(url).data["national_id"] == "********5678"
    assert api(world.minh).get(url).data["phone"] == member.phone[:3] + "****" + member.phone[-3:]
    assert api(world.hoa).get(url).data["phone"] == member.phone
    listed = api(world.hoa).get(URL, {"team": str(world.teams.a1.pk)}).data["results"]
    assert "079012345678" not in str(listed)


def test_member_list_query_count_is_constant(world, api, django_assert_num_queries):
    from tests.factories import MemberFactory

    MemberFactory.create_batch(20, team=world.teams.b1)
    client = api(world.minh)
    # 1: count; 2: the page of members joined with team, province and commune.
    with django_assert_num_queries(2):
        small = client.get(URL, {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get(URL, {"page_size": 100})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 32
    with django_assert_num_queries(3):  # + the team's existence in scope
        client.get(f"/api/v1/teams/{world.teams.b1.pk}/members/", {"page_size": 50})


def test_member_filters(world, api):
    client = api(world.minh)
    assert client.get(URL, {"role": "leader"}).data["count"] == 3
    assert client.get(URL, {"province": "02"}).data["count"] == 4
    assert client.get(URL, {"commune": "00002"}).data["count"] == 4
    assert client.get(URL, {"background": "youth_union", "team": str(world.teams.a1.pk)}).data["count"] == 4
    assert client.get(URL, {"active": "false"}).data["count"] == 0


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


def test_the_login_rule_and_the_leave_rule_on_an_instance():
    leader = Member(role="leader", phone="0911000000", user_id=7, joined_on=dt.date(2026, 3, 1), version=2)
    assert not leader_loses_login(leader, {"role": "leader", "phone": "0911000000", "full_name": "Lê Văn A"})
    assert leader_loses_login(leader, {"role": "deputy"})
    assert leader_loses_login(leader, {"phone": "0911000001"})
    assert not leader_loses_login(Member(role="member", phone="0911000000"), {"role": "deputy"})
    assert member_changes_apply(leader, {"role": "member"}) == 7
    assert (leader.role, leader.user_id, leader.version) == ("member", None, 3)
    # A member who joined after the leaving day leaves on the day they joined; the login goes with them.
    joined_late = Member(active=True, user_id=8, joined_on=dt.date(2026, 3, 1), version=1)
    assert member_leave_apply(joined_late, dt.date(2026, 2, 1)) == 8
    assert (joined_late.active, joined_late.left_on, joined_late.version) == (False, dt.date(2026, 3, 1), 2)


def test_create_account_with_team_sets_the_leader_login(world):
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import User

    call_command(
        "create_account",
        phone="0999999999",
        password="mot-mat-khau-dai",
        role="team_leader",
        team=str(world.teams.b1.pk),
        stdout=StringIO(),
    )
    leader = world.teams.b1.members.get(role="leader")
    user = User.objects.get(phone=leader.phone)
    assert (user.role, user.team_id) == ("team_leader", world.teams.b1.pk)
    assert user.check_password("mot-mat-khau-dai")


@pytest.mark.django_db(transaction=True)
def test_concurrent_members_with_one_phone_give_one_201(api):
    """Two teams race to add the same phone on real connections: one wins, the other gets a field error."""
    from tests.conftest import build_world

    world = build_world()
    barrier = threading.Barrier(2)
    results = []

    def add(user, team):
        try:
            client = api(user)
            barrier.wait()
            response = client.post(URL, {"team": str(team.pk), "full_name": "Đỗ Văn Đua", "phone": "0977111222"})
            results.append((response.status_code, sorted(response.data) if response.status_code == 400 else None))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=add, args=(world.hoa, world.teams.a1)),
        threading.Thread(target=add, args=(world.hai, world.teams.a2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results) == [201, 400]
    assert "phone" in next(fields for code, fields in results if code == 400)
    assert Member.objects.filter(phone="0977111222", active=True).count() == 1


def test_joined_on_in_the_future_is_refused(world, api):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = api(world.hoa).post(URL, body(world, joined_on=str(tomorrow)))
    assert response.status_code == 400 and "joined_on" in response.data


def test_phone_is_shown_only_to_managers_in_scope():
    from types import SimpleNamespace

    from members.masking import sees_phone

    member = SimpleNamespace(province_id=1, commune_id=10, team_id="t1")
    assert sees_phone(SimpleNamespace(role="province_admin", province_id=1), member)
    assert not sees_phone(SimpleNamespace(role="province_admin", province_id=2), member)
    assert sees_phone(SimpleNamespace(role="commune_officer", commune_id=10), member)
    assert not sees_phone(SimpleNamespace(role="commune_officer", commune_id=11), member)
    assert sees_phone(SimpleNamespace(role="team_leader", team_id="t1"), member)
    assert not sees_phone(SimpleNamespace(role="team_leader", team_id="t2"), member)
    assert not sees_phone(SimpleNamespace(role="ministry"), member)
