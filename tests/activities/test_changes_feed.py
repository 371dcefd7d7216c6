"""GET /activities/changes/: ordered, scoped, with tombstones, and never skipping a late commit."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from activities import services
from tests.activities.test_sync import items, sync

URL = "/api/v1/activities/changes/"

# The feed only shows rows from finished transactions, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    from tests.conftest import build_world

    return build_world()


def read_all(client, since=None, limit=200):
    rows, pages = [], 0
    while True:
        params = {"limit": limit} | ({"since": since} if since else {})
        response = client.get(URL, params)
        assert response.status_code == 200, response.data
        rows += response.data["results"]
        since = response.data["next_cursor"]
        pages += 1
        if not response.data["has_more"]:
            return rows, since, pages


def test_feed_pages_through_everything_in_order(world, api):
    client = api(world.tuan)
    batch = items(25, world.teams.a1)
    sync(client, batch)
    rows, cursor, pages = read_all(client, limit=10)
    assert pages == 3
    assert sorted(r["id"] for r in rows) == sorted(b["id"] for b in batch)
    assert len({r["id"] for r in rows}) == 25
    assert read_all(client, since=cursor)[0] == []


def test_tombstones_are_delivered(world, api):
    client = api(world.tuan)
    batch = items(2, world.teams.a1)
    sync(client, batch)
    _, cursor, _ = read_all(client)
    assert api(world.tuan).delete(f"/api/v1/activities/{batch[0]['id']}/").status_code == 200
    rows, _, _ = read_all(client, since=cursor)
    assert [(r["id"], r["deleted"]) for r in rows] == [(batch[0]["id"], True)]


def test_feed_is_scoped_to_the_caller(world, api):
    sync(api(world.tuan), items(3, world.teams.a1))
    sync(api(world.tam), items(2, world.teams.a2))
    sync(api(world.bao), items(4, world.teams.b1))
    assert len(read_all(api(world.tuan))[0]) == 3
    assert len(read_all(api(world.tam))[0]) == 2
    assert len(read_all(api(world.lan))[0]) == 5
    assert len(read_all(api(world.minh))[0]) == 9
    assert len(read_all(api(world.nobody))[0]) == 0


def test_a_late_commit_is_never_skipped(world, api):
    """A slow transaction writes first and commits last; a reader polling in between must still see it."""
    client = api(world.tam)
    written, release, done = threading.Event(), threading.Event(), threading.Event()
    # Another type than the fast batch's: writes of one team and type wait for each other on their tally row
    # (activities.models.TallyBase), and the fast one must commit while the slow one is open.
    slow_batch = items(1, world.teams.a2, type="cashless_payment")
    slow_id = uuid.UUID(slow_batch[0]["id"])

    def slow_writer():
        try:
            with transaction.atomic():
                values = services.normalize(
                    {**slow_batch[0], "id": slow_id, "team": world.teams.a2.pk, "occurred_on": _date(slow_batch[0])}
                )
                services.activities_sync(actor=world.tam, items=[(slow_id, values, None)])
                written.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(timeout=30)
    fast = items(3, world.teams.a2)
    sync(client, fast)  # commits while the slow transaction is still open
    seen, cursor, _ = read_all(client)
    assert str(slow_id) not in {r["id"] for r in seen}
    release.set()
    assert done.wait(timeout=30)
    thread.join()
    later, _, _ = read_all(client, since=cursor)
    delivered = {r["id"] for r in seen} | {r["id"] for r in later}
    assert delivered == {str(slow_id)} | {b["id"] for b in fast}


def _date(item):
    import datetime as dt

    return dt.date.fromisoformat(item["occurred_on"])


def test_a_bad_cursor_is_400(world, api):
    response = api(world.tuan).get(URL, {"since": "garbage!"})
    assert response.status_code == 400 and response.data["errors"]["since"]
    assert api(world.tuan).get(URL, {"limit": 0}).status_code == 400


def test_changes_feed_query_count(world, api, django_assert_num_queries):
    client = api(world.tuan)
    sync(client, items(30, world.teams.a1))
    # 1. the visible horizon (the oldest transaction of this database still running); 2. the page after the cursor.
    with django_assert_num_queries(2):
        response = client.get(URL, {"limit": 20})
    assert len(response.data["results"]) == 20 and response.data["has_more"] is True
    with django_assert_num_queries(2):
        rest = client.get(URL, {"since": response.data["next_cursor"], "limit": 20})
    assert len(rest.data["results"]) == 10 and rest.data["has_more"] is False
