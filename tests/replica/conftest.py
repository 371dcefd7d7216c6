"""The replica tests run against a real streaming replica (tests/replica/cluster.py), built once per module after
the test database exists, registered as the database alias "replica" for these tests only."""

from __future__ import annotations

import pytest
from django.db import connections

from config.replica import REPLICA
from tests.replica.cluster import Replica


# Module scope: the alias is gone before any other test module runs (a live server thread would read it).
@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    primary = connections["default"].settings_dict
    assert connections["default"].vendor == "postgresql", "the replica tests need PostgreSQL"
    cluster = Replica(host=primary["HOST"] or "127.0.0.1", port=int(primary["PORT"] or 5432), user=primary["USER"])
    try:
        cluster.start()
        cluster.wait_replayed()
        # The test database, on the replica: the same name, the standby's port.
        connections.settings[REPLICA] = {
            **primary,
            "HOST": "127.0.0.1",
            "PORT": str(cluster.port),
            "CONN_MAX_AGE": 0,
            "TEST": {**primary.get("TEST", {}), "MIRROR": "default"},
        }
        yield cluster
    finally:
        if REPLICA in connections.settings:
            connections[REPLICA].close()
            del connections.settings[REPLICA]
        cluster.stop()
