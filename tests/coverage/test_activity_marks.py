"""A commune marked for its activities alone (the sync, an edit, a deletion) has only its activity figures read
again, on both maps, and merged into its stored figures; any other mark of the commune makes it whole.

The synthetic old map of tests.areas.old_map (tests/coverage/test_old_map_coverage.py): A1 was made of old
00001 and part of 00004, A2 of part of 00004 and 09999.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity
from areas.models import DirtyCommune
from coverage import services
from coverage.models import CommuneFigures, NationalFigures
from tests.areas.old_map import build_old_map
from tests.coverage.old_map_sql import expected_communes, expected_nation
from tests.coverage.test_compute import add_activities
from tests.embedded import run_on_new_sqlite

pytestmark = pytest.mark.django_db

SOURCES = ("areas_hamlet", "teams_team", "members_member", "activities_lifetimetally")


@pytest.fixture
def placed(world, api):
    """The 2024 map loaded, A1's hamlet placed in old 00001, some activities, and every figure computed."""
    build_old_map(world)
    add_activities(world.teams.a1, 3)
    add_activities(world.teams.a2, 2)
    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    services.recompute_all()
    assert not DirtyCommune.objects.exists()
    return world


def sync(api, leader, team, n: int, **fields):
    today = timezone.localdate()
    items = [
        {
            "id": str(uuid.uuid4()),
            "team": str(team.pk),
            "type": "vneid",
            "occurred_on": str(today - dt.timedelta(days=i)),
            "people_helped": 2,
        }
        | fields
        for i in range(n)
    ]
    response = api(leader).post("/api/v1/activities/sync/", {"activities": items})
    assert response.status_code == 200, response.content[:300]
    assert [r["status"] for r in response.data["results"]] == ["created"] * n
    return items


def sources_read(queries) -> dict[str, int]:
    """How many of the round's queries read each source table (FROM, not a join)."""
    return {table: sum(f'FROM "{table}"' in q["sql"] for q in queries) for table in SOURCES}


def stored_old(code: str) -> dict:
    return CommuneFigures.objects.filter(commune__code=code, commune__valid_to__isnull=False).values().get()


