"""Faults around a request: the database connection dropped mid-request, and a client that retries after a timeout."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from django.db import connection, connections

from members.models import Member
from teams.models import Team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    from tests.conftest import build_world

    return build_world()


def _blocked_backend_pid(timeout: float = 10.0) -> int:
    """The pid of a backend waiting on a row lock (the request we are holding up)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = cursor.fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the request never blocked on the lock")


def test_a_dropped_database_connection_is_503_and_the_retry_writes_once(world, api):
    team = world.teams.a1
    body = {"id": str(uuid.uuid4()), "team": str(team.pk), "full_name": "Phan Văn Rớt", "phone": "0966000111"}
    outcome = {}

    def request():
        try:
            outcome["response"] = api(world.tuan).post("/api/v1/members/", body)
        finally:
            connection.close()

    # Hold the team's row lock from another connection, so the request blocks inside its transaction.
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM teams_team WHERE id = %s FOR UPDATE", [team.pk])
            thread = threading.Thread(target=request)
            thread.start()
            pid = _blocked_backend_pid()
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            cursor.execute("ROLLBACK")
    finally:
        holder.close()
    thread.join(timeout=30)
    response = outcome["response"]
    assert response.status_code == 503, response.content
    assert response.data["code"] == "database_unavailable" and response["Retry-After"]
    assert response.data["retry_after"] == int(response["Retry-After"]) and isinstance(response.data["detail"], str)
    assert not Member.objects.filter(pk=body["id"]).exists()
    # The client retries: exactly one row, whatever the number of retries.
    assert api(world.tuan).post("/api/v1/members/", body).status_code == 201
    assert api(world.tuan).post("/api/v1/members/", body).status_code == 200
    assert Member.objects.filter(phone="0966000111").count() == 1


def test_a_client_that_times_out_and_retries_creates_one_activity_set(world, live_server):
    """The server commits after the client gave up; the retried batch is answered "unchanged"."""
    from accounts.tokens import tokens_for
    from activities.models import Activity
    from tests.activities.test_sync import items

    token = str(tokens_for(world.tuan).access_token)
    headers = {"Authorization": f"Bearer {token}"}
    batch = items(50, world.teams.a1)
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            # The sync inserts its activities, then appends to the commune outbox: holding that table keeps the
            # request's transaction open (uncommitted) until after the client has given up.
            cursor.execute("LOCK TABLE areas_dirtycommune IN EXCLUSIVE MODE")
            with pytest.raises(httpx.TimeoutException):
                httpx.post(
                    f"{live_server.url}/api/v1/activities/sync/",
                    json={"activities": batch},
                    headers=headers,
                    timeout=1.0,
                )
            cursor.execute("COMMIT")
    finally:
        holder.close()
    # The first attempt finishes on the server once the lock is gone; give it a moment.
    deadline = time.monotonic() + 10
    while Activity.objects.count() < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    retry = httpx.post(
        f"{live_server.url}/api/v1/activities/sync/", json={"activities": batch}, headers=headers, timeout=10.0
    )
    assert retry.status_code == 200
    assert {r["status"] for r in retry.json()["results"]} == {"unchanged"}
    assert Activity.objects.count() == 50
    assert Team.objects.count() == 3


def test_health_reports_a_database_outage(api):
    handler = connections["default"]
    original = handler.settings_dict["PORT"]
    handler.close()
    handler.settings_dict["PORT"] = "1"  # nothing listens there: the database is "down"
    try:
        response = api().get("/health/")
        assert response.status_code == 503
        assert response.data["checks"]["database"]["ok"] is False
        assert response.data["checks"]["redis"]["ok"] is True
    finally:
        handler.close()
        handler.settings_dict["PORT"] = original
    assert api().get("/health/").status_code == 200
