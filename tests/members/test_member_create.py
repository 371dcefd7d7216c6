"""POST /api/v1/members/: replays, bad input per field, unique phone and national id, concurrent creates."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from members.models import Member
from tests.members.support import URL, body

pytestmark = pytest.mark.django_db


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
    assert response.data["errors"][field]
    assert Member.objects.count() == before


def test_birth_year_in_the_future_is_refused(world, api):
    response = api(world.hoa).post(URL, body(world, birth_year=timezone.localdate().year + 1))
    assert response.status_code == 400 and response.data["errors"]["birth_year"]


def test_phone_active_in_another_team_is_refused_in_any_spelling(world, api):
    other = world.teams.a2.members.exclude(role="leader").first()
    spelled = "+84 " + other.phone[1:4] + " " + other.phone[4:7] + " " + other.phone[7:]
    response = api(world.hoa).post(URL, body(world, phone=spelled))
    assert response.status_code == 400
    assert response.data["errors"]["phone"]


def test_a_second_leader_is_refused(world, api):
    response = api(world.hoa).post(URL, body(world, role="leader"))
    assert response.status_code == 400
    assert response.data["errors"]["role"]


def test_cccd_unique_among_active_members(world, api):
    assert api(world.hoa).post(URL, body(world, national_id="079012345678")).status_code == 201
    dup = api(world.hai).post(
        URL, {"team": str(world.teams.a2.pk), "full_name": "B", "phone": "0987000111", "national_id": "079012345678"}
    )
    assert dup.status_code == 400 and dup.data["errors"]["national_id"]


def test_errors_are_english_on_request(world, api):
    vi = api(world.hoa).post(URL, body(world, phone="02438256789")).data["errors"]["phone"][0]
    en = api(world.hoa, language="en").post(URL, body(world, phone="02438256789")).data["errors"]["phone"][0]
    assert vi != en and "landline" in en


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
            fields = sorted(response.data.get("errors", {})) if response.status_code == 400 else None
            results.append((response.status_code, fields))
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
    assert response.status_code == 400 and response.data["errors"]["joined_on"]