def test_a_sync_marks_activities_only_and_a_member_write_marks_the_commune_whole(placed, api):
    world = placed
    sync(api, world.tuan, world.teams.a1, 2)
    assert list(DirtyCommune.objects.values_list("commune_id", "activities_only")) == [(world.a1.pk, True)]
    api(world.hoa).post(
        "/api/v1/members/", {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"}
    )
    assert sorted(DirtyCommune.objects.values_list("activities_only", flat=True)) == [False, True]


def test_a_round_of_activity_marks_reads_only_the_activities_and_equals_a_full_recompute(
    placed, api, django_assert_num_queries
):
    world = placed
    before = stored_old("00001")
    sync(api, world.tuan, world.teams.a1, 4)
    sync(api, world.tam, world.teams.a2, 1)
    edited, deleted = Activity.objects.filter(team=world.teams.a1).order_by("id")[:2]
    base = api(world.tuan).get(f"/api/v1/activities/{edited.pk}/").data["updated_at"]
    response = api(world.tuan).patch(
        f"/api/v1/activities/{edited.pk}/", {"people_helped": 40, "base_updated_at": base}, format="json"
    )
    assert response.status_code == 200, response.content[:300]
    assert api(world.tuan).delete(f"/api/v1/activities/{deleted.pk}/").status_code == 200
    assert set(DirtyCommune.objects.values_list("activities_only", flat=True)) == {True}

    with CaptureQueriesContext(connection) as round_:
        assert services.recompute_dirty() == 2
    # Neither hamlets, teams nor members are read: the activities' tallies once, for both maps.
    assert sources_read(round_.captured_queries) == dict.fromkeys(SOURCES[:3], 0) | {"activities_lifetimetally": 1}

    a1 = CommuneFigures.objects.get(commune=world.a1)
    assert a1.activities == Activity.objects.filter(commune=world.a1, deleted=False).count() == 6
    after = stored_old("00001")
    assert after["activities"] == before["activities"] + 4 - 1
    assert (
        after["people_helped"]
        == Activity.objects.filter(team=world.teams.a1, deleted=False).aggregate(n=Sum("people_helped"))["n"]
    )  # the edit and the deletion reached the old commune too
    # What the merge kept is what a full computation gives, on both maps, and the 2024 map equals the SQL.
    for code, figures in expected_communes().items():
        stored = stored_old(code)
        assert {name: stored[name] for name in figures} == figures, code
    assert services.reconcile().differences == 0


def test_a_commune_with_any_other_mark_in_the_round_is_recomputed_whole(placed, api):
    world = placed
    sync(api, world.tuan, world.teams.a1, 2)
    api(world.hoa).post(
        "/api/v1/members/", {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"}
    )
    sync(api, world.tam, world.teams.a2, 3)
    members_before = CommuneFigures.objects.get(commune=world.a1).members_active

    with CaptureQueriesContext(connection) as round_:
        assert services.recompute_dirty() == 2
    # A1 whole (its sources read once, with A2's, which shares old 00004 with it); A2's activities merged.
    assert sources_read(round_.captured_queries) == dict.fromkeys(SOURCES[:3], 1) | {"activities_lifetimetally": 2}
    a1 = CommuneFigures.objects.get(commune=world.a1)
    assert (a1.members_active, a1.activities) == (members_before + 1, 5)
    assert CommuneFigures.objects.get(commune=world.a2).activities == 5
    assert services.reconcile().differences == 0


def test_an_activity_mark_on_a_commune_without_stored_figures_recomputes_it_whole(placed, api):
    world = placed
    CommuneFigures.objects.filter(commune=world.a2).delete()  # figures lost, or never stored
    sync(api, world.tam, world.teams.a2, 3)

    with CaptureQueriesContext(connection) as round_:
        assert services.recompute_dirty() == 1
    assert sources_read(round_.captured_queries)["members_member"] == 1
    a2 = CommuneFigures.objects.get(commune=world.a2)
    assert (a2.activities, a2.members_active) == (5, world.teams.a2.members.filter(active=True).count())
    assert services.reconcile().differences == 0
    nation = NationalFigures.objects.filter(pk=2).values().get()
    assert {name: nation[name] for name in expected_nation()} == expected_nation()


EMBEDDED_ROUND = """
from django.utils import timezone
from activities.models import Activity
from areas.models import DirtyCommune
from coverage import services
from coverage.models import CommuneFigures
from tests.conftest import build_world
from tests.coverage.test_compute import add_activities

world = build_world()
services.recompute_all()
members = CommuneFigures.objects.get(commune=world.a1).members_active
add_activities(world.teams.a1, 3)
add_activities(world.teams.b1, 2, type_code="cashless_payment")
# The marks a sync makes (without its kick, which would run the round in-process at once).
DirtyCommune.objects.bulk_create(
    [DirtyCommune(commune_id=c.pk, marked_at=timezone.now(), activities_only=True) for c in (world.a1, world.b1)]
)
print("round", services.recompute_dirty())
a1, b1 = (CommuneFigures.objects.get(commune=c) for c in (world.a1, world.b1))
print("a1", a1.activities, a1.members_active == members, a1.activities_by_type["vneid"]["activities"])
print("b1", b1.activities, b1.activities_by_type["cashless_payment"]["activities"])
print("differences", services.reconcile().differences)
"""


def test_on_the_embedded_database_an_activities_only_round_writes_the_same_figures(tmp_path):
    """The embedded default (SQLite) writes the activity figures with Django's bulk_update, not PostgreSQL's COPY
    and UPDATE … FROM."""
    stdout = run_on_new_sqlite(tmp_path, EMBEDDED_ROUND).split("\n")
    assert "round 2" in stdout, stdout
    assert "a1 3 True 3" in stdout and "b1 2 2" in stdout, stdout
    assert "differences 0" in stdout, stdout


def _updates(table: str) -> tuple[int, int]:
    """(rows updated, of which on their own page) in this transaction, as PostgreSQL's statistics count them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [table, table],
        )
        return cursor.fetchone()


def test_the_figures_tables_leave_room_and_a_round_updates_its_rows_in_place(placed, api):
    """Migration coverage/0006: pages filled to 70 %, so that a round's rewrite of a commune stays on its page."""
    world = placed
    tables = ["coverage_communefigures", "coverage_provincefigures", "coverage_nationalfigures"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [tables])
        assert dict(cursor.fetchall()) == {table: ["fillfactor=70"] for table in tables}
    # The fixture's full recompute wrote every commune's row (in this transaction, so no page has been pruned).
    before = _updates("coverage_communefigures")
    sync(api, world.tuan, world.teams.a1, 2)
    services.recompute_dirty()
    updated, in_place = (now - then for now, then in zip(_updates("coverage_communefigures"), before, strict=True))
    assert updated >= 2  # A1, and the 2024 map's communes it was made of
    assert in_place == updated


@pytest.mark.parametrize(("server", "expected"), [("4MB", services.ROUND_WORK_MEM), ("64MB", "64MB")])
def test_a_round_sorts_with_at_least_the_rounds_work_mem_and_keeps_a_larger_one(server, expected):
    with transaction.atomic(), connection.cursor() as cursor:  # as recompute_dirty's round, within the test's
        cursor.execute("SELECT set_config('work_mem', %s, true)", [server])
        assert services._begin_exclusive()
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == expected
