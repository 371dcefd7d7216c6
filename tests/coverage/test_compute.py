"""The coverage computation: definitions, equality with an independent SQL computation, query counts."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from areas.models import DirtyCommune
from coverage import services
from coverage.compute import compute_communes
from coverage.models import CommuneFigures, NationalFigures, ProvinceFigures
from members.services import teams_recount
from tests.factories import CommuneFactory, HamletFactory, MemberFactory, TeamFactory

pytestmark = pytest.mark.django_db


def add_activities(team, n, type_code="vneid", people=3, days_ago=0, deleted=False):
    from activities.feed import change_seq_expression
    from activities.models import Activity

    now = timezone.now()
    Activity.objects.bulk_create(
        [
            Activity(
                id=uuid.uuid4(),
                team=team,
                province_id=team.province_id,
                commune_id=team.commune_id,
                type_id=type_code,
                occurred_on=timezone.localdate() - dt.timedelta(days=days_ago),
                people_helped=people,
                deleted=deleted,
                created_at=now,
                updated_at=now,
                change_seq=0,
            )
            for _ in range(n)
        ]
    )
    Activity.objects.filter(change_seq=0).update(change_seq=change_seq_expression())


def test_definitions_per_commune(world):
    # A1: hamlet a1 covered by team_a1 (hamlet level); add an uncovered hamlet and a commune-level team.
    HamletFactory(commune=world.a1, name="Thôn Chưa Có Tổ")
    commune_team = TeamFactory(commune=world.a1, hamlet=None, name="Tổ cấp xã A1")
    MemberFactory.create_batch(9 + 1, team=commune_team)
    teams_recount([commune_team.pk])
    add_activities(world.teams.a1, 4, people=5)
    add_activities(world.teams.a1, 2, people=7, deleted=True)
    add_activities(world.teams.a1, 1, "online_safety", people=11, days_ago=200)
    figures = compute_communes([world.a1.pk, world.b1.pk])
    a1 = figures[world.a1.pk]
    assert (a1["hamlets_total"], a1["hamlets_covered"]) == (2, 1)
    assert (a1["teams_active"], a1["teams_commune_level"], a1["teams_hamlet_level"]) == (2, 1, 1)
    assert a1["teams_by_size_status"] == {"under": 0, "ok": 1, "over": 1}
    assert a1["covered"] is True and a1["fully_covered"] is False
    assert a1["members_active"] == 14 and a1["members_by_role"]["leader"] == 1
    assert (a1["activities"], a1["people_helped"]) == (5, 31)
    assert a1["activities_by_type"]["vneid"] == {"activities": 4, "people_helped": 20}
    assert a1["activities_by_type"]["online_safety"] == {"activities": 1, "people_helped": 11}
    assert (a1["activities_quarter"], a1["people_helped_quarter"]) == (4, 20)
    b1 = figures[world.b1.pk]
    assert b1["covered"] is True and b1["fully_covered"] is False  # its hamlet has no hamlet-level team
    assert set(figures) == {world.a1.pk, world.b1.pk}


def test_an_empty_commune_is_not_covered(world):
    empty = CommuneFactory(province=world.a)
    figures = compute_communes([empty.pk])[empty.pk]
    assert (figures["covered"], figures["fully_covered"], figures["hamlet_coverage"]) == (False, False, 0.0)


def test_full_recompute_rolls_up_provinces_and_nation(world):
    CommuneFactory(province=world.b)  # an uncovered commune makes B incomplete
    services.recompute_all()
    a = ProvinceFigures.objects.get(province=world.a)
    b = ProvinceFigures.objects.get(province=world.b)
    assert (a.communes_total, a.communes_covered, a.complete) == (2, 2, True)
    assert (b.communes_total, b.communes_covered, b.complete) == (2, 1, False)
    nation = NationalFigures.objects.get(pk=1)
    assert (nation.provinces_total, nation.provinces_complete) == (2, 1)
    assert nation.teams_active == 3 and nation.members_active == 12
    assert nation.members_by_role == {"leader": 3, "deputy": 0, "member": 9}


INDEPENDENT_SQL = """
SELECT c.id,
  (SELECT count(*) FROM areas_hamlet h WHERE h.commune_id = c.id AND h.active),
  (SELECT count(*) FROM areas_hamlet h WHERE h.commune_id = c.id AND h.active
     AND EXISTS (SELECT 1 FROM teams_team t WHERE t.hamlet_id = h.id AND t.status = 'active')),
  (SELECT count(*) FROM teams_team t WHERE t.commune_id = c.id AND t.status = 'active'),
  (SELECT count(*) FROM members_member m WHERE m.commune_id = c.id AND m.active),
  (SELECT count(*) FROM activities_activity a WHERE a.commune_id = c.id AND NOT a.deleted),
  (SELECT coalesce(sum(people_helped), 0) FROM activities_activity a WHERE a.commune_id = c.id AND NOT a.deleted)
