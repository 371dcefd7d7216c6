"""GET /api/v1/coverage/national/: field names, the stale flag, as_of snapshots and its query count."""

from __future__ import annotations

import datetime as dt

import pytest

from areas import maps
from areas.changes import communes_changed
from coverage import services
from tests.coverage.support import BASE, _active_counts
from tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db


def test_field_names(figures, api):
    nation = api(figures.minh).get(f"{BASE}national/").data
    for name in (
        "hamlets_total",
        "hamlets_covered",
        "teams_active",
        "members_active",
        "activities",
        "people_helped",
        "communes_total",
        "communes_covered",
        "communes_fully_covered",
        "provinces_total",
        "provinces_complete",
        "computed_at",
        "stale",
        "members_by_role",
        "members_by_background",
        "activities_by_type",
        "teams_by_size_status",
        "activities_quarter",
        "quarter",
    ):
        assert name in nation, name
    assert (nation["provinces_total"], nation["provinces_complete"]) == (2, 1)
    assert (nation["communes_total"], nation["communes_covered"]) == (4, 3)
    province = api(figures.minh).get(f"{BASE}provinces/02/").data
    assert province["complete"] is False and province["communes_total"] == 2
    commune = api(figures.minh).get(f"{BASE}communes/00001/").data
    assert commune["covered"] is True and commune["fully_covered"] is True
    assert commune["hamlets"] == [{"id": figures.hamlets.a1.pk, "name": "Thôn Đông", "kind": "thon", "covered": True}]


def test_stale_while_dirty(figures, api):
    client = api(figures.minh)
    assert client.get(f"{BASE}national/").data["stale"] is False
    communes_changed([figures.a1.pk])
    assert client.get(f"{BASE}national/").data["stale"] is True
    provinces = {p["code"]: p["stale"] for p in client.get(f"{BASE}provinces/").data["results"]}
    assert provinces == {"01": True, "02": False}
    assert api(figures.binh).get(f"{BASE}provinces/02/").data["stale"] is False
    services.recompute_dirty()
    assert client.get(f"{BASE}national/").data["stale"] is False


def test_as_of_answers_from_the_snapshot(figures, api, time_machine):
    time_machine.move_to("2026-11-01 23:56:00+07:00", tick=True)
    services.snapshot_take(day=dt.date(2026, 11, 1))
    before = api(figures.minh).get(f"{BASE}national/", {"as_of": "2026-11-01"}).data
    api(figures.hoa).post("/api/v1/teams/", {"commune": "00001", "name": "Tổ mới", "established_on": "2026-10-01"})
    services.recompute_dirty()
    now = api(figures.minh).get(f"{BASE}national/").data
    assert now["teams_active"] == before["teams_active"] + 1
    again = api(figures.minh).get(f"{BASE}national/", {"as_of": "2026-11-01"}).data
    assert again["teams_active"] == before["teams_active"]
    assert api(figures.minh).get(f"{BASE}national/", {"as_of": "2020-01-01"}).status_code == 404
    assert api(figures.minh).get(f"{BASE}national/", {"as_of": "2026-02-30"}).status_code == 400
    province = api(figures.lan).get(f"{BASE}provinces/", {"as_of": "2026-11-01"}).data["results"]
    assert [p["code"] for p in province] == ["01"]


def test_national_query_count(figures, api, django_assert_num_queries):
    from areas.models import Commune, Province

    for _ in range(10):
        CommuneFactory(province=figures.b)
    services.recompute_all()
    # the ETag's validator (coverage.freshness), the national row, current provinces with their current communes
    # counted and their covered communes, outbox marks
    with django_assert_num_queries(4):
        response = api(figures.minh).get(f"{BASE}national/")
    assert response.status_code == 200
    assert response.data["communes_total"] == Commune.objects.current().count() == 14
    assert response.data["provinces_total"] == Province.objects.current().count()
    assert (response.data["teams_active"], response.data["members_active"]) == _active_counts()
    assert response.data["stale"] is False


def test_an_empty_query_string_means_what_the_input_serializer_gives_for_it():
    from coverage.apis import NO_PARAMS, CoverageInput

    data = CoverageInput(data={})
    assert data.is_valid(), data.errors
    assert {"map": maps.DEFAULT, **data.validated_data} == NO_PARAMS
