"""config.copying: rows written with COPY, from instances (copy_insert) or the owners' tuples (copy_rows), equal
the rows save() writes, get their keys, and fail as bulk_create fails; a bulk load's foreign keys are checked once
at the end (foreign_keys_checked_once) and come back as they were."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from areas.models import Hamlet
from areas.services import HAMLET_ROW, hamlet_build, hamlet_row
from config.copying import copy_insert, copy_rows, foreign_keys_checked_once
from teams.models import Team
from teams.services import team_build
from tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db

# Set by the database or the clock on each write, so they differ between two writes of the same row.
_PER_WRITE = {"id", "created_at", "updated_at"}


def _stored(obj) -> dict:
    """The row as the database holds it, read back, without the per-write columns."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return {k: v for k, v in model_to_dict(fresh).items() if k not in _PER_WRITE}


def test_a_copied_row_equals_the_row_save_writes(on_postgres):
    commune = CommuneFactory()
    saved = hamlet_build(commune=commune, name="Thôn Đoài", kind="thon", old_commune_id=None)
    saved.save()
    copied = hamlet_build(commune=commune, name="Thôn Đông", kind="thon", old_commune_id=None)
    assert copy_insert(type(copied), [copied]) == 1
    differ = {"name", "name_key"}  # the one rule: no two hamlets of a commune share a name
    copied_row = {k: v for k, v in _stored(copied).items() if k not in differ}
    saved_row = {k: v for k, v in _stored(saved).items() if k not in differ}
    assert copied_row == saved_row
    assert _stored(copied)["name"] == "Thôn Đông"
    assert copied.created_at is not None and copied.updated_at is not None  # auto_now as save() sets it
    assert not copied._state.adding


def test_keys_come_from_the_sequence_and_children_point_at_unsaved_parents(on_postgres):
    commune = CommuneFactory()
    hamlets = [hamlet_build(commune=commune, name=f"Thôn {n}", kind="thon") for n in range(5)]
    teams = [
        team_build(commune=commune, hamlet=h, name=f"Tổ {h.name}", established_on=dt.date(2025, 1, 2)) for h in hamlets
    ]
    assert all(h.pk is None for h in hamlets)
    copy_insert(type(hamlets[0]), hamlets)
    copy_insert(Team, teams)
    keys = [h.pk for h in hamlets]
    assert None not in keys and len(set(keys)) == 5
    stored = dict(Team.objects.filter(commune=commune).values_list("hamlet_id", "name"))
    assert stored == {h.pk: f"Tổ {h.name}" for h in hamlets}
    after = hamlet_build(commune=commune, name="Thôn mới", kind="thon")
    after.save()  # the sequence moved past the copied keys: a later save does not collide
    assert after.pk > max(keys)


def test_a_constraint_violation_is_djangos_integrity_error_and_writes_nothing(on_postgres):
    commune = CommuneFactory()
    rows = [hamlet_build(commune=commune, name="Thôn Giữa", kind="thon") for _ in range(2)]
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_insert(type(rows[0]), rows)
    assert not type(rows[0]).objects.filter(commune=commune).exists()
    assert connection.vendor == "postgresql"


def test_teams_and_members_copied_equal_the_rows_save_writes(on_postgres):
    """Every kind of column the registry copies: UUID keys, foreign keys, dates, small integers, booleans, the
    auto_now timestamps, and the member's personal data (held as given: phone and citizen id)."""
    from members.models import Member
    from members.services import member_build

    first = CommuneFactory()
    communes = (first, CommuneFactory(province=first.province))  # one commune-level team per commune
    teams = [
        team_build(commune=c, hamlet=None, name=name, established_on=dt.date(2024, 3, 4), decision_number="7/QĐ")
        for c, name in zip(communes, ("Tổ Một", "Tổ Hai"), strict=True)
    ]
    teams[0].save()
    copy_insert(Team, teams[1:])
    differ = {"name", "name_key", "name_folded", "commune"}
    saved_team, copied_team = ({k: v for k, v in _stored(t).items() if k not in differ} for t in teams)
    assert copied_team == saved_team

    def member(team, phone, national_id):
        return member_build(
            team=team,
            full_name="Nguyễn Thị Hoa",
            phone=phone,
            national_id=national_id,
            birth_year=1990,
            gender="female",
            role="member",
            background="youth_union",
            joined_on=dt.date(2024, 5, 6),
        )

    saved = member(teams[0], "0912345670", "001190012345")
    copied = member(teams[1], "0912345671", "001190012346")
    saved.save()
    copy_insert(Member, [copied])
    differ = {"team", "commune", "phone", "national_id"}
    saved_row, copied_row = ({k: v for k, v in _stored(m).items() if k not in differ} for m in (saved, copied))
    assert copied_row == saved_row
    assert (_stored(copied)["phone"], _stored(copied)["national_id"]) == ("0912345671", "001190012346")
    assert _stored(copied)["team"] == teams[1].pk


# --- copy_rows: the owners' rows as tuples -----------------------------------------------------------


