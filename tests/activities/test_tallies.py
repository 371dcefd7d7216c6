"""The activity tallies (activities.models.QuarterTally, LifetimeTally) equal a count of the activities
themselves after every kind of write: the sync (creates, replays, edits, tombstones), a single edit moving an
activity into a closed quarter, a delete, a bulk UPDATE that no service runs, and concurrent syncs of one team.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from activities.models import Activity, LifetimeTally, QuarterTally
from coverage.compute import quarter_of
from tests.embedded import run_on_new_sqlite

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/activities/sync/"


def counted() -> tuple[dict, dict]:
    """What the tallies must hold, counted from the activities in Python (not by the SQL under test)."""
    lifetime: dict = {}
    quarters: dict = {}
    for row in Activity.objects.filter(deleted=False).values(
        "commune_id", "team_id", "type_id", "occurred_on", "people_helped"
    ):
        key = (row["commune_id"], row["team_id"], row["type_id"])
        for table, k in ((lifetime, key), (quarters, (quarter_of(row["occurred_on"])[1], *key))):
            n, people = table.get(k, (0, 0))
            table[k] = (n + 1, people + row["people_helped"])
    return lifetime, quarters


def tallied() -> tuple[dict, dict]:
    """The tallies as stored, without the keys whose count went back to zero."""
    lifetime = {
        (r["commune_id"], r["team_id"], r["type_id"]): (r["activities"], r["people_helped"])
        for r in LifetimeTally.objects.values().filter(activities__gt=0)
    }
    quarters = {
        (r["quarter_start"], r["commune_id"], r["team_id"], r["type_id"]): (r["activities"], r["people_helped"])
        for r in QuarterTally.objects.values().filter(activities__gt=0)
    }
    return lifetime, quarters


def assert_tallies_true():
    expected, found = counted(), tallied()
    assert found[0] == expected[0]
    assert found[1] == expected[1]
    assert expected[0], "the scenario counted nothing"


def item(team, days_ago: int, people: int, kind: str = "vneid", **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "team": str(team.pk),
        "type": kind,
        "occurred_on": str(timezone.localdate() - dt.timedelta(days=days_ago)),
        "people_helped": people,
    } | extra


def sync(client, batch) -> list[dict]:
    response = client.post(SYNC, {"activities": batch})
    assert response.status_code == 200, response.content[:500]
    return response.data["results"]


def test_sync_edits_and_tombstones_keep_the_tallies_equal_to_the_activities(world, api):
    client = api(world.tuan)
    batch = [
        item(world.teams.a1, days, 1 + days % 7, kind)
        for days in range(0, 300, 9)
        for kind in ("vneid", "cashless_payment")
    ]
    results = sync(client, batch)
    assert_tallies_true()
    sync(client, batch)  # a replay changes nothing
    assert_tallies_true()
    stamps = {r["id"]: r["updated_at"] for r in results}
    edits = [
        b
        | {
            "people_helped": 40,
            "occurred_on": str(timezone.localdate() - dt.timedelta(days=200)),
            "base_updated_at": stamps[b["id"]],
        }
        for b in batch[:10]
    ]
    edits += [b | {"deleted": True, "base_updated_at": stamps[b["id"]]} for b in batch[10:20]]
    sync(client, edits)
    assert_tallies_true()
    assert Activity.objects.filter(deleted=True).count() == 10


def test_a_back_dated_edit_and_a_delete_move_the_counts_between_quarters(world, api):
    client = api(world.tuan)
    today = timezone.localdate()
    [created] = sync(client, [item(world.teams.a1, 0, 5)])
    _, this_quarter = quarter_of(today)
    closed_day = this_quarter - dt.timedelta(days=20)  # in the quarter before: closed
    response = client.patch(
        f"/api/v1/activities/{created['id']}/",
        {"occurred_on": str(closed_day), "people_helped": 9, "base_updated_at": created["updated_at"]},
    )
    assert response.status_code == 200, response.content[:300]
    tally = QuarterTally.objects.get(quarter_start=quarter_of(closed_day)[1], team=world.teams.a1)
    assert (tally.activities, tally.people_helped) == (1, 9)
    assert not QuarterTally.objects.filter(quarter_start=this_quarter, activities__gt=0).exists()
    assert_tallies_true()
    assert client.delete(f"/api/v1/activities/{created['id']}/").status_code in (200, 204)
    assert LifetimeTally.objects.get(team=world.teams.a1).activities == 0
    sync(client, [item(world.teams.a1, 3, 2)])
    assert_tallies_true()


def test_a_bulk_update_outside_the_services_is_counted_too(world, api):
    sync(api(world.tuan), [item(world.teams.a1, d, 2) for d in range(0, 120, 5)])
    Activity.objects.filter(occurred_on__lt=timezone.localdate() - dt.timedelta(days=50)).update(
        people_helped=7, type_id="online_safety"
    )
    Activity.objects.filter(occurred_on__gt=timezone.localdate() - dt.timedelta(days=10)).update(deleted=True)
    assert_tallies_true()


@pytest.mark.django_db(transaction=True)
def test_concurrent_syncs_of_one_team_count_every_activity_once(api):
    """Eight threads sync overlapping batches of the same team at once (each batch twice): every activity
    is counted once, whichever transaction inserted it."""
    from tests.conftest import build_world

    world = build_world()
    batches = [[item(world.teams.a1, (i * 3 + j) % 90, 1 + j % 5) for j in range(40)] for i in range(8)]
    shared = batches[0][:20]
    batches = [b + shared for b in batches]  # the same 20 ids in every batch: one insert wins each
    start = threading.Barrier(len(batches))
    failures: list = []

    def run(batch):
        try:
            client = api(world.tuan)
            start.wait()
            for _ in range(2):
                response = client.post(SYNC, {"activities": batch})
                if response.status_code != 200:
                    failures.append(response.status_code)
        except Exception as exc:  # a thread's failure must fail the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert Activity.objects.count() == 8 * 40
    assert_tallies_true()


SQLITE_SCRIPT = """
import datetime as dt, uuid
from django.utils import timezone
from activities import tallies
from activities.models import Activity
from tests.activities.test_tallies import counted, tallied
from tests.conftest import ensure_reference_data
from tests.factories import TeamFactory

