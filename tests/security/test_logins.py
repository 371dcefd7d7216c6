"""Logins: no takeover through the leader-account API, consistency held by the database, sessions that end
when the login changes, and a login rate limit that a forged header does not reset. Through HTTP, on both
databases.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.scoping import Role
from accounts.services import account_upsert
from members.models import Member, MemberRole
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.security.support import Http, assert_4xx_with_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def http(live_server, world):
    return Http(live_server.url)


def _login_works(http, phone: str, password: str = PASSWORD) -> bool:
    return http.post("/auth/token/", {"phone": phone, "password": password}).status_code == 200


def _leader_for(http, world, phone: str) -> str:
    """As hoa (commune officer of A1): a new commune-level team in A1 whose leader member has this phone."""
    hoa = http.as_(world.hoa)
    team = hoa.post("/teams/", {"commune": "00001", "name": f"Tổ thử {phone}", "established_on": "2025-08-01"})
    assert team.status_code == 201, team.text[:300]
    team_id = team.json()["id"]
    member = hoa.post(
        "/members/", {"team": team_id, "full_name": "Người Thử", "phone": phone, "role": MemberRole.LEADER}
    )
    assert member.status_code == 201, member.text[:300]
    return team_id


# --- Takeover through the leader-account API -------------------------------------------------------------------

EXISTING_LOGINS = {
    "ministry": {"role": Role.MINISTRY},
    "superuser": {"role": Role.MINISTRY, "is_staff": True, "is_superuser": True},
    "staff province admin": {"role": Role.PROVINCE_ADMIN, "is_staff": True, "province": "b"},
    "province admin of another province": {"role": Role.PROVINCE_ADMIN, "province": "b"},
    "province admin without a province": {"role": Role.PROVINCE_ADMIN},
    "commune officer of another province": {"role": Role.COMMUNE_OFFICER, "province": "b", "commune": "b1"},
    "commune officer of the same commune": {"role": Role.COMMUNE_OFFICER, "province": "a", "commune": "a1"},
    "deactivated superuser": {"role": Role.MINISTRY, "is_staff": True, "is_superuser": True, "is_active": False},
}


@pytest.mark.parametrize("kind", sorted(EXISTING_LOGINS))
def test_a_commune_officer_cannot_take_over_an_existing_login_of_any_other_kind(http, world, kind):
    fields = dict(EXISTING_LOGINS[kind])
    for unit in ("province", "commune"):
        if unit in fields:
            fields[unit] = getattr(world, fields[unit])
    target = UserFactory(phone="0977000001", **fields)
    before = User.objects.filter(pk=target.pk).values().get()
    team_id = _leader_for(http, world, target.phone)

    for body in ({}, {"password": "mat-khau-chiem-quyen-1"}):
        response = http.as_(world.hoa).post(f"/teams/{team_id}/leader-account/", body)
        assert_4xx_with_message(response, kind)
        assert response.status_code == 409
        assert target.phone not in response.text

    assert User.objects.filter(pk=target.pk).values().get() == before
    assert not Member.objects.filter(user=target).exists()
    if target.is_active:
        assert _login_works(http, target.phone)
    assert not _login_works(http, target.phone, "mat-khau-chiem-quyen-1")


def test_an_active_leader_login_of_another_team_cannot_be_reused(http, world):
    # tam leads team A2 with an active login; the phone is taken by that active member, so it cannot even
    # become a leader elsewhere: the leader-account step is never reached.
    hoa = http.as_(world.hoa)
    team = hoa.post("/teams/", {"commune": "00001", "name": "Tổ thử khác", "established_on": "2025-08-01"}).json()
    response = hoa.post("/members/", {"team": team["id"], "full_name": "Người Thử", "phone": world.tam.phone})
    assert_4xx_with_message(response)
    assert world.tam.phone not in response.text
    assert _login_works(http, world.tam.phone)


def test_a_dormant_leader_login_is_reused_without_any_right_it_did_not_have(http, world):
    # tam's login went dormant when tam left team A2; tam now leads a new team in A1.
    hai = http.as_(world.hai)
    assert hai.request("DELETE", f"/members/{world.leaders.a2.pk}/").status_code == 200
    team_id = _leader_for(http, world, world.tam.phone)
    response = http.as_(world.hoa).post(f"/teams/{team_id}/leader-account/", {"password": "mat-khau-moi-2025"})
    assert response.status_code == 200, response.text[:300]
    login = User.objects.get(phone=world.tam.phone)
    assert (login.role, str(login.team_id), login.commune_id) == (Role.TEAM_LEADER, team_id, world.a1.pk)
    assert not login.is_staff and not login.is_superuser


# --- The database keeps logins consistent ---------------------------------------------------------------------


def _refused(**fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(phone="0977000002", **fields)


def test_the_database_refuses_inconsistent_logins(world):
    _refused(role="")
    _refused(role="superhero")
    _refused(role=Role.TEAM_LEADER)  # no team
    _refused(role=Role.TEAM_LEADER, province=world.a, commune=world.a1, team=world.teams.a2)  # team elsewhere
    _refused(role=Role.TEAM_LEADER, province=world.b, commune=world.a1, team=world.teams.a1)  # province wrong
    _refused(role=Role.TEAM_LEADER, province=world.a, commune=world.a1, team=world.teams.a1, is_superuser=True)
    _refused(role=Role.COMMUNE_OFFICER)  # no commune
    _refused(role=Role.COMMUNE_OFFICER, province=world.b, commune=world.a1)  # commune not in the province
    _refused(role=Role.MINISTRY, province=world.a)
    assert not User.objects.filter(phone="0977000002").exists()


def test_the_database_refuses_moving_a_login_to_units_that_do_not_agree(world):
    for changes in (
        {"commune": world.b1},
        {"province": world.b},
        {"role": ""},
        {"is_superuser": True},
        {"team": world.teams.b1},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=world.tuan.pk).update(**changes)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=world.hoa.pk).update(commune=world.b1)


# --- Sessions end when the login changes -----------------------------------------------------------------------


def _reset_password(http, world):
    response = http.as_(world.hoa).post(
        f"/teams/{world.teams.a1.pk}/leader-account/", {"password": "mat-khau-2025-moi"}
    )
    assert response.status_code == 200, response.text[:300]


def _leave(http, world):
    assert http.as_(world.hoa).request("DELETE", f"/members/{world.leaders.a1.pk}/").status_code == 200


def _demote(http, world):
    version = Member.objects.get(pk=world.leaders.a1.pk).version
    body = {"version": version, "role": MemberRole.MEMBER}
    response = http.as_(world.hoa).patch(f"/members/{world.leaders.a1.pk}/", body)
    assert response.status_code == 200, response.text[:300]


def _dissolve(http, world):
    version = world.teams.a1.version
    response = http.as_(world.hoa).post(f"/teams/{world.teams.a1.pk}/dissolve/", {"version": version})
    assert response.status_code == 200, response.text[:300]


def _deactivate(http, world):
    User.objects.filter(pk=world.tuan.pk).update(is_active=False)


def _new_phone_on_the_member(http, world):
    version = Member.objects.get(pk=world.leaders.a1.pk).version
    response = http.as_(world.hoa).patch(
        f"/members/{world.leaders.a1.pk}/", {"version": version, "phone": "0988000111"}
    )
    assert response.status_code == 200, response.text[:300]


REVOKING = {
    "password reset": _reset_password,
    "leaving the team": _leave,
    "demotion": _demote,
    "dissolution": _dissolve,
    "deactivation": _deactivate,
    "new phone": _new_phone_on_the_member,
}


@pytest.mark.parametrize("event", sorted(REVOKING))
def test_each_revoking_event_ends_every_earlier_token_of_the_leader(http, world, event):
    sessions = [http.as_(world.tuan), http.as_(world.tuan)]
    assert all(s.get("/me/").status_code == 200 for s in sessions)
    REVOKING[event](http, world)
    for session in sessions:
        me = session.get("/me/")
        assert me.status_code == 401, (event, me.status_code)
        assert_4xx_with_message(me, event)
        refreshed = Http(http.base).post("/auth/token/refresh/", {"refresh": session.refresh})
        assert refreshed.status_code == 401, (event, refreshed.status_code, refreshed.text[:200])


def test_a_role_change_ends_the_officers_sessions(http, world):
    session = http.as_(world.hoa)
    account_upsert(phone=world.hoa.phone, password=PASSWORD, role=Role.PROVINCE_ADMIN, province=world.a)
    assert session.get("/me/").status_code == 401
    assert Http(http.base).post("/auth/token/refresh/", {"refresh": session.refresh}).status_code == 401
    assert http.as_(world.hoa).get("/me/").json()["role"] == Role.PROVINCE_ADMIN


def test_a_new_login_after_the_event_works_and_unrelated_changes_end_nothing(http, world):
    session = http.as_(world.tuan)
    other = http.as_(world.tam)
    # Logging in again and renaming the login change neither the password nor the scope.
    http.as_(world.tuan)
    User.objects.filter(pk=world.tuan.pk).update(full_name="Tên Mới")
    assert session.get("/me/").status_code == 200
    _reset_password(http, world)
    assert session.get("/me/").status_code == 401
    assert other.get("/me/").status_code == 200, "another leader's session must not end"
    assert http.as_(world.tuan, "mat-khau-2025-moi").get("/me/").status_code == 200


def test_a_refresh_token_of_a_deleted_login_is_a_401_not_a_500(http, world):
    login = UserFactory(phone="0977000003", role=Role.MINISTRY)
    session = http.as_(login)
    login.delete()
    response = Http(http.base).post("/auth/token/refresh/", {"refresh": session.refresh})
    assert response.status_code == 401, response.text[:200]


# --- The login rate limit counts the connection's address, not a header --------------------------------------


def _failed_login(client, headers=None):
    phone = f"09{uuid.uuid4().int % 10**8:08d}"  # a different phone each time: the per-phone lockout stays out
    return client.request(
        "POST", "/auth/token/", body={"phone": phone, "password": "sai-mat-khau"}, headers=headers or {}
    )


@pytest.mark.parametrize(
    "header",
    ["X-Forwarded-For", "X-Real-IP", "Forwarded", "CF-Connecting-IP", "True-Client-IP", "X-Client-IP"],
)
def test_a_forged_address_header_does_not_reset_the_login_rate_limit(http, world, header):
    client = Http(http.base, keep_limits=True)
    statuses = [_failed_login(client).status_code for _ in range(30)]
    assert statuses == [401] * 30, statuses
    for n in range(10):
        address = f"198.51.100.{n + 1}" if header != "Forwarded" else f"for=198.51.100.{n + 1}"
        response = _failed_login(client, headers={header: address})
        assert response.status_code == 429, (header, n, response.status_code)
        assert_4xx_with_message(response, header)