def test_rows_copied_as_tuples_equal_the_rows_save_writes(on_postgres):
    """hamlet_row, team_row and member_row through copy_rows give the rows the instance builders give through
    save(): every column the shapes leave out (active, version, left_on, user, status, the timestamps) included."""
    from members.models import Member
    from members.services import MEMBER_ROW, member_build, member_row
    from teams.services import TEAM_ROW, team_name_fields, team_row

    commune = CommuneFactory()
    saved_hamlet = hamlet_build(commune=commune, name="Thôn Đoài", kind="thon")
    saved_hamlet.save()
    [key] = copy_rows(HAMLET_ROW, [hamlet_row(commune=commune, name="Thôn Đông", kind="thon")])
    copied_hamlet = type(saved_hamlet).objects.get(pk=key)
    assert key > saved_hamlet.pk
    differ = {"name", "name_key"}
    assert {k: v for k, v in _stored(copied_hamlet).items() if k not in differ} == {
        k: v for k, v in _stored(saved_hamlet).items() if k not in differ
    }

    saved_team = team_build(commune=commune, hamlet=saved_hamlet, name="Tổ Đoài", established_on=dt.date(2024, 3, 4))
    saved_team.save()
    row = team_row(commune=commune, hamlet_id=key, name="Tổ Đông", established_on=dt.date(2024, 3, 4))
    assert copy_rows(TEAM_ROW, [row]) == [row[0]]
    copied_team = Team.objects.get(pk=row[0])
    differ = {"name", "name_key", "name_folded", "hamlet"}
    assert {k: v for k, v in _stored(copied_team).items() if k not in differ} == {
        k: v for k, v in _stored(saved_team).items() if k not in differ
    }
    assert {"name": copied_team.name, "name_key": copied_team.name_key, "name_folded": copied_team.name_folded} == (
        team_name_fields("Tổ Đông")
    )
    assert copied_team.hamlet_id == key

    person = {
        "full_name": "Nguyễn Thị Hoa",
        "birth_year": 1990,
        "gender": "female",
        "role": "member",
        "background": "youth_union",
        "joined_on": dt.date(2024, 5, 6),
    }
    saved = member_build(team=saved_team, phone="0912345670", national_id="001190012345", **person)
    saved.save()
    member = member_row(
        team=copied_team, member_id=uuid.uuid4(), phone="0912345671", national_id="001190012346", **person
    )
    copy_rows(MEMBER_ROW, iter([member]))  # a generator's rows are sent as they come
    copied = Member.objects.get(pk=member[0])
    differ = {"team", "phone", "national_id"}
    assert {k: v for k, v in _stored(copied).items() if k not in differ} == {
        k: v for k, v in _stored(saved).items() if k not in differ
    }
    assert copied.created_at is not None and copied.updated_at == copied.created_at


def test_a_shape_refuses_a_column_no_row_can_do_without():
    from config.copying import RowShape
    from members.models import Member

    with pytest.raises(ImproperlyConfigured, match="joined_on"):
        RowShape(Member, ("id", "team_id", "province_id", "commune_id", "full_name", "phone"))
    with pytest.raises(ImproperlyConfigured, match="key"):
        RowShape(Member, ("team_id",))  # a UUID key comes from no sequence


# --- foreign_keys_checked_once -------------------------------------------------------------------------


def _foreign_keys(*tables: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated, condeferred "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [list(tables)],
        )
        return cursor.fetchall()


def test_the_foreign_keys_come_back_as_they_were_and_checked(on_postgres):
    from members.models import Member

    tables = ("areas_hamlet", "teams_team", "members_member")
    before = _foreign_keys(*tables)
    commune = CommuneFactory()
    hamlet = hamlet_build(commune=commune, name="Thôn Giữa", kind="thon")
    hamlet.save()  # a check deferred before the block: ALTER TABLE would refuse the table until it has run
    with foreign_keys_checked_once(type(hamlet), Team, Member):
        assert _foreign_keys(*tables) == []
        copy_rows(HAMLET_ROW, [hamlet_row(commune=commune, name="Thôn Cuối", kind="thon")])
    assert len(before) >= 10
    assert _foreign_keys(*tables) == before
    with connection.cursor() as cursor:  # still deferred: a row may point at one written after it
        cursor.execute("SELECT 1 FROM pg_constraint WHERE contype = 'f' AND NOT condeferred")
        assert cursor.fetchall() == []


def test_a_row_that_breaks_a_foreign_key_fails_the_block_and_nothing_stays(on_postgres):
    from members.models import Member

    commune = CommuneFactory()
    missing = max(type(commune).objects.values_list("pk", flat=True)) + 1
    row = (missing, commune.province_id, "Thôn Lạc", "thon lac", "thon", None, "")
    with pytest.raises(IntegrityError), transaction.atomic(), foreign_keys_checked_once(Hamlet, Team, Member):
        copy_rows(HAMLET_ROW, [row])
    assert not Hamlet.objects.filter(name="Thôn Lạc").exists()
    assert len(_foreign_keys("areas_hamlet")) >= 3  # the rollback kept the keys