ensure_reference_data()
team, other = TeamFactory(), TeamFactory()
now, today = timezone.now(), dt.date(2026, 11, 30)

def check(step):
    assert tallied() == counted(), step
    assert tallies.differences() == 0, step
    print("checked", step)

rows = [
    Activity(id=uuid.uuid4(), team=t, province=t.province, commune=t.commune, type_id=kind,
             occurred_on=today - dt.timedelta(days=days), people_helped=1 + days % 9,
             created_at=now, updated_at=now, change_seq=0)
    for t in (team, other) for kind in ("vneid", "cashless_payment") for days in range(0, 400, 13)
]
Activity.objects.bulk_create(rows)
check("insert")
Activity.objects.filter(occurred_on__gte=dt.date(2026, 10, 1), type_id="vneid").update(occurred_on=dt.date(2026, 2, 3))
check("back-dated into a closed quarter")
Activity.objects.filter(people_helped__gt=6).update(deleted=True)
check("tombstones")
Activity.objects.filter(people_helped=9).update(deleted=False, people_helped=2)
check("revived")
Activity.objects.filter(team=other).delete()
check("deleted")
assert counted()[0], "nothing counted"
"""


@pytest.mark.django_db(transaction=True)
def test_the_embedded_sqlite_triggers_keep_the_tallies_too(tmp_path):
    """The embedded default (SQLite) has row triggers of its own: migrate a new SQLite database, write
    activities every way, and compare after each step."""
    stdout = run_on_new_sqlite(tmp_path, SQLITE_SCRIPT)
    assert stdout.count("checked ") == 5, stdout
