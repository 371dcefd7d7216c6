"""members.registry_import: per-row errors, all or nothing, idempotent upserts, progress and date parsing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from areas.models import DirtyCommune
from members.models import Member
from members.registry_import import parse_date
from tests.factories import TeamFactory
from tests.members.support_import import north_team, pairs, row, run, snapshot

pytestmark = pytest.mark.django_db


def test_same_file_twice_changes_nothing(world):
    rows = [
        *north_team(),
        # The world's team at Thôn Đông in another spelling, its leader's phone written with +84.
        row(
            hamlet_name="THÔN  ĐÔNG",
            team_name="tổ cnscđ thôn đông",
            established_on=world.teams.a1.established_on.strftime("%d/%m/%Y"),
            decision_number="",
            full_name="Trưởng Tổ Đông",
            phone="+84 911 000 001",
            role="leader",
        ),
    ]
    first = run(rows)
    assert first.ok, first.errors
    assert (first.teams_created, first.teams_updated, first.members_created, first.members_updated) == (1, 1, 4, 1)
    before = snapshot()

    second = run(rows)

    assert second.ok
    assert (second.teams_created, second.teams_updated, second.teams_unchanged) == (0, 0, 2)
    assert (second.members_created, second.members_updated, second.members_unchanged) == (0, 0, 5)
    assert snapshot() == before


def test_one_bad_row_writes_nothing_and_reports_its_row_and_column(world):
    before = snapshot()
    rows = [*north_team(), row(full_name="Hồ Văn Sai", phone="0912 34 56", role="member")]

    result = run(rows)

    assert pairs(result) == [(6, "phone")]
    assert "mobile" in result.errors[0].message
    assert snapshot() == before


def test_every_rule_reports_its_row_and_column(world):
    b1_member = world.teams.b1.members.exclude(role="leader").first()
    TeamFactory(commune=world.a2, hamlet=world.hamlets.a2, name="Tổ CNSCĐ Thôn Tây")
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    rows = [
        row(phone="0981000001", role="leader"),  # 2: good
        row(phone="0981000001"),  # 3: same phone as row 2
        row(phone="0981000003", role="leader"),  # 4: a second leader of the team
        row(phone="0981000004", established_on="02/05/2024"),  # 5: the team's date differs from row 2
        row(phone="0981000005", commune_code="99999"),  # 6: no such commune
        row(phone="02438256789"),  # 7: a landline
        row(phone="0981000007", role="boss"),  # 8
        row(phone="0981000008", background="astronaut"),  # 9
        row(phone="0981000009", gender="x"),  # 10
        row(phone="0981000010", birth_year="1899"),  # 11
        row(phone="0981000011", birth_year="abc"),  # 12
        row(phone="0981000012", established_on="2024"),  # 13: a bare year is not a date
        row(phone="0981000013", established_on=future),  # 14
        row(phone="0981000014", team_name=" "),  # 15
        row(phone="0981000015", full_name="\u200b"),  # 16
        row(phone="0981000016", hamlet_name="Thôn Mới", hamlet_kind="", team_name="Tổ Mới"),  # 17: kind needed
        row(phone="0981000017", commune_code="00002", hamlet_name="Thôn Tây", team_name="Tổ Khác"),  # 18: taken
        row(phone="0981000018", commune_code="00002", hamlet_name="", team_name="Tổ Xã Khác"),  # 19: A2 has one
        row(phone=b1_member.phone, hamlet_name="Thôn Nam Mới", team_name="Tổ Nam Mới"),  # 20: B1's team not in file
        row(phone="0981000020", hamlet_name="Thôn Đông", team_name="Tổ CNSCĐ Thôn Đông", role="leader"),  # 21
        row(phone="0981000021", hamlet_name="Thôn Kia", hamlet_kind="??", team_name="Tổ Kia"),  # 22
        row(phone="0981000022", team_name="Tổ Thứ Hai Ở Thôn Bắc"),  # 23: Thôn Bắc already has row 2's team
        row(phone="0981000023", decision_number="x" * 101),  # 24
    ]
    before = snapshot()

    result = run(rows)

    assert pairs(result) == [
        (3, "phone"),
        (4, "role"),
        (5, "established_on"),
        (6, "commune_code"),
        (7, "phone"),
        (8, "role"),
        (9, "background"),
        (10, "gender"),
        (11, "birth_year"),
        (12, "birth_year"),
        (13, "established_on"),
        (14, "established_on"),
        (15, "team_name"),
        (16, "full_name"),
        (17, "hamlet_kind"),
        (18, "team_name"),
        (19, "team_name"),
        (20, "phone"),
        (21, "role"),
        (22, "hamlet_kind"),
        (23, "team_name"),
        (24, "decision_number"),
    ]
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert messages[(3, "phone")] == "Same phone number as row 2."
    assert messages[(5, "established_on")] == "Differs from row 2 of the same team."
    assert messages[(18, "team_name")] == "This hamlet already has an active team."
    assert messages[(21, "role")] == "This team already has an active leader."
    assert snapshot() == before


def test_reimport_updates_members_in_place_swaps_the_leader_and_moves_between_teams(world):
    a1, a2 = world.teams.a1, world.teams.a2
    old_leader = world.leaders.a1
    promoted = a1.members.exclude(role="leader").order_by("phone").first()
    mover = a2.members.exclude(role="leader").order_by("phone").first()
    a1_place = {"hamlet_name": "Thôn Đông", "team_name": a1.name, "established_on": a1.established_on.isoformat()}
    a2_place = {
        "commune_code": "00002",
        "hamlet_name": "",
        "team_name": a2.name,
        "established_on": a2.established_on.isoformat(),
    }
    rows = [
        row(**a1_place, full_name="Trưởng Cũ", phone=old_leader.phone, role="member", background="teacher"),
        row(**a1_place, full_name=promoted.full_name, phone=promoted.phone, role="leader"),
        row(**a1_place, full_name=mover.full_name, phone=mover.phone, role="member"),
        row(**a2_place, full_name="Trưởng Tổ Hai", phone=world.leaders.a2.phone, role="leader"),
    ]

    result = run(rows)

    assert result.ok, result.errors
    assert (result.members_updated, result.members_moved, result.members_created) == (3, 1, 0)
    old_leader.refresh_from_db()
    assert (old_leader.role, old_leader.background, old_leader.version, old_leader.user_id) == (
        "member",
        "teacher",
        2,
        None,
    )
    world.tuan.refresh_from_db()
    assert not world.tuan.is_active  # the demoted leader's login is switched off
    mover.refresh_from_db()
    assert not mover.active and mover.left_on == timezone.localdate()
    moved = Member.objects.get(phone=mover.phone, active=True)
    assert moved.team_id == a1.pk and moved.background == mover.background
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.leader_id, a1.member_count) == (promoted.pk, 5)
    assert a2.member_count == 3
    assert set(DirtyCommune.objects.values_list("commune_id", flat=True)) == {world.a1.pk, world.a2.pk}


def test_progress_is_reported_up_to_the_last_row(world):
    calls = []
    result = run(north_team(), progress=lambda done, total: calls.append((done, total)))
    assert result.ok
    assert calls[-1] == (4, 4)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01", dt.date(2024, 5, 1)),
        ("1/5/2024", dt.date(2024, 5, 1)),
        ("01/05/2024", dt.date(2024, 5, 1)),
        ("45413", dt.date(2024, 5, 1)),
        ("45413.0", dt.date(2024, 5, 1)),
        ("2024", None),
        ("31/02/2024", None),
        ("05-01-2024", None),
        ("", None),
    ],
)
def test_dates_in_the_accepted_spellings(raw, expected):
    assert parse_date(raw) == expected
