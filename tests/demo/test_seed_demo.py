"""seed_demo: the demo logins, data and team leader of `make run`, safe to run again on the next start."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry, User
from activities.models import Activity
from areas.models import DirtyCommune
from coverage.models import CommuneFigures
from coverage.services import recompute_dirty
from demo.leader import DEMO_PASSWORD, LEADER, LEADER_ACTIVITIES, LEADER_TEAM_ID, LEADER_TEAM_MEMBERS
from demo.plan import DEMO_COMMUNE
from members.models import Member, MemberRole
from teams.models import Team, TeamStatus
from teams.services import team_dissolve

pytestmark = pytest.mark.django_db

# A printed login: role, phone, password, then the scope.
LOGIN_LINE = re.compile(r"^\s+(ministry|province_admin|commune_officer|team_leader)\s+(\d{10})\s+(\S+)\s+(.+)$", re.M)


@pytest.fixture
def areas(settings):
    settings.DEBUG = True
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_twice_leaves_every_table_as_the_first_run_did(areas):
    seed()
    first = row_counts()
    assert first["teams.Team"] > 0 and first["activities.Activity"] == len(LEADER_ACTIVITIES)
    output = seed()
    assert row_counts() == first
    # Nothing written the second time, so no commune is marked for a recompute either.
    assert "written now" not in output


def test_the_demo_team_leader_is_written_by_the_owners_and_logs_in_with_the_printed_password(areas):
    output = seed()
    logins = {m[1]: m for m in LOGIN_LINE.findall(output)}
    assert [m[0] for m in logins.values()] == [
        "ministry",
        "province_admin",
        "commune_officer",
        "province_admin",
        "team_leader",
    ]
    role, phone, password, scope = logins[LEADER.phone]
    assert (role, password) == ("team_leader", DEMO_PASSWORD) and str(LEADER_TEAM_ID) in scope

    leader = User.objects.get(phone=phone)
    assert leader.role == "team_leader" and leader.is_active and leader.check_password(password)
    team = Team.objects.select_related("hamlet").get(pk=leader.team_id)
    assert team.pk == LEADER_TEAM_ID and team.status == TeamStatus.ACTIVE
    assert team.commune.code == DEMO_COMMUNE and team.hamlet.commune_id == team.commune_id
    members = Member.objects.filter(team=team, active=True)
    assert members.count() == len(LEADER_TEAM_MEMBERS) == team.member_count
    assert members.get(role=MemberRole.LEADER).user == leader and team.leader.phone == phone
    activities = Activity.objects.filter(team=team, deleted=False)
    assert activities.count() == len(LEADER_ACTIVITIES)
    assert set(activities.values_list("recorded_by", "hamlet", "commune__code")) == {
        (leader.pk, team.hamlet_id, DEMO_COMMUNE)
    }
    # The owners' services wrote them, by the commune officer: each left its audit entry.
    officer = User.objects.get(phone="0900000003")
    written = AuditEntry.objects.filter(actor=officer).values_list("action", flat=True)
    assert sorted(written) == sorted(["team.create", "team.leader_account"] + ["member.create"] * len(members))


def test_the_leaders_writes_mark_the_commune_and_its_figures_count_them(areas):
    call_command("generate_demo", scale="commune", seed=1, stdout=StringIO(), stderr=StringIO())
    recompute_dirty()
    before = CommuneFigures.objects.get(commune__code=DEMO_COMMUNE, commune__valid_to__isnull=True)
    assert not DirtyCommune.objects.exists()

    seed()  # the registry has data: only the logins and the demo team leader are written
    assert DirtyCommune.objects.filter(commune__code=DEMO_COMMUNE).exists()
    recompute_dirty()
    after = CommuneFigures.objects.get(commune__code=DEMO_COMMUNE, commune__valid_to__isnull=True)
    assert (after.teams_active, after.hamlets_covered) == (before.teams_active + 1, before.hamlets_covered + 1)
    assert after.members_active == before.members_active + len(LEADER_TEAM_MEMBERS)
    assert after.members_by_role["leader"] == before.members_by_role["leader"] + 1
    assert (after.activities, after.people_helped) == (
        before.activities + len(LEADER_ACTIVITIES),
        before.people_helped + sum(a.people_helped for a in LEADER_ACTIVITIES),
    )
    # And they are the source rows' figures.
    in_commune = {"commune__code": DEMO_COMMUNE}
    assert after.teams_active == Team.objects.filter(status=TeamStatus.ACTIVE, **in_commune).count()
    assert after.members_active == Member.objects.filter(active=True, **in_commune).count()
    assert after.activities == Activity.objects.filter(deleted=False, **in_commune).count()


def test_the_readme_lists_the_logins_seed_demo_prints(areas):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = re.findall(r"^\| `(\w+)` \| (\d{10}) \|", readme, re.M)
    printed = [(role, phone) for role, phone, password, _scope in LOGIN_LINE.findall(seed())]
    assert listed == printed
    assert f"password `{DEMO_PASSWORD}`" in readme


def test_seed_demo_prints_the_urls_of_the_server_it_is_given(areas):
    output = seed(base_url="http://127.0.0.1:8123/")
    for path in ("/api/v1/", "/api/docs/", "/api/schema/", "/api/v1/auth/token/"):
        assert f"http://127.0.0.1:8123{path}" in output
    assert ":8000" not in output


def test_a_restart_after_the_demo_team_was_dissolved_warns_and_adds_nothing(areas):
    seed()
    officer = User.objects.get(phone="0900000003")
    team = Team.objects.get(pk=LEADER_TEAM_ID)
    team_dissolve(actor=officer, team_id=team.pk, version=team.version)
    counts = row_counts()

    output = seed()

    assert row_counts() == counts
    assert "the demo team leader's team was dissolved" in output
    assert "team_leader" not in {m[0] for m in LOGIN_LINE.findall(output)}
    assert not User.objects.get(phone=LEADER.phone).is_active


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
