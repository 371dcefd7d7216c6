"""Coverage with a real Celery worker and real Redis: freshness, a worker killed mid-recompute, Redis down."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from accounts.scoping import Role
from areas.models import DirtyCommune
from config.celery import app
from coverage import services
from coverage.models import CommuneFigures, NationalFigures, ProvinceFigures
from tests.conftest import build_world
from tests.factories import CommuneFactory, UserFactory
from tests.worker import Worker, celery_broker, celery_worker, private_redis

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

logger = logging.getLogger(__name__)

FRESHNESS_SECONDS = 5.0


def uncovered_commune(world):
    """A commune of province A with no team yet, and its commune officer."""
    commune = CommuneFactory(code="00010", name="Xã Chưa Có Tổ", province=world.a)
    officer = UserFactory(phone="0900000010", role=Role.COMMUNE_OFFICER, province=world.a, commune=commune)
    return commune, officer


def register_team(api, officer, commune):
    return api(officer).post(
        "/api/v1/teams/", {"commune": commune.code, "name": "Tổ CNSCĐ Xã Chưa Có Tổ", "established_on": "2025-08-01"}
    )


def activities(team, n: int) -> list[dict]:
    today = timezone.localdate()
    return [
        {
            "id": str(uuid.uuid4()),
            "team": str(team.pk),
            "type": "vneid",
            "occurred_on": str(today - dt.timedelta(days=i)),
            "people_helped": 2,
        }
        for i in range(n)
    ]


def headline(world, commune) -> dict:
    """The figures the acceptance points speak of: the new commune, province A, commune A1 and the nation."""
    new = CommuneFigures.objects.get(commune=commune)
    a1 = CommuneFigures.objects.get(commune=world.a1)
    province = ProvinceFigures.objects.get(province=world.a)
    nation = NationalFigures.objects.get(pk=1)
    return {
        "commune_covered": new.covered,
        "commune_teams": new.teams_active,
        "a1_members": a1.members_active,
        "a1_activities": a1.activities,
        "province_teams": province.teams_active,
        "province_communes_covered": province.communes_covered,
        "nation_teams": nation.teams_active,
        "nation_members": nation.members_active,
        "nation_activities": nation.activities,
    }


BASELINE = {
    "commune_covered": False,
    "commune_teams": 0,
    "a1_members": 4,
    "a1_activities": 0,
    "province_teams": 2,
    "province_communes_covered": 2,
    "nation_teams": 3,
    "nation_members": 12,
    "nation_activities": 0,
}
ONE_NEW_TEAM = BASELINE | {
    "commune_covered": True,
    "commune_teams": 1,
    "province_teams": 3,
    "province_communes_covered": 3,
    "nation_teams": 4,
}


def stored_figures() -> dict:
    """Every stored figure row, without its timestamp, to compare the incremental figures with a full recompute."""
    return {
        model.__name__: {
            row[model._meta.pk.attname]: {k: v for k, v in row.items() if k != "computed_at"}
            for row in model.objects.values()
        }
        for model in (CommuneFigures, ProvinceFigures, NationalFigures)
    }


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, worker: Worker | None = None) -> float:
    """Poll until condition() holds; return the seconds it took, or fail with the worker's recent output."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            output = worker.log()[-4000:] if worker else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{output}")
        time.sleep(0.05)
    return time.monotonic() - started


def recompute_lock_holders() -> int:
    """Sessions holding the recompute's advisory lock (coverage.services.RECOMPUTE_LOCK) in the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = 0"
            " AND objid::bigint = %s AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [services.RECOMPUTE_LOCK],
        )
        return cursor.fetchone()[0]


def assert_reconcile_finds_nothing_to_fix() -> None:
    incremental = stored_figures()
    run = services.reconcile()
    assert run.differences == 0, run.examples
    assert stored_figures() == incremental
    assert not DirtyCommune.objects.exists()


def test_a_team_in_an_uncovered_commune_reaches_the_figures_within_5_seconds(api, tmp_path):
    world = build_world()
    commune, officer = uncovered_commune(world)
    services.recompute_all()
    assert headline(world, commune) == BASELINE
    with celery_worker(log_dir=tmp_path) as worker:
        started = time.monotonic()  # before the request, so this bounds the time since the commit from above
        response = register_team(api, officer, commune)
        assert response.status_code == 201, response.data
        wait_for(lambda: headline(world, commune) == ONE_NEW_TEAM, timeout=20, what="figures", worker=worker)
        elapsed = time.monotonic() - started
    logger.info("freshness: %.3f s from the request to the figures", elapsed)
    assert elapsed < FRESHNESS_SECONDS, f"the new team reached the figures {elapsed:.2f} s after the commit"
    assert not DirtyCommune.objects.exists()


def recompute_blocked_on_upsert(timeout: float = 20.0, worker: Worker | None = None) -> int:
    """The pid of the backend whose recompute waits to write the commune figures (held by the test's lock)."""
    found: list[int] = []

    def blocked() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE %s",
                ["INSERT INTO coverage_communefigures%"],
            )
            found.extend(row[0] for row in cursor.fetchall())
        return bool(found)

    wait_for(blocked, timeout=timeout, what="the recompute blocked inside its transaction", worker=worker)
    return found[0]


