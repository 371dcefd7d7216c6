"""config.copying.copy_insert: rows written with COPY equal the rows save() writes, get their keys, and fail
as bulk_create fails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from areas.services import hamlet_build
from config.copying import copy_insert
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
