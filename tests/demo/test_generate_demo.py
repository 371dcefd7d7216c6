"""manage.py generate_demo on the real map: scales, determinism, coverage gaps and the --reset guard."""

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from accounts.scoping import Role
from activities.models import Activity, ActivityType
from areas.models import Commune, DirtyCommune, Hamlet, HamletKind, Province
from demo.plan import NATIONAL_MEMBERS, NATIONAL_TEAMS, demo_plan
from members.models import Member, MemberRole
from teams.models import SizePolicy, SizeStatus, Team
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_map():
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    # load_areas marks every new commune; the worker would consume those marks before any demo runs.
    DirtyCommune.objects.all().delete()


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def member_rows() -> list[tuple]:
    return sorted(Member.objects.values_list("id", "full_name", "phone"))


def team_rows() -> list[tuple]:
    return sorted(Team.objects.values_list("id", "name", "member_count"))


def per_team_figures():
    """Every team with its active member and active leader counts, from the member rows themselves."""
    return Team.objects.annotate(
        active_members=Count("members", filter=Q(members__active=True)),
        active_leaders=Count("members", filter=Q(members__active=True, members__role=MemberRole.LEADER)),
    )


def test_without_the_map_it_asks_for_load_areas():
    with pytest.raises(CommandError, match="load_areas"):
        generate(scale="commune", seed=1)
    assert not Team.objects.exists()


def test_commune_scale_fills_a_few_hanoi_communes_including_00226(real_map):
    out = generate(scale="commune", seed=1)

    communes = Commune.objects.filter(hamlets__isnull=False).distinct()
    assert {c.province.code for c in communes} == {"01"}
    assert 3 <= communes.count() <= 12
    demo = Commune.objects.current().get(code="00226")
    assert Team.objects.filter(commune=demo, status="active").exists()
    # A ward's hamlets are tổ dân phố; the rural communes of the scale have thôn or xóm.
    assert set(Hamlet.objects.filter(commune=demo).values_list("kind", flat=True)) == {HamletKind.TO_DAN_PHO}
    assert Hamlet.objects.filter(kind__in=[HamletKind.THON, HamletKind.XOM]).exists()
    # Every touched commune is marked for coverage, once.
    assert set(DirtyCommune.objects.values_list("commune_id", flat=True)) == set(communes.values_list("pk", flat=True))
    assert f"{Team.objects.count():,} (" in out
    assert f"members:   {Member.objects.count():,} " in out


def test_derived_team_columns_match_the_members(real_map):
    generate(scale="commune", seed=3)

    teams = list(per_team_figures())
    assert teams
    for team in teams:
        assert team.member_count == team.active_members
        assert team.size_status == SizeStatus.OK
        leader = Member.objects.get(team=team, role=MemberRole.LEADER, active=True)
        assert team.leader_id == leader.pk
        assert team.name_key and team.name_folded.isascii()


def test_size_status_follows_the_province_policy(real_map):
    SizePolicy.objects.create(province=Province.objects.current().get(code="01"), min_members=5, max_members=6)

    generate(scale="commune", seed=3)

    statuses = {}
    for team in per_team_figures():
        expected = (
            SizeStatus.UNDER
            if team.active_members < 5
            else SizeStatus.OVER
            if team.active_members > 6
            else SizeStatus.OK
        )
        assert team.size_status == expected
        statuses[expected] = statuses.get(expected, 0) + 1
    assert set(statuses) == {SizeStatus.UNDER, SizeStatus.OK, SizeStatus.OVER}


def test_same_seed_gives_the_same_rows_and_another_seed_differs(real_map, settings):
    settings.DEBUG = True
    generate(scale="commune", seed=7)
    first = (member_rows(), team_rows())

    generate(scale="commune", seed=7, reset=True)
    again = (member_rows(), team_rows())

    generate(scale="commune", seed=8, reset=True)
    other = (member_rows(), team_rows())

    assert first[0] and first[1]
    assert again == first
    assert other[0] != first[0]
    assert other[1] != first[1]


