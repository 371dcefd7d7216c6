"""POST /api/v1/teams/: replays, one active team per hamlet, concurrent creates, bad input per field."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from teams.models import Team
from tests.teams.support import URL, body

pytestmark = pytest.mark.django_db


def test_same_id_three_times_leaves_one_row(world, api):
    team_id = str(uuid.uuid4())
    client = api(world.hoa)
    statuses = [client.post(URL, body(world, id=team_id)).status_code for _ in range(3)]
    assert statuses == [201, 200, 200]
    assert Team.objects.filter(pk=team_id).count() == 1
    assert Team.objects.filter(commune=world.a1, hamlet__isnull=True).count() == 1


def test_same_id_with_different_content_is_409(world, api):
    team_id = str(uuid.uuid4())
    client = api(world.hoa)
    assert client.post(URL, body(world, id=team_id)).status_code == 201
    response = client.post(URL, body(world, id=team_id, name="Tên khác"))
    assert response.status_code == 409
    assert response.data["code"] == "id_conflict"
    assert Team.objects.get(pk=team_id).name == "Tổ CNSCĐ Phường Hoà Bình"


def test_a_second_active_team_for_a_hamlet_is_409(world, api):
    response = api(world.hoa).post(URL, body(world, hamlet=world.hamlets.a1.pk))
    assert response.status_code == 409
    assert response.data["existing_id"] == str(world.teams.a1.pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_for_one_hamlet_give_one_201_and_one_409(api):
    """Two requests race for one hamlet on real PostgreSQL connections: the constraint decides."""
    from tests.conftest import build_world

    world = build_world()
    from tests.factories import HamletFactory

    hamlet = HamletFactory(commune=world.a1, name="Thôn Tranh Chấp")
    barrier = threading.Barrier(2)
    results = []

    def create(user):
        try:
            client = api(user)
            barrier.wait()
            results.append(client.post(URL, body(world, hamlet=hamlet.pk, name=f"Tổ {user.phone}")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(u,)) for u in (world.hoa, world.lan)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert Team.objects.filter(hamlet=hamlet, status="active").count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"hamlet": "other-commune"}, "hamlet"),
        ({"commune": "99999"}, "commune"),
        ({"name": "  "}, "name"),
        ({"established_on": "2025-02-30"}, "established_on"),
        ({"established_on": "2999-01-01"}, "established_on"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_bad_team_input_is_400_per_field(world, api, payload, field):
    if payload.get("hamlet") == "other-commune":
        payload = {"hamlet": world.hamlets.a2.pk}
    before = Team.objects.count()
    response = api(world.lan).post(URL, body(world, **payload))
    assert response.status_code == 400, response.data
    assert response.data["errors"][field]
    assert Team.objects.count() == before
