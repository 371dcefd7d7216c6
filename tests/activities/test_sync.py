"""POST /activities/sync/: replays, partial batches, conflicts, limits, scope and query counts."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from activities.models import Activity, ActivityType
from areas.models import DirtyCommune

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/sync/"


def items(n: int, team, **extra) -> list[dict]:
    today = timezone.localdate()
    return [
        {
            "id": str(uuid.uuid4()),
            "team": str(team.pk),
            "type": "vneid",
            "occurred_on": str(today - dt.timedelta(days=i % 30)),
            "people_helped": 1 + i % 20,
            "note": f"Hỗ trợ kích hoạt VNeID lần {i}",
        }
        | extra
        for i in range(n)
    ]


def sync(client, batch):
    response = client.post(URL, {"activities": batch})
    assert response.status_code == 200, response.content[:500]
    return response.data["results"]


def statuses(results) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def test_replay_of_a_500_item_batch_leaves_500_rows(world, api):
    batch = items(500, world.teams.a1)
    client = api(world.tuan)
    assert statuses(sync(client, batch)) == {"created": 500}
    snapshot = sorted(Activity.objects.values_list("id", "updated_at", "change_seq"))
    for _ in range(2):
        results = sync(client, batch)
        assert statuses(results) == {"unchanged": 500}
        assert [r["id"] for r in results] == [b["id"] for b in batch]
    assert sorted(Activity.objects.values_list("id", "updated_at", "change_seq")) == snapshot
    assert len(snapshot) == 500


def uuid7_at(when: dt.datetime, random_bits: int) -> uuid.UUID:
    """A UUIDv7 (RFC 9562) as docs/api.md asks the app to make: 48 bits of Unix milliseconds first."""
    millis = int(when.timestamp() * 1000)
    rand_a, rand_b = random_bits >> 62 & 0xFFF, random_bits & (1 << 62) - 1
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def test_any_version_of_uuid_is_accepted_and_kept_as_the_activitys_id(world, api):
    """docs/api.md recommends UUIDv7 for new records, and accepts any UUID: older clients send v4 or v1."""
    now = timezone.now()
    ids = [
        uuid7_at(now, 1),
        uuid7_at(now + dt.timedelta(milliseconds=1), 2),
        uuid.uuid4(),
        uuid.uuid1(),
        uuid.uuid5(uuid.NAMESPACE_URL, "https://example.test/activity"),
    ]
    assert [i.version for i in ids] == [7, 7, 4, 1, 5]
    assert ids[0] < ids[1]  # time-ordered: a later id sorts after an earlier one
    batch = [item | {"id": str(i)} for item, i in zip(items(len(ids), world.teams.a1), ids, strict=True)]
    batch[1]["id"] = batch[1]["id"].upper()  # the canonical form is not required either
    client = api(world.tuan)
    results = sync(client, batch)
    assert statuses(results) == {"created": len(ids)}
    assert [uuid.UUID(r["id"]) for r in results] == ids
    assert set(Activity.objects.values_list("id", flat=True)) == set(ids)
    assert statuses(sync(client, batch)) == {"unchanged": len(ids)}
    assert Activity.objects.count() == len(ids)


def test_partial_batch_saves_the_valid_items(world, api):
    batch = items(500, world.teams.a1)
    broken = {
        0: {"people_helped": 0},
        1: {"people_helped": 10001},
        2: {"type": "no_such_type"},
        3: {"occurred_on": str(timezone.localdate() + dt.timedelta(days=1))},
        4: {"occurred_on": "2025-02-30"},
        5: {"latitude": 48.85, "longitude": 2.35},
        6: {"note": "x" * 2001},
        7: {"hamlet": world.hamlets.a2.pk},
        8: {"team": str(world.teams.a2.pk)},
        9: {"id": "not-a-uuid"},
    }
    expected_field = {
        0: "people_helped",
        1: "people_helped",
        2: "type",
        3: "occurred_on",
        4: "occurred_on",
        5: "latitude",
        6: "note",
        7: "hamlet",
        8: "team",
        9: "id",
    }
    for index, change in broken.items():
        batch[index * 50].update(change)
    results = sync(api(world.tuan), batch)
    assert statuses(results) == {"created": 490, "rejected": 10}
    for index, field in expected_field.items():
        result = results[index * 50]
        assert result["status"] == "rejected"
        assert field in result["errors"], result
    assert Activity.objects.count() == 490


def test_messages_are_vietnamese_by_default(world, api):
    batch = items(1, world.teams.a1, people_helped=0)
    vi = sync(api(world.tuan), batch)[0]["errors"]["people_helped"][0]
    en = sync(api(world.tuan, language="en"), batch)[0]["errors"]["people_helped"][0]
    assert vi != en and "greater than or equal" in en


def test_conflicts_and_updates_follow_the_base(world, api):
    client = api(world.tuan)
    batch = items(2, world.teams.a1)
    created = sync(client, batch)
    base = created[0]["updated_at"]
    stale = dict(batch[0], people_helped=99, base_updated_at="2020-01-01T00:00:00Z")
    no_base = dict(batch[1], people_helped=98)
    results = sync(client, [stale, no_base])
    assert [r["status"] for r in results] == ["conflict", "conflict"]
    assert results[0]["server"]["people_helped"] == batch[0]["people_helped"]
    assert results[0]["server"]["updated_at"] == base
    fresh = dict(batch[0], people_helped=99, base_updated_at=base)
    updated = sync(client, [fresh])[0]
    assert updated["status"] == "updated"
    assert Activity.objects.get(pk=batch[0]["id"]).people_helped == 99
    # The same edit again, with the old base, is now a replay of the current content: unchanged.
    assert sync(client, [fresh])[0]["status"] == "unchanged"


def test_a_tombstone_through_sync(world, api):
    client = api(world.tuan)
    batch = items(1, world.teams.a1)
    base = sync(client, batch)[0]["updated_at"]
    assert sync(client, [dict(batch[0], deleted=True, base_updated_at=base)])[0]["status"] == "updated"
    assert Activity.objects.get(pk=batch[0]["id"]).deleted is True


def test_team_leader_cannot_sync_into_another_team_or_read_it(world, api):
    mine, theirs = items(1, world.teams.a1), items(1, world.teams.a2)
    results = sync(api(world.tuan), mine + theirs)
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert "team" in results[1]["errors"]
    assert not Activity.objects.filter(pk=theirs[0]["id"]).exists()
    sync(api(world.tam), theirs)
    assert api(world.tuan).get(f"/api/v1/activities/{theirs[0]['id']}/").status_code == 404
    # Reusing another team's id is rejected without revealing what it is.
    hijack = sync(api(world.tuan), [dict(theirs[0], team=str(world.teams.a1.pk))])[0]
    assert hijack["status"] == "rejected" and "server" not in hijack


def test_ministry_cannot_sync(world, api):
    results = sync(api(world.minh), items(2, world.teams.a1))
    assert statuses(results) == {"rejected": 2}


def test_more_than_500_items_is_413_and_writes_nothing(world, api):
    response = api(world.tuan).post(URL, {"activities": items(501, world.teams.a1)})
    assert response.status_code == 413
    assert "500" in response.data["detail"]
    assert Activity.objects.count() == 0


def test_a_body_over_the_cap_is_413_and_writes_nothing(world, api, settings):
    settings.SYNC_MAX_BYTES = 10_000
    body = json.dumps({"activities": items(60, world.teams.a1)})
    assert len(body) > 10_000
    response = api(world.tuan).generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 413
    assert Activity.objects.count() == 0


@pytest.mark.parametrize("body", ["{bad json", '{"activities": "x"}', "[]", '{"activities": [1, null]}'])
def test_malformed_bodies_are_4xx(world, api, body):
    response = api(world.tuan).generic("POST", URL, body, content_type="application/json")
    assert 400 <= response.status_code < 500 or all(r["status"] == "rejected" for r in response.data["results"])
    assert Activity.objects.count() == 0


def test_query_count_does_not_grow_with_the_batch(world, api, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    client = api(world.tuan)
    counts = []
    for n in (5, 400):
        with CaptureQueriesContext(connection) as captured:
            sync(client, items(n, world.teams.a1))
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    # Replays and edits of a large batch cost the same constant.
    batch = items(300, world.teams.a1)
    sync(client, batch)
    with CaptureQueriesContext(connection) as replay:
        sync(client, batch)
    assert len(replay) <= counts[0]


def test_sync_query_count(world, api, django_assert_num_queries):
    client = api(world.tuan)
    batch = items(50, world.teams.a1, hamlet=world.hamlets.a1.pk)
    # 1. savepoint; 2. the batch's teams in the caller's scope; 3. the named hamlets; 4. the activity types;
    # 5. one INSERT ... ON CONFLICT for the batch (no read of the ids first: new ones go in, stored ones are
    # found by the conflict); 6. the changed-commune outbox mark; 7. release.
    with django_assert_num_queries(7):
        assert statuses(sync(client, batch)) == {"created": 50}
    # A replay: 1-5, which inserts nothing; 6. the stored rows of the ids that did not go in; 7. release.
    with django_assert_num_queries(7):
        assert statuses(sync(client, batch)) == {"unchanged": 50}
    assert Activity.objects.filter(team=world.teams.a1).count() == 50


def test_one_batch_of_every_kind_of_item_is_judged_against_what_is_stored(
    world, api, settings, django_assert_num_queries
):
    """New items go straight into the INSERT; the rest (the ids it found stored, the items rejected as new)
    are judged again against their stored rows, in the same request."""
    client = api(world.tuan)
    replayed, edited, stale, old = items(4, world.teams.a1)
    old["occurred_on"] = str(timezone.localdate() - dt.timedelta(days=10))
    created = {r["id"]: r for r in sync(client, [replayed, edited, stale, old])}
    theirs = items(1, world.teams.a2)[0]
    sync(api(world.tam), [theirs])
    settings.ACTIVITY_MAX_AGE_DAYS = 5  # `old` could not be created today; its replay is still a replay
    new = items(1, world.teams.a1, latitude=21.0285, longitude=105.8542, note="Ghi chú: “VNeID” — mức 2 \\ ổn")[0]
    batch = [
        replayed,
        dict(edited, people_helped=77, base_updated_at=created[edited["id"]]["updated_at"]),
        dict(stale, people_helped=66),
        new,
        dict(theirs, team=str(world.teams.a1.pk)),
        old,
    ]
    # 1. savepoint; 2. teams; 3. types; 4. the INSERT (only `new` goes in); 5. the stored rows of the other
    # five; 6. the compare-and-set UPDATE of the edit; 7. the outbox mark; 8. release.
    with django_assert_num_queries(8):
        results = sync(client, batch)
    assert [r["status"] for r in results] == ["unchanged", "updated", "conflict", "created", "rejected", "unchanged"]
    assert list(results[4]["errors"]) == ["id"] and "server" not in results[4]
    assert results[2]["server"]["people_helped"] == stale["people_helped"]
    rows = {str(a.pk): a for a in Activity.objects.filter(pk__in=[i["id"] for i in batch])}
    assert rows[edited["id"]].people_helped == 77 and rows[stale["id"]].people_helped == stale["people_helped"]
    assert rows[theirs["id"]].team_id == world.teams.a2.pk and rows[new["id"]].team_id == world.teams.a1.pk
    assert Activity.objects.filter(team=world.teams.a1).count() == 5
    assert (float(rows[new["id"]].latitude), float(rows[new["id"]].longitude)) == (21.0285, 105.8542)
    assert rows[new["id"]].note == new["note"] and rows[new["id"]].occurred_on.isoformat() == new["occurred_on"]


def test_deactivated_type_is_refused_for_new_activities_but_kept(world, api):
    client = api(world.tuan)
    old = items(1, world.teams.a1, type="online_shopping")
    sync(client, old)
    response = api(world.minh).patch("/api/v1/activity-types/online_shopping/", {"active": False})
    assert response.status_code == 200 and response.data["active"] is False
    new = sync(client, items(1, world.teams.a1, type="online_shopping"))[0]
    assert new["status"] == "rejected" and "type" in new["errors"]
    assert sync(client, old)[0]["status"] == "unchanged"
    assert Activity.objects.get(pk=old[0]["id"]).type_id == "online_shopping"


def test_ministry_adds_types_and_others_cannot(world, api):
    body = {"code": "ai_assistant", "name_vi": "Trợ lý AI", "name_en": "AI assistants"}
    assert api(world.lan).post("/api/v1/activity-types/", body).status_code == 403
    assert api(world.minh).post("/api/v1/activity-types/", body).status_code == 201
    assert api(world.minh).post("/api/v1/activity-types/", body).status_code == 400
    codes = [t["code"] for t in api(world.tuan).get("/api/v1/activity-types/", {"page_size": 100}).data["results"]]
    assert "ai_assistant" in codes and len(codes) == ActivityType.objects.count() >= 16
    assert api(world.nobody).get("/api/v1/activity-types/").data["count"] == 0


def test_occurred_on_window(world, api, settings):
    settings.ACTIVITY_MAX_AGE_DAYS = 365
    old = items(1, world.teams.a1, occurred_on=str(timezone.localdate() - dt.timedelta(days=366)))
    edge = items(1, world.teams.a1, occurred_on=str(timezone.localdate() - dt.timedelta(days=365)))
    results = sync(api(world.tuan), old + edge)
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert "occurred_on" in results[0]["errors"]


def test_accepted_writes_mark_the_commune(world, api):
    DirtyCommune.objects.all().delete()
    sync(api(world.tuan), items(3, world.teams.a1))
    assert list(DirtyCommune.objects.values_list("commune_id", flat=True)) == [world.a1.pk]


def test_commune_and_province_are_stored_on_each_activity(world, api):
    batch = items(1, world.teams.a1, hamlet=world.hamlets.a1.pk)
    sync(api(world.hoa), batch)
    activity = Activity.objects.get(pk=batch[0]["id"])
    assert (activity.commune_id, activity.province_id, activity.recorded_by_id) == (
        world.a1.pk,
        world.a.pk,
        world.hoa.pk,
    )


@pytest.mark.django_db(transaction=True)
def test_eight_parallel_clients_sending_one_batch_leave_500_rows(api):
    from tests.conftest import build_world

    world = build_world()
    batch = items(500, world.teams.a1)
    barrier = threading.Barrier(8)
    outcomes: list[tuple[int, dict]] = []

    def send():
        try:
            client = api(world.tuan)
            barrier.wait()
            response = client.post(URL, {"activities": batch})
            outcomes.append(
                (response.status_code, statuses(response.data["results"]) if response.status_code == 200 else {})
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for code, _ in outcomes] == [200] * 8
    assert Activity.objects.count() == 500
    created = sum(s.get("created", 0) for _, s in outcomes)
    assert created == 500
    assert all(set(s) <= {"created", "unchanged"} for _, s in outcomes)