def test_province_scale_gives_4_to_9_members_one_leader_and_unique_phones(real_map):
    out = generate(scale="province", province_code="01", seed=2, uncovered_communes=0.1)

    communes = Commune.objects.current().filter(province__code="01")
    assert Hamlet.objects.values("commune").distinct().count() == communes.count()
    teams = per_team_figures()
    assert teams.count() > 1000
    assert {t.active_members for t in teams} <= set(range(4, 10))
    assert {t.active_leaders for t in teams} == {1}
    phones = Member.objects.filter(active=True).values_list("phone", flat=True)
    assert len(set(phones)) == len(phones)
    national_ids = Member.objects.exclude(national_id=None).values_list("national_id", flat=True)
    assert national_ids and len(set(national_ids)) == len(national_ids)
    # The flagged share of communes has no team at all; every other commune has at least one.
    uncovered = communes.exclude(pk__in=Team.objects.filter(status="active").values("commune_id"))
    assert uncovered.count() == round(0.1 * communes.count())
    assert not uncovered.filter(code="00226").exists()
    assert f"communes:  {communes.count() - uncovered.count()} of {communes.count()} covered" in out
    assert "provinces: 0 of 1 complete" in out


def test_zero_uncovered_share_covers_every_commune(real_map):
    out = generate(scale="province", province_code="46", seed=1, uncovered_communes=0)

    communes = Commune.objects.current().filter(province__code="46")
    covered = Team.objects.values("commune_id").distinct().count()
    assert covered == communes.count()
    assert "provinces: 1 of 1 complete" in out


def test_a_database_with_teams_needs_reset(real_map, settings):
    generate(scale="commune", seed=1)
    before = member_rows()

    with pytest.raises(CommandError, match="--reset"):
        generate(scale="commune", seed=2)
    assert member_rows() == before

    # --reset deletes the whole registry, so outside DEBUG it also needs --force.
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        generate(scale="commune", seed=2, reset=True)
    assert member_rows() == before

    generate(scale="commune", seed=2, reset=True, force=True)
    assert member_rows() != before


def test_a_team_that_is_not_demo_data_also_blocks(real_map):
    TeamFactory(commune=Commune.objects.current().get(code="00004"), name="Tổ đã có")

    with pytest.raises(CommandError, match="--reset"):
        generate(scale="commune", seed=1)
    assert Team.objects.count() == 1


def test_reset_clears_what_hangs_on_the_teams(real_map, settings):
    settings.DEBUG = True
    generate(scale="commune", seed=1)
    team = Team.objects.filter(hamlet__isnull=False).first()
    leader = Member.objects.get(team=team, role=MemberRole.LEADER)
    login = User.objects.create(
        phone=leader.phone, role=Role.TEAM_LEADER, province_id=team.province_id, commune_id=team.commune_id, team=team
    )
    now = timezone.now()
    Activity.objects.create(
        id=uuid.uuid4(),
        team=team,
        province_id=team.province_id,
        commune_id=team.commune_id,
        hamlet_id=team.hamlet_id,
        type=ActivityType.objects.first(),
        occurred_on=dt.date(2025, 9, 1),
        people_helped=5,
        created_at=now,
        updated_at=now,
        change_seq=1,
    )
    old_communes = set(Hamlet.objects.values_list("commune_id", flat=True))

    generate(scale="province", province_code="46", seed=1, reset=True)

    assert not Activity.objects.exists()
    assert not Team.objects.filter(pk=team.pk).exists()
    # A leader's login cannot outlive its team (the database says so): the demo reset deletes it.
    assert not User.objects.filter(pk=login.pk).exists()
    assert not Hamlet.objects.filter(commune_id__in=old_communes).exists()
    # The emptied Hà Nội communes are marked too, so their coverage figures drop to zero.
    assert old_communes <= set(DirtyCommune.objects.values_list("commune_id", flat=True))


def test_national_plan_reproduces_the_q1_2024_figures(real_map):
    summary = demo_plan(scale="national", seed=1).summary()

    assert summary.teams == NATIONAL_TEAMS
    assert summary.members == NATIONAL_MEMBERS
    assert (summary.min_team_size, summary.max_team_size) == (4, 9)
    assert summary.communes == 3321
    assert summary.covered_communes == 3321 - round(0.05 * 3321)
    assert (summary.complete_provinces, summary.provinces) == (26, 34)
    assert 85_000 <= summary.hamlets <= 95_000


def test_bad_coverage_flags_are_refused(real_map):
    with pytest.raises(CommandError, match="incomplete_provinces"):
        generate(scale="commune", seed=1, uncovered_communes=0.05, incomplete_provinces=0)
    with pytest.raises(CommandError, match="81,415"):
        generate(scale="national", seed=1, uncovered_communes=0.3, incomplete_provinces=34)
    assert not Hamlet.objects.exists()
