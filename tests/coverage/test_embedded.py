"""The embedded mode (no Redis: tasks in-process): a committed write is in the next read, with no worker."""

from __future__ import annotations

import pytest

from config.celery import app
from coverage import services
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/api/v1/coverage/"


@pytest.fixture
def embedded():
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_a_committed_write_is_in_the_next_read(api, embedded):
    world = build_world()
    services.recompute_all()
    officer = api(world.hai)
    before = officer.get(f"{BASE}communes/00002/").data
    created = officer.post(
        "/api/v1/teams/",
        {"commune": "00002", "hamlet": world.hamlets.a2.pk, "name": "Tổ Thôn Tây", "established_on": "2025-08-01"},
    )
    assert created.status_code == 201, created.data
    after = officer.get(f"{BASE}communes/00002/").data  # no worker, no sweep, no manual recompute
    assert (after["teams_active"], after["hamlets_covered"]) == (before["teams_active"] + 1, 1)
    assert after["stale"] is False
    nation = api(world.minh).get(f"{BASE}national/").data
    assert nation["teams_active"] == 4 and nation["stale"] is False


def test_a_read_recomputes_what_waits_when_no_worker_ever_will(api, embedded):
    world = build_world()  # rows written without any kick: nothing computed, nothing marked
    nation = api(world.minh).get(f"{BASE}national/").data
    assert (nation["teams_active"], nation["communes_covered"], nation["stale"]) == (3, 3, False)
