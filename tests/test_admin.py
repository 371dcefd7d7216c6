"""The Django admin: rows and rights from the scoping mechanism, writes through the services, masked personal data."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.scoping import Role
from areas.models import DirtyCommune, Hamlet
from areas.names import fold, name_key
from members.models import Member
from teams.models import Team
from tests.conftest import PASSWORD
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

NATIONAL_ID = "079012345678"
MASKED_NATIONAL_ID = "********5678"

TEAMS = "/admin/teams/team/"
MEMBERS = "/admin/members/member/"
HAMLETS = "/admin/areas/hamlet/"
USERS = "/admin/accounts/user/"


@pytest.fixture
def login(client):
    """login(user) makes the user staff (unless staff=False) and logs the test client in as them."""

    def make(user, staff: bool = True):
        if staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        client.force_login(user)
        return client

    return make


@pytest.fixture
def root():
    return UserFactory(phone="0900000099", role=Role.MINISTRY, is_staff=True, is_superuser=True)


def listed(client, url: str, **params) -> set:
    response = client.get(url, params)
    assert response.status_code == 200
    return set(response.context["cl"].queryset)


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def with_national_id(member: Member) -> Member:
    Member.objects.filter(pk=member.pk).update(national_id=NATIONAL_ID)
    member.refresh_from_db()
    return member


def member_post(member: Member, **changes) -> dict:
    data = {
        "full_name": member.full_name,
        "phone": member.phone,
        "birth_year": "",
        "gender": "",
        "role": member.role,
        "background": member.background,
        "joined_on": member.joined_on.isoformat(),
        "version": member.version,
    }
    return data | changes


def team_post(team, **changes) -> dict:
    data = {
        "name": team.name,
        "hamlet": team.hamlet_id or "",
        "established_on": team.established_on.isoformat(),
        "decision_number": team.decision_number,
        "version": team.version,
    }
    return data | changes


# --- Rows: the scoping mechanism ---------------------------------------------------------------


def test_lan_lists_only_province_a_teams(world, login):
    assert listed(login(world.lan), TEAMS) == {world.teams.a1, world.teams.a2}


def test_hoa_lists_only_commune_a1_rows(world, login):
    client = login(world.hoa)
    assert listed(client, TEAMS) == {world.teams.a1}
    assert listed(client, HAMLETS) == {world.hamlets.a1}
    members = listed(client, MEMBERS)
    assert members == set(Member.objects.filter(commune=world.a1))
    assert len(members) == 4


def test_tuan_lists_only_his_team_members(world, login):
    MemberFactory(team=world.teams.a1)
    other_team_in_a1 = MemberFactory(team__commune=world.a1)
    members = listed(login(world.tuan), MEMBERS)
    assert members == set(Member.objects.filter(team=world.teams.a1))
    assert other_team_in_a1 not in members


def test_superuser_lists_every_row(world, login, root):
    client = login(root)
    assert len(listed(client, TEAMS)) == 3
    assert len(listed(client, HAMLETS)) == 3
    assert len(listed(client, MEMBERS)) == 12


def test_staff_user_without_scope_sees_nothing(world, login):
    client = login(world.nobody)
    assert client.get(TEAMS).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []


def test_hoa_sees_areas_teams_and_members_but_not_logins(world, login):
    client = login(world.hoa)
    index = client.get(reverse("admin:index"))
    assert {app["app_label"] for app in index.context["app_list"]} == {"areas", "teams", "members"}
    assert client.get(USERS).status_code == 403


def test_out_of_scope_change_page_answers_like_a_missing_row(world, login):
    client = login(world.lan)
    out_of_scope = client.get(change_url(world.teams.b1))
    missing = client.get(reverse("admin:teams_team_change", args=[uuid.uuid4()]))
    assert out_of_scope.status_code == missing.status_code == 302
    assert out_of_scope.url == missing.url == reverse("admin:index")


def test_hoa_cannot_edit_a_hamlet_of_another_commune(world, login):
    hamlet = world.hamlets.a2
    response = login(world.hoa).post(change_url(hamlet), {"name": "Thôn Lạ", "kind": hamlet.kind, "active": "on"})
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    hamlet.refresh_from_db()
    assert hamlet.name == "Thôn Tây"
    assert not DirtyCommune.objects.exists()


def test_non_staff_user_is_sent_to_the_login_page(world, login):
    response = login(world.lan, staff=False).get(TEAMS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_ministry_reads_every_team_but_cannot_change_one(world, login):
    client = login(world.minh)
    assert len(listed(client, TEAMS)) == 3
    page = client.get(change_url(world.teams.a1))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = client.post(change_url(world.teams.a1), team_post(world.teams.a1, name="Tổ Đổi Tên"))
    assert response.status_code == 403
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.name == "Tổ CNSCĐ Thôn Đông"


# --- Personal data --------------------------------------------------------------------------------


def test_member_list_masks_national_id_for_hoa_and_shows_it_to_lan(world, login):
    with_national_id(world.leaders.a1)
    hoa_page = login(world.hoa).get(MEMBERS).content.decode()
    assert MASKED_NATIONAL_ID in hoa_page
    assert NATIONAL_ID not in hoa_page
    lan_page = login(world.lan).get(MEMBERS).content.decode()
    assert NATIONAL_ID in lan_page


def test_member_page_gives_hoa_no_national_id_field(world, login):
    member = with_national_id(world.leaders.a1)
    hoa_page = login(world.hoa).get(change_url(member))
    assert "national_id" not in hoa_page.context["adminform"].form.fields
    assert NATIONAL_ID not in hoa_page.content.decode()
    assert MASKED_NATIONAL_ID in hoa_page.content.decode()


def test_member_page_lets_lan_edit_the_national_id(world, login):
    member = with_national_id(world.leaders.a1)
    lan_page = login(world.lan).get(change_url(member))
    assert lan_page.context["adminform"].form.initial["national_id"] == NATIONAL_ID


def test_ministry_view_only_member_page_masks_phone_and_national_id(world, login):
    member = with_national_id(world.leaders.a1)
    page = login(world.minh).get(change_url(member))
    assert page.status_code == 200
    content = page.content.decode()
    assert NATIONAL_ID not in content
    assert member.phone not in content
    assert "091****001" in content
    assert MASKED_NATIONAL_ID in content


def test_national_id_is_neither_searchable_nor_filterable(world, login):
    with_national_id(world.leaders.a1)
    client = login(world.lan)
    assert listed(client, MEMBERS, q=NATIONAL_ID) == set()
    assert client.get(MEMBERS, {"national_id__startswith": "0790"}).status_code == 400
    assert client.get(MEMBERS, {"national_id": NATIONAL_ID}).status_code == 400


def test_phone_search_needs_the_whole_number(world, login):
    client = login(world.lan)
    assert listed(client, MEMBERS, q="+84 911 000 001") == {world.leaders.a1}
    assert listed(client, MEMBERS, q="091100000") == set()


def test_ministry_can_neither_search_nor_filter_by_phone(world, login):
    client = login(world.minh)
    assert listed(client, MEMBERS, q=world.leaders.a1.phone) == set()
    assert client.get(MEMBERS, {"phone__startswith": "0911"}).status_code == 400


# --- Writes through the services ------------------------------------------------------------------


def test_hamlet_rename_goes_through_the_service_and_marks_the_commune_dirty(world, login):
    hamlet = world.hamlets.a1
    response = login(world.hoa).post(
        change_url(hamlet), {"name": "  Thôn   Đông  Mới ", "kind": hamlet.kind, "active": "on"}
    )
    assert response.status_code == 302
    hamlet.refresh_from_db()
    assert hamlet.name == "Thôn Đông Mới"
    assert hamlet.name_key == name_key("Thôn Đông Mới")
    assert set(DirtyCommune.objects.values_list("commune_id", flat=True)) == {world.a1.pk}


def test_hamlet_retirement_is_refused_while_a_team_serves_it(world, login):
    hamlet = world.hamlets.a1
    response = login(world.hoa).post(change_url(hamlet), {"name": hamlet.name, "kind": hamlet.kind})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    hamlet.refresh_from_db()
    assert hamlet.active
    assert not DirtyCommune.objects.exists()


def test_hamlet_added_in_the_admin_is_created_by_the_service(world, login):
    response = login(world.hoa).post(
        reverse("admin:areas_hamlet_add"), {"commune": world.a1.pk, "name": "Thôn Bắc", "kind": "thon"}
    )
    assert response.status_code == 302
    hamlet = Hamlet.objects.get(name="Thôn Bắc")
    assert (hamlet.commune, hamlet.province) == (world.a1, world.a)
    assert DirtyCommune.objects.filter(commune=world.a1).exists()


def test_hoa_cannot_add_a_hamlet_to_another_commune(world, login):
    response = login(world.hoa).post(
        reverse("admin:areas_hamlet_add"), {"commune": world.a2.pk, "name": "Thôn Bắc", "kind": "thon"}
    )
    assert response.status_code == 200
    assert "commune" in response.context["adminform"].form.errors
    assert not Hamlet.objects.filter(name="Thôn Bắc").exists()


def test_team_edit_goes_through_the_service_and_refuses_a_stale_version(world, login):
    team = world.teams.a1
    loaded = team_post(team)
    client = login(world.lan)
    assert client.post(change_url(team), loaded | {"name": "Tổ Số Thôn Đông"}).status_code == 302
    team.refresh_from_db()
    assert (team.name, team.name_folded, team.version) == ("Tổ Số Thôn Đông", fold("Tổ Số Thôn Đông"), 2)
    assert DirtyCommune.objects.filter(commune=world.a1).exists()

    stale = client.post(change_url(team), loaded | {"name": "Tổ Cũ"})
    assert stale.status_code == 200
    assert stale.context["adminform"].form.non_field_errors()
    team.refresh_from_db()
    assert (team.name, team.version) == ("Tổ Số Thôn Đông", 2)


def test_team_derived_fields_cannot_be_posted(world, login):
    team = world.teams.a1
    posted = team_post(team, name="Tổ Mới", member_count=99, size_status="over", status="dissolved")
    assert login(world.lan).post(change_url(team), posted).status_code == 302
    team.refresh_from_db()
    assert (team.name, team.member_count, team.size_status, team.status) == ("Tổ Mới", 4, "ok", "active")


def test_member_edit_goes_through_the_service(world, login):
    member = with_national_id(world.leaders.a1)
    posted = member_post(member, phone="+84 912 345 678", national_id="001099999999")
    assert login(world.hoa).post(change_url(member), posted).status_code == 302
    member.refresh_from_db()
    assert (member.phone, member.version) == ("0912345678", 2)
    # hoa may not read the CCCD, so the form has no such field and a posted one is ignored.
    assert member.national_id == NATIONAL_ID
    # The phone was the login's: the service switched off the old login.
    assert member.user_id is None
    assert not User.objects.get(pk=world.tuan.pk).is_active
    assert DirtyCommune.objects.filter(commune=world.a1).exists()


def test_team_added_in_the_admin_is_registered_by_the_service(world, login):
    posted = {
        "commune": world.a2.pk,
        "hamlet": world.hamlets.a2.pk,
        "name": "Tổ CNSCĐ Thôn Tây",
        "established_on": "2025-08-01",
        "decision_number": "12/QĐ-UBND",
    }
    assert login(world.lan).post(reverse("admin:teams_team_add"), posted).status_code == 302
    team = Team.objects.get(hamlet=world.hamlets.a2)
    assert (team.province, team.commune, team.size_status) == (world.a, world.a2, "under")
    assert team.name_folded == fold("Tổ CNSCĐ Thôn Tây")
    assert DirtyCommune.objects.filter(commune=world.a2).exists()


def test_member_added_in_the_admin_is_counted_by_the_service(world, login):
    posted = {
        "team": world.teams.a1.pk,
        "full_name": "Lê Văn Bình",
        "phone": "0912 000 666",
        "national_id": "",
        "birth_year": "1990",
        "gender": "male",
        "role": "member",
        "background": "police",
        "joined_on": "2025-09-01",
    }
    assert login(world.hoa).post(reverse("admin:members_member_add"), posted).status_code == 302
    member = Member.objects.get(phone="0912000666")
    assert (member.province, member.commune, member.team) == (world.a, world.a1, world.teams.a1)
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.member_count == 5
    assert DirtyCommune.objects.filter(commune=world.a1).exists()


def test_member_duplicate_phone_is_a_form_error(world, login):
    member = Member.objects.filter(team=world.teams.a1, role="member").first()
    posted = member_post(member, phone=world.leaders.a2.phone)
    response = login(world.hoa).post(change_url(member), posted)
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.version == 1


def test_member_changelist_queries_do_not_grow_with_rows(world, login):
    client = login(world.lan)
    client.get(MEMBERS)
    with CaptureQueriesContext(connection) as before:
        client.get(MEMBERS)
    MemberFactory.create_batch(10, team=world.teams.a2)
    with CaptureQueriesContext(connection) as after:
        response = client.get(MEMBERS)
    assert response.context["cl"].result_count == 18
    assert len(after.captured_queries) == len(before.captured_queries)


# --- Logins ---------------------------------------------------------------------------------------


def test_superuser_changes_a_password_in_the_admin(world, login, root):
    new_password = "mot-mat-khau-moi-456"
    response = login(root).post(
        f"{USERS}{world.lan.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302
    world.lan.refresh_from_db()
    assert world.lan.check_password(new_password)


def test_superuser_adds_a_commune_officer_whose_province_follows_the_commune(world, login, root):
    posted = {
        "phone": "+84 912 000 444",
        "full_name": "Trần Thị Mai",
        "role": Role.COMMUNE_OFFICER,
        "province": "",
        "commune": world.a1.pk,
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    assert login(root).post(reverse("admin:accounts_user_add"), posted).status_code == 302
    user = User.objects.get(phone="0912000444")
    assert (user.role, user.province, user.commune) == (Role.COMMUNE_OFFICER, world.a, world.a1)


def test_user_scope_must_fit_the_role(world, login, root):
    posted = {
        "phone": "0912000555",
        "role": Role.COMMUNE_OFFICER,
        "province": world.b.pk,
        "commune": world.a1.pk,
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = login(root).post(reverse("admin:accounts_user_add"), posted)
    assert response.status_code == 200
    assert "commune" in response.context["adminform"].form.errors
    assert not User.objects.filter(phone="0912000555").exists()


def test_team_leader_role_is_not_granted_in_the_admin(world, login, root):
    data = {
        "phone": world.hoa.phone,
        "full_name": "",
        "role": Role.TEAM_LEADER,
        "province": world.a.pk,
        "commune": world.a1.pk,
        "is_active": "on",
        "is_staff": "on",
    }
    response = login(root).post(change_url(world.hoa), data)
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    world.hoa.refresh_from_db()
    assert world.hoa.role == Role.COMMUNE_OFFICER


def test_user_search_takes_any_spelling_of_a_phone(world, login, root):
    assert listed(login(root), USERS, q="+84 900 000 002") == {world.lan}


@pytest.mark.parametrize("persona", ["root", "minh", "lan", "hoa", "tuan"])
def test_every_admin_page_renders_for_every_persona(world, login, root, persona):
    user = root if persona == "root" else getattr(world, persona)
    client = login(user)
    member = with_national_id(world.leaders.a1)
    urls = [
        reverse("admin:index"),
        *(f"/admin/{path}/" for path in ("areas/province", "areas/commune", "areas/hamlet", "teams/team")),
        MEMBERS,
        f"{MEMBERS}?q=0911000001&role=leader&active__exact=1",
        f"{TEAMS}?level=hamlet&status__exact=active&q=thon dong",
        USERS,
        *(reverse(f"admin:{name}_add") for name in ("areas_hamlet", "teams_team", "members_member", "accounts_user")),
        *(change_url(obj) for obj in (world.a, world.a1, world.hamlets.a1, world.teams.a1, member, world.hoa)),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in {200, 403}, url
        assert NATIONAL_ID not in response.content.decode() or persona == "lan", url
