"""Coverage reads go to a real streaming replica; every read-your-own-write, the login and all writes stay on the
primary (config.replica). The replica is a second PostgreSQL cluster made with pg_basebackup (tests/replica/cluster.py);
pausing its replay makes it lag on demand."""

from __future__ import annotations

import logging

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tokens import tokens_for
from config.replica import REPLICA
from coverage import services
from teams.models import Team
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

NATIONAL = "/api/v1/coverage/national/"
COMMUNE = "/api/v1/coverage/communes/00001/"


def bearer(user) -> APIClient:
    """A client with a real access token: its login is checked on every request, as in production."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access_token}")
    return client


@pytest.fixture
def world(replica):
    world = build_world()
    services.recompute_all()
    replica.wait_replayed()
    yield world
    replica.resume()


class Queries:
    """The SQL each database ran during the block."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections["default"]).__enter__()
        self.replica = CaptureQueriesContext(connections[REPLICA]).__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    def on(self, alias: str) -> list[str]:
        captured = self.primary if alias == "default" else self.replica
        return [query["sql"] for query in captured.captured_queries]


def test_the_replica_is_a_streaming_standby_of_the_test_database(replica, world):
    assert replica.sql("SELECT pg_is_in_recovery()")[0][0] is True
    states = replica.primary_sql("SELECT state FROM pg_stat_replication")
    assert ("streaming",) in states
    with connections[REPLICA].cursor() as cursor:  # the test database's rows, as committed on the primary
        cursor.execute("SELECT count(*) FROM teams_team")
        assert cursor.fetchone()[0] == Team.objects.count() == len(vars(world.teams)) > 0


def test_coverage_reads_go_to_the_replica_and_the_login_to_the_primary(world):
    client = bearer(world.minh)
    with Queries() as queries:
        response = client.get(NATIONAL)
    assert response.status_code == 200 and response.data["teams_active"] > 0
    replica_sql = queries.on(REPLICA)
    assert any("coverage_nationalfigures" in sql for sql in replica_sql)
    assert any("READ ONLY" in sql for sql in replica_sql)  # one snapshot for the validator and the body
    primary_sql = queries.on("default")
    assert any("accounts_user" in sql for sql in primary_sql)  # the token's login and version
    assert not any("coverage_" in sql for sql in primary_sql)


def test_a_writer_reads_their_own_write_while_the_replica_lags(replica, world):
    officer, ministry = bearer(world.hoa), bearer(world.minh)
    before = ministry.get(NATIONAL).data
    assert before["stale"] is False
    replica.pause()
    with Queries() as queries:
        created = officer.post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Mới", "kind": "thon"})
    assert created.status_code == 201
    assert queries.on(REPLICA) == []  # writes only ever go to the primary

    # The writer: the primary, which has their hamlet and the mark it left.
    with Queries() as queries:
        own = officer.get(COMMUNE)
    assert own.status_code == 200 and own.data["stale"] is True
    assert "Thôn Mới" in [hamlet["name"] for hamlet in own.data["hamlets"]]
    assert not any("coverage_" in sql for sql in queries.on(REPLICA))
    # Anyone else: the lagging replica, which has neither yet.
    with Queries() as queries:
        other = ministry.get(NATIONAL)
    assert other.status_code == 200 and other.data["stale"] is False
    assert other.data["hamlets_total"] == before["hamlets_total"]
    assert any("coverage_" in sql for sql in queries.on(REPLICA))

    replica.resume()
    replica.wait_replayed()
    with Queries() as queries:  # caught up: the writer reads the replica too, and sees the same
        caught_up = officer.get(COMMUNE)
    assert caught_up.data["stale"] is True
    assert "Thôn Mới" in [hamlet["name"] for hamlet in caught_up.data["hamlets"]]
    assert any("coverage_" in sql for sql in queries.on(REPLICA))
    assert ministry.get(NATIONAL).data["stale"] is True


def test_a_revoked_token_is_refused_while_the_replica_lags(replica, world):
    client = bearer(world.minh)
    assert client.get(NATIONAL).status_code == 200
    replica.pause()
    world.minh.set_password("another-Passw0rd-2026")
    world.minh.save()  # the database bumps token_version: every token of this login ends
    assert client.get(NATIONAL).status_code == 401


def test_reads_fall_back_to_the_primary_when_the_replica_is_down(world, caplog):
    settings = connections[REPLICA].settings_dict
    port = settings["PORT"]
    connections[REPLICA].close()
    settings["PORT"] = "1"
    try:
        with caplog.at_level(logging.WARNING, logger="config.replica"):
            response = bearer(world.minh).get(NATIONAL)
    finally:
        connections[REPLICA].close()
        settings["PORT"] = port
    assert response.status_code == 200 and response.data["teams_active"] > 0
    assert "replica unavailable, reading from the primary: OperationalError" in caplog.text


def test_the_dashboard_reads_the_replica_after_the_session(world, client):
    client.force_login(world.minh)
    with Queries() as queries:
        response = client.get("/nation/")
    assert response.status_code == 200
    assert any("coverage_nationalfigures" in sql for sql in queries.on(REPLICA))
    primary_sql = queries.on("default")
    assert any("django_session" in sql for sql in primary_sql)
    assert not any("coverage_" in sql for sql in primary_sql)