def test_a_worker_killed_mid_recompute_loses_no_mark_and_the_sweep_converges(api, tmp_path):
    from django.db import connections

    world = build_world()
    commune, officer = uncovered_commune(world)
    services.recompute_all()
    # Another session holds the commune figures table: the worker's recompute takes the lock, reads every
    # source row and then waits to write, inside its transaction, where the kill finds it. No code of the
    # recompute knows about the test.
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE coverage_communefigures IN EXCLUSIVE MODE")
            with celery_worker(log_dir=tmp_path) as paused:
                assert register_team(api, officer, commune).status_code == 201
                recompute_blocked_on_upsert(worker=paused)
                assert recompute_lock_holders() == 1  # the worker is inside the recompute's transaction
                paused.kill()
            cursor.execute("ROLLBACK")  # the orphaned backend may now finish its statement, and finds no client
    finally:
        holder.close()
    # The killed transaction rolled back: the figures are the old ones and the mark is still there.
    wait_for(lambda: recompute_lock_holders() == 0, timeout=10, what="PostgreSQL releasing the killed worker's lock")
    assert headline(world, commune) == BASELINE
    assert list(DirtyCommune.objects.values_list("commune_id", flat=True)) == [commune.pk]

    with celery_worker(log_dir=tmp_path) as worker:  # a fresh worker; the purge also drops the killed kick
        app.send_task("coverage.sweep")  # as beat does every minute
        wait_for(
            lambda: not DirtyCommune.objects.exists() and headline(world, commune) == ONE_NEW_TEAM,
            timeout=30,
            what="the sweep converging",
            worker=worker,
        )
    assert_reconcile_finds_nothing_to_fix()


def test_writes_succeed_while_redis_is_down_and_the_sweep_converges_after(api, settings, tmp_path):
    world = build_world()
    commune, officer = uncovered_commune(world)
    services.recompute_all()
    assert headline(world, commune) == BASELINE
    with private_redis() as server:
        settings.REDIS_URL = server.url
        settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": server.url}}
        with celery_broker(server.url), celery_worker(redis_url=server.url, log_dir=tmp_path) as worker:
            server.stop()
            writes = {
                "team": lambda: register_team(api, officer, commune),
                "member": lambda: api(world.hoa).post(
                    "/api/v1/members/",
                    {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"},
                ),
                "sync": lambda: api(world.tuan).post(
                    "/api/v1/activities/sync/", {"activities": activities(world.teams.a1, 5)}
                ),
            }
            responses, seconds = {}, {}
            for name, write in writes.items():
                started = time.monotonic()
                responses[name] = write()
                seconds[name] = round(time.monotonic() - started, 3)
            logger.info("write seconds with Redis down: %s", seconds)
            statuses = {name: response.status_code for name, response in responses.items()}
            assert statuses == {"team": 201, "member": 201, "sync": 200}, {
                name: response.content[:300] for name, response in responses.items()
            }
            assert [r["status"] for r in responses["sync"].data["results"]] == ["created"] * 5
            assert set(DirtyCommune.objects.values_list("commune_id", flat=True)) == {commune.pk, world.a1.pk}
            assert headline(world, commune) == BASELINE

            server.start()
            app.send_task("coverage.sweep")  # as beat does on its next tick once Redis is back
            expected = ONE_NEW_TEAM | {
                "a1_members": 5,
                "a1_activities": 5,
                "nation_members": 13,
                "nation_activities": 5,
            }
            converged = wait_for(
                lambda: not DirtyCommune.objects.exists() and headline(world, commune) == expected,
                timeout=45,
                what="the sweep converging after Redis came back",
                worker=worker,
            )
            logger.info("converged %.3f s after Redis came back", converged)
            assert worker.alive()  # the worker rode out the outage
    assert_reconcile_finds_nothing_to_fix()


def test_a_reconcile_that_finds_the_lock_taken_retries_until_it_runs(tmp_path):
    """The nightly reconcile is never lost to a recompute that happened to hold the lock at 02:00."""
    from django.db import connections

    from coverage.models import ReconcileRun

    world = build_world()
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.a1).update(teams_active=7)  # a wrong figure for it to find
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [services.RECOMPUTE_LOCK])  # a long recompute
            with celery_worker(env={"COVERAGE_RECONCILE_RETRY_SECONDS": "1"}, log_dir=tmp_path) as worker:
                app.send_task("coverage.reconcile")  # as beat does at 02:00
                wait_for(
                    lambda: worker.log().count("retrying in 1 s") >= 2,
                    timeout=30,
                    what="the reconcile retrying",
                    worker=worker,
                )
                assert not ReconcileRun.objects.exists()
                cursor.execute("ROLLBACK")  # the other recompute ends
                wait_for(lambda: ReconcileRun.objects.exists(), timeout=30, what="the reconcile running", worker=worker)
    finally:
        holder.close()
    run = ReconcileRun.objects.get()
    assert run.differences == 1 and run.examples[0]["field"] == "teams_active"
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 1  # repaired


def worker_sessions() -> dict[int, object]:
    """Sessions of other processes in the test database: pid → when the session began."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return dict(cursor.fetchall())


def test_a_worker_keeps_its_database_session_from_one_task_to_the_next(api, tmp_path):
    """Celery's Django fix-up would open a new PostgreSQL session for every task (config.celery)."""
    world = build_world()
    services.recompute_all()
    with celery_worker(log_dir=tmp_path) as worker:
        sessions = []
        for name in ("Thôn Một", "Thôn Hai", "Thôn Ba"):
            response = api(world.lan).post("/api/v1/hamlets/", {"commune": world.a1.code, "name": name, "kind": "thon"})
            assert response.status_code == 201, response.data
            wait_for(lambda: not DirtyCommune.objects.exists(), timeout=20, what="the recompute", worker=worker)
            sessions.append(worker_sessions())
            time.sleep(1.2)  # past the kick's debounce window: the next write enqueues a new task
        assert worker.log().count("coverage.recompute_dirty") >= 6, worker.log()[-3000:]  # received + succeeded
    assert len(sessions[0]) == 1, sessions
    assert sessions[0] == sessions[1] == sessions[2]
