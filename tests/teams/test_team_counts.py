"""The team counts (teams.models.TeamCount) equal a count of the teams after every kind of write, and the team
list's count, taken from them when only the scope narrows the list, equals the teams each persona sees.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connections

from teams import counts
from teams.models import Team, TeamCount
from tests.embedded import run_on_new_sqlite
from tests.teams.support import URL, body

pytestmark = pytest.mark.django_db


def counted() -> dict:
    """What the counts must hold, counted from the teams in Python (not by the SQL under test)."""
    return dict(Counter(Team.objects.values_list("commune_id", "province_id")))


def kept() -> dict:
    """The counts as stored, without the keys whose count went back to zero."""
    return {(row.commune_id, row.province_id): row.teams for row in TeamCount.objects.exclude(teams=0).order_by()}


def assert_counts_true():
    expected = counted()
    assert expected, "the scenario counted nothing"
    assert kept() == expected
    assert counts.differences() == 0


def test_creates_dissolutions_moves_and_deletes_keep_the_counts_equal_to_the_teams(world, api):
    from tests.factories import CommuneFactory, HamletFactory

    assert_counts_true()  # the world's teams, saved one by one by the factories
    client = api(world.lan)
    hamlet = HamletFactory(commune=world.a2, name="Thôn Mới")
    created = client.post(URL, body(world, commune="00002", hamlet=hamlet.pk, name="Tổ Thôn Mới"))
    assert created.status_code == 201, created.data
    client.post(URL, body(world, commune="00002", hamlet=hamlet.pk, name="Tổ Thôn Mới"))  # a 409 adds nothing
    assert_counts_true()
    dissolved = client.post(f"{URL}{created.data['id']}/dissolve/", {"dissolved_on": "2026-01-01"})
    assert dissolved.status_code == 200, dissolved.data
    assert_counts_true()  # a dissolved team is still listed, so still counted
    # A bulk UPDATE no service runs: a commune-level team moved to a commune of the other province.
    elsewhere = CommuneFactory(province=world.b)
    Team.objects.filter(pk=world.teams.a2.pk).update(commune=elsewhere, province=world.b)
    assert_counts_true()
    assert kept()[(elsewhere.pk, world.b.pk)] == 1
    Team.objects.filter(pk=created.data["id"]).delete()
    assert_counts_true()


def test_the_demo_copy_is_counted(world):
    """The demo generator writes teams with COPY: a statement trigger sees it as any INSERT."""
    from config.copying import copy_insert
    from teams.services import team_build

    teams = [
        team_build(commune=commune, hamlet=None, name=f"Tổ chép {n}", established_on=world.teams.a1.established_on)
        for n, commune in enumerate([world.a1, world.b1])
    ]
    Team.objects.filter(hamlet__isnull=True).update(status="dissolved", dissolved_on="2026-01-02")
    copy_insert(Team, teams)
    assert_counts_true()


@pytest.mark.parametrize("persona", ["minh", "lan", "binh", "hoa", "bao", "tuan", "nobody"])
def test_each_persona_s_list_count_is_the_number_of_teams_it_can_see(world, api, persona):
    from tests.factories import HamletFactory, TeamFactory

    for n in range(4):
        TeamFactory(commune=world.a1, hamlet=HamletFactory(commune=world.a1, name=f"Thôn {n}"))
    user = getattr(world, persona)
    response = api(user).get(URL, {"page_size": 2})
    assert response.status_code == 200, response.data
    visible = Team.objects.visible_to(user)
    assert response.data["count"] == visible.count()
    assert (response.data["count"] > 0) == (persona != "nobody")  # no scope, nothing
    # A filter is counted from the teams themselves, and agrees.
    filtered = api(user).get(URL, {"status": "active", "page_size": 2})
    assert filtered.data["count"] == visible.filter(status="active").count()


def test_the_unfiltered_count_comes_from_the_kept_counts(world, api):
    """The ministry's list reads its count from TeamCount: a wrong count there shows in the list (which is why
    the nightly reconcile checks them), and check_and_repair finds and repairs it."""
    TeamCount.objects.filter(commune=world.b1).update(teams=5)
    assert api(world.minh).get(URL).data["count"] == Team.objects.count() + 4
    assert counts.check_and_repair() == 1
    assert api(world.minh).get(URL).data["count"] == Team.objects.count()
    assert_counts_true()


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_in_one_commune_count_every_team_once(api):
    """Eight commune officers' requests create teams in one commune at once (each sent twice, as a retry
    would): every team is counted once, whichever transaction wrote it."""
    from tests.conftest import build_world
    from tests.factories import HamletFactory

    world = build_world()
    hamlets = [HamletFactory(commune=world.a1, name=f"Thôn Song Song {n}") for n in range(8)]
    start = threading.Barrier(len(hamlets))
    failures: list = []

    def create(hamlet):
        try:
            client = api(world.hoa)
            payload = body(world, id=str(uuid.uuid4()), hamlet=hamlet.pk, name=f"Tổ {hamlet.name}")
            start.wait()
            statuses = [client.post(URL, payload).status_code for _ in range(2)]
            if statuses != [201, 200]:
                failures.append(statuses)
        except Exception as exc:  # a thread's failure must fail the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(h,)) for h in hamlets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert Team.objects.filter(commune=world.a1).count() == 1 + len(hamlets)
    assert_counts_true()


SQLITE_SCRIPT = """
from teams import counts
from teams.models import Team
from tests.factories import CommuneFactory, HamletFactory, TeamFactory
from tests.teams.test_team_counts import counted, kept

one, other = CommuneFactory(), CommuneFactory()

def check(step):
    assert kept() == counted(), step
    assert counts.differences() == 0, step
    print("checked", step)

teams = [TeamFactory(commune=one, hamlet=HamletFactory(commune=one, name=f"Thôn {n}")) for n in range(3)]
TeamFactory(commune=other, hamlet=HamletFactory(commune=other, name="Thôn Khác"))
check("insert")
Team.objects.filter(pk=teams[0].pk).update(name="Tổ đổi tên", name_key="to doi ten")
check("an update that moves nothing")
Team.objects.filter(pk=teams[1].pk).update(commune=other, province=other.province, hamlet=None)
check("moved")
Team.objects.filter(commune=other).delete()
check("deleted")
assert counted(), "nothing counted"
"""


@pytest.mark.django_db(transaction=True)
def test_the_embedded_sqlite_triggers_keep_the_counts_too(tmp_path):
    """The embedded default (SQLite) has row triggers of its own: migrate a new SQLite database, write teams
    every way, and compare after each step."""
    stdout = run_on_new_sqlite(tmp_path, SQLITE_SCRIPT)
    assert stdout.count("checked ") == 4, stdout