FROM areas_commune c WHERE c.valid_to IS NULL
"""


def test_figures_equal_an_independent_sql_computation(world):
    for _ in range(5):
        team = TeamFactory(commune=CommuneFactory(province=world.b))
        MemberFactory.create_batch(6, team=team)
        add_activities(team, 3, people=2)
    add_activities(world.teams.a2, 7, people=4)
    services.recompute_all()
    with connection.cursor() as cursor:
        cursor.execute(INDEPENDENT_SQL)
        expected = {row[0]: row[1:] for row in cursor.fetchall()}
    stored = {
        f.commune_id: (
            f.hamlets_total,
            f.hamlets_covered,
            f.teams_active,
            f.members_active,
            f.activities,
            f.people_helped,
        )
        for f in CommuneFigures.objects.all()
    }
    assert stored == expected
    nation = NationalFigures.objects.get(pk=1)
    assert nation.activities == sum(v[4] for v in expected.values())
    assert nation.members_active == sum(v[3] for v in expected.values())


def test_full_recompute_query_count_does_not_depend_on_the_number_of_communes(world, django_assert_num_queries):
    from django.test.utils import CaptureQueriesContext

    services.recompute_all()
    with CaptureQueriesContext(connection) as few:
        services.recompute_all()
    for _ in range(40):
        team = TeamFactory(commune=CommuneFactory(province=world.b))
        MemberFactory(team=team)
        add_activities(team, 1)
    with CaptureQueriesContext(connection) as many:
        services.recompute_all()
    assert len(few) == len(many)
    # savepoint, advisory lock, max outbox id, activity types, hamlets, teams, members, activities (the sources
    # of both maps, read once), communes, the communes made of one old commune, commune figures upsert (the
    # loading table, then the upsert from it: 2), current provinces with their current communes counted,
    # province upsert (2), next validity bound of provinces, of communes, national upsert (2), the 2024 map's
    # communes (none in this world), savepoint release. Provinces and the nation are rolled up in memory.
    assert len(many) == 21, [q["sql"][:60] for q in many.captured_queries]


def test_recompute_dirty_query_count(world, django_assert_num_queries):
    from areas.changes import communes_changed

    services.recompute_all()
    communes_changed([world.a1.pk])
    # Round 1: 1. savepoint; 2. advisory lock; 3. the national figures' validity; 4-5. provinces and communes
    # current on the map (outdated figures?); 6. the marks, per commune; 7. the marked communes' provinces, now
    # and as stored; 8. activity types; 9. the old communes they were made of and the 2025 communes around
    # those (none in this world: the 2024 map stops there); 10-13. hamlets, teams, members, activities of the
    # communes read for both maps; 14. the marked communes; 15. which are made of one old commune; 16-17.
    # commune figures upsert (the loading table, then the upsert from it); 18. current provinces with their
    # communes counted; 19. provinces with stored figures; 20. their communes' figures; 21-22. province upsert;
    # 23. every province's figures; 24-25. next validity bound of provinces, of communes; 26-27. national
    # upsert; 28. delete the marks read; 29. release. Round 2 finds no mark: 30. savepoint; 31. lock;
    # 32. validity; 33-34. map counts; 35. marks; 36. release.
    with django_assert_num_queries(36):
        assert services.recompute_dirty() == 1
    assert not DirtyCommune.objects.exists()
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 1


def test_incremental_equals_full(world, api):
    services.recompute_all()
    api(world.hoa).post("/api/v1/teams/", {"commune": "00001", "name": "Tổ mới", "established_on": "2025-08-01"})
    api(world.tuan).delete(f"/api/v1/members/{world.teams.a1.members.exclude(role='leader').first().pk}/")
    assert DirtyCommune.objects.exists()
    assert services.recompute_dirty() == 1
    assert not DirtyCommune.objects.exists()
    incremental = {f.commune_id: f.teams_active for f in CommuneFigures.objects.all()}
    nation_before = NationalFigures.objects.values("teams_active", "members_active").get()
    run = services.reconcile()
    assert run.differences == 0
    assert {f.commune_id: f.teams_active for f in CommuneFigures.objects.all()} == incremental
    assert NationalFigures.objects.values("teams_active", "members_active").get() == nation_before
    assert nation_before == {"teams_active": 4, "members_active": 11}


def test_reconcile_counts_and_logs_differences(world, caplog):
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.a1).update(teams_active=99, members_active=0)
    with caplog.at_level("ERROR", logger="coverage.services"):
        run = services.reconcile()
    assert run.differences == 2
    assert {e["field"] for e in run.examples} == {"teams_active", "members_active"}
    assert "2 figures differed" in caplog.text
    assert services.reconcile().differences == 0


def test_marks_made_after_the_read_survive(world):
    services.recompute_all()
    from areas.changes import communes_changed

    communes_changed([world.a1.pk])
    services.recompute_dirty()
    communes_changed([world.a2.pk])
    assert list(DirtyCommune.objects.values_list("commune_id", flat=True)) == [world.a2.pk]


@pytest.mark.django_db(transaction=True)
def test_a_kicked_run_within_the_window_after_a_round_rests_then_runs_one_round(settings):
    """Rounds rest a debounce window after the last one ended (the worker's share under sustained writes): a run
    that comes sooner recomputes nothing and asks again for the window's end; a run after it recomputes and
    records its end for the next. The broker and the cache are the real Redis."""
    import time

    import redis
    from django.core.cache import cache

    from areas.changes import communes_changed
    from coverage.tasks import recompute_dirty
    from tests.conftest import build_world

    settings.COVERAGE_KICK_DEBOUNCE_SECONDS = 3
    world = build_world()
    services.recompute_all()
    queue = redis.Redis.from_url(settings.REDIS_URL)
    queue.delete("celery")
    cache.clear()
    communes_changed([world.a1.pk])
    queue.delete("celery")  # the write's own kick: this test runs the task itself
    cache.set(services.ROUND_ENDED_KEY, {"ended": time.time() - 1, "took": 0.1}, timeout=60)  # a second ago

    assert recompute_dirty.apply().result is None
    assert DirtyCommune.objects.filter(commune=world.a1).exists()  # nothing recomputed
    assert 1.0 <= _queued_rest(queue) <= 2.1  # what is left of the window, not a whole one

    cache.set(services.ROUND_ENDED_KEY, {"ended": time.time() - 3.5, "took": 0.1}, timeout=60)  # window passed
    started = time.time()
    assert recompute_dirty.apply().result == 1
    assert not DirtyCommune.objects.exists()
    last = cache.get(services.ROUND_ENDED_KEY)  # this round's end, for the next run
    assert started <= last["ended"] <= time.time() and 0 < last["took"] <= time.time() - started
    assert queue.llen("celery") == 0  # nothing waits: no follow-up
    communes_changed([world.a2.pk])
    queue.delete("celery")
    assert recompute_dirty.apply().result is None  # within the window of the round just ended
    assert DirtyCommune.objects.filter(commune=world.a2).exists() and queue.llen("celery") == 1
    queue.delete("celery")
    cache.clear()


def test_a_round_longer_than_the_window_rests_as_long_as_it_took(settings):
    """On a slow machine a round can outlast the window: the rest is then the round's length, so that rounds
    take at most half the worker's time under sustained writes, never more than ten windows."""
    import time

    import redis
    from django.core.cache import cache

    from areas.changes import communes_changed
    from coverage.tasks import recompute_dirty
    from tests.conftest import build_world

    settings.COVERAGE_KICK_DEBOUNCE_SECONDS = 1
    world = build_world()
    services.recompute_all()
    queue = redis.Redis.from_url(settings.REDIS_URL)
    communes_changed([world.a1.pk])
    queue.delete("celery")
    cache.set(services.ROUND_ENDED_KEY, {"ended": time.time() - 2, "took": 5.0}, timeout=60)  # past the window
    assert recompute_dirty.apply().result is None
    assert DirtyCommune.objects.filter(commune=world.a1).exists()
    assert 2.9 <= _queued_rest(queue) <= 3.1  # the round's 5 s, less the 2 since it ended

    cache.set(services.ROUND_ENDED_KEY, {"ended": time.time(), "took": 3600.0}, timeout=60)
    assert recompute_dirty.apply().result is None
    assert 9.5 <= _queued_rest(queue) <= 10.1  # ten windows at most

    cache.set(services.ROUND_ENDED_KEY, {"ended": time.time() - 5.5, "took": 5.0}, timeout=60)
    assert recompute_dirty.apply().result == 1  # the rest is over
    assert not DirtyCommune.objects.exists()
    cache.clear()


def _queued_rest(queue) -> float:
    """Seconds until the one task the run queued is due; empties the queue."""
    assert queue.llen("celery") == 1
    headers = json.loads(queue.lindex("celery", 0))["headers"]
    queue.delete("celery")
    return (dt.datetime.fromisoformat(headers["eta"]) - timezone.now()).total_seconds()


@pytest.mark.django_db(transaction=True)
def test_a_kicked_task_that_finds_the_lock_taken_asks_again():
    """Marks must not wait for the minute sweep because the lock was busy when their kick arrived."""
    import redis
    from django.conf import settings
    from django.db import connections

    from coverage.tasks import recompute_dirty
    from tests.conftest import build_world

    world = build_world()
    from areas.changes import communes_changed

    services.recompute_all()  # figures exist and are current: the next run is incremental
    communes_changed([world.a1.pk])
    queue = redis.Redis.from_url(settings.REDIS_URL)
    queue.delete("celery")
    from django.core.cache import cache

    cache.clear()
    # The write's kick set the debounce key when it queued this run, and it may not have expired yet:
    # asking again must not be swallowed by it.
    cache.add("coverage:kick", 1, timeout=60)
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [services.RECOMPUTE_LOCK])
            assert recompute_dirty.apply().result is None
            cursor.execute("ROLLBACK")
    finally:
        holder.close()
    assert queue.llen("celery") == 1  # the task asked again
    again = json.loads(queue.lindex("celery", 0))["headers"]
    assert (again["task"], again["eta"] is not None) == ("coverage.recompute_dirty", True)  # after the debounce
    assert DirtyCommune.objects.filter(commune=world.a1).exists()
    queue.delete("celery")
    cache.clear()  # the debounce key: the run below must be free to ask again if it had to
    assert recompute_dirty.apply().result == 1
    assert queue.llen("celery") == 0  # nothing left to do: no new request
