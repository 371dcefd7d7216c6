"""Each index on activities serves a query the service runs, and each of those queries uses it.

Every index is paid on every insert of the sync, so an index no query uses is pure cost (issue 16, point 3).
The queries are the ones the selectors really send: each is captured as it runs, then explained by
PostgreSQL with sequential scans priced out (the test tables are small enough that a scan would otherwise
win, which it would not at national scale).
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity, QuarterTally
from activities.selectors import activity_changes, activity_list, recent_activities
from coverage.compute import _activities_placed, quarter_of
from tests.activities.test_tallies import item, sync
from tests.conftest import build_world

pytestmark = pytest.mark.django_db

# (who asks, the read, the index it must use)
READS = [
    (
        "the ministry's changes feed",
        lambda w: activity_changes(user=w.minh, since=None, limit=100).rows,
        "activity_feed",
    ),
    (
        "a province admin's changes feed",
        lambda w: activity_changes(user=w.lan, since=None, limit=100).rows,
        "activity_feed_province",
    ),
    (
        "a commune officer's changes feed",
        lambda w: activity_changes(user=w.hoa, since=None, limit=100).rows,
        "activity_feed_commune",
    ),
    (
        "a team leader's changes feed",
        lambda w: activity_changes(user=w.tuan, since=None, limit=100).rows,
        "activity_feed_team",
    ),
    (
        "a commune's recent activities (dashboard)",
        lambda w: recent_activities(user=w.lan, commune_code=w.a1.code),
        "activity_commune_day",
    ),
    ("a commune officer's activity list", lambda w: list(activity_list(user=w.hoa)[:50]), "activity_commune_day"),
    ("a team leader's activity list", lambda w: list(activity_list(user=w.tuan)[:50]), "activity_team_day"),
]


def _load(world, api):
    """A few hundred activities in each commune, spread over dates and types, then fresh statistics."""
    for user, team in ((world.tuan, world.teams.a1), (world.tam, world.teams.a2), (world.bao, world.teams.b1)):
        client = api(user)
        for kind in ("vneid", "cashless_payment", "online_safety"):
            sync(client, [item(team, days, 1 + days % 5, kind) for days in range(0, 360, 3)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Activity._meta.db_table}")


def _plan_of(read, world, index: str) -> str:
    """The read's plan, with the table laid out in the order of `index`.

    In a table of a thousand rows from three teams, the choice between a scope's index and the national feed's
    index with a filter turned on how the rows happened to lie on disk: the correlation of the index's leading
    column, which follows the teams' random ids (about one run in ten chose the feed's). Clustering the table
    on the index under test takes that out, and leaves what the test is about: the index fits the read's
    conditions and order. At national scale a team holds one row in 80,000, and the layout does not matter.
    """
    with CaptureQueriesContext(connection) as captured:
        assert read(world), "the read returned nothing, so its plan shows nothing"
    sql = [q["sql"] for q in captured.captured_queries if f'FROM "{Activity._meta.db_table}"' in q["sql"]]
    assert len(sql) == 1, sql
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CLUSTER {Activity._meta.db_table} USING {index}")
        cursor.execute(f"ANALYZE {Activity._meta.db_table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql[0])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)  # committed rows: the changes feed reads below the oldest open one
def test_each_read_of_activities_uses_its_index(api, on_postgres):
    world = build_world()
    _load(world, api)
    for who, read, index in READS:
        plan = _plan_of(read, world, index)
        assert re.search(rf"(using|Index Scan on) {index}\b", plan), f"{who}:\n{plan}"
        assert "Seq Scan on activities_activity" not in plan, (who, plan)


def test_every_index_on_activities_has_a_read_that_uses_it(on_postgres):
    """An index added without a query that needs it (or left behind when its query went) fails here."""
    with connection.cursor() as cursor:
        indexes = {
            name
            for name, info in connection.introspection.get_constraints(cursor, Activity._meta.db_table).items()
            if info["index"] and not info["primary_key"]
        }
    assert indexes == {index for _, _, index in READS}


def test_the_primary_key_serves_the_replay(world, api, on_postgres):
    """The sync's replay and conflict check find activities by the client's id, whatever their date."""
    _load(world, api)
    some = Activity.objects.values_list("pk", flat=True)[:5]
    qs = Activity.objects.filter(pk__in=[*some, uuid.uuid4()])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "activities_activity_pkey" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_incremental_recompute_reads_its_communes_quarter_through_the_commune_index(api, on_postgres):
    """The quarter tally's key leads with the quarter: without `quarter_tally_commune` PostgreSQL scanned every
    commune's quarters for a recompute of a few communes (docs/performance.md)."""
    world = build_world()
    _load(world, api)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {QuarterTally._meta.db_table}")
    with CaptureQueriesContext(connection) as captured:
        rows = _activities_placed(Q(commune_id__in=[world.a1.pk]), quarter_of(timezone.localdate())[1])
    assert rows, "the commune's tallies were not read"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + captured.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(r"(using|Index Scan on) quarter_tally_commune\b", plan), plan
