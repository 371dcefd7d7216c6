"""GET /api/v1/coverage/provinces/ and /provinces/{code}/communes/: filters, ordering, pagination, query counts."""

from __future__ import annotations

import csv
import io

import pytest

from coverage import services
from tests.coverage.support import BASE, _active_counts
from tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db


def test_commune_officer_sees_only_their_commune_in_the_province_list(figures, api):
    rows = api(figures.hoa).get(f"{BASE}provinces/01/communes/").data["results"]
    assert [r["code"] for r in rows] == ["00001"]


def test_filters_and_ordering(figures, api):
    client = api(figures.minh)
    uncovered = client.get(f"{BASE}provinces/02/communes/", {"covered": "false"}).data["results"]
    assert [r["code"] for r in uncovered] == ["00009"]
    full = client.get(f"{BASE}provinces/02/communes/", {"fully_covered": "true"}).data["results"]
    assert full == []
    ordered = client.get(f"{BASE}provinces/02/communes/", {"ordering": "-teams_active"}).data["results"]
    assert [r["code"] for r in ordered] == ["00003", "00009"]
    assert client.get(f"{BASE}provinces/", {"ordering": "bogus"}).status_code == 400
    by_coverage = client.get(f"{BASE}provinces/", {"ordering": "-hamlet_coverage"}).data["results"]
    assert [r["code"] for r in by_coverage] == ["01", "02"]


def test_coverage_list_query_count(figures, api, django_assert_num_queries):
    from areas.models import Commune

    for _ in range(10):
        CommuneFactory(province=figures.a)
    services.recompute_all()
    client = api(figures.minh)
    # the ETag's validator, current provinces in scope with their current communes counted, province figures,
    # outbox marks, the national row's valid_until
    with django_assert_num_queries(5):
        provinces = client.get(f"{BASE}provinces/")
    assert provinces.status_code == 200
    rows = provinces.data["results"]
    assert [r["code"] for r in rows] == ["01", "02"]
    for row, province in zip(rows, (figures.a, figures.b), strict=True):
        assert row["communes_total"] == Commune.objects.current().filter(province=province).count()
        assert (row["teams_active"], row["members_active"]) == _active_counts(province=province)
    assert rows[0]["communes_total"] == 12
    # the ETag's validator, the province in scope, current communes with their provinces, commune figures,
    # outbox marks, the national row's valid_until
    with django_assert_num_queries(6):
        communes = client.get(f"{BASE}provinces/01/communes/", {"page_size": 100})
    assert communes.status_code == 200
    rows = communes.data["results"]
    expected = Commune.objects.current().filter(province=figures.a).order_by("code")
    assert [r["code"] for r in rows] == list(expected.values_list("code", flat=True))
    for row, commune in zip(rows, expected, strict=True):
        assert (row["teams_active"], row["members_active"]) == _active_counts(commune=commune)
        assert row["covered"] is (row["teams_active"] > 0)
    assert sum(r["teams_active"] for r in rows) == 2


def test_coverage_lists_paginate_as_every_list_does(figures, api):
    for i in range(5):
        CommuneFactory(code=f"0010{i}", province=figures.a)
    services.recompute_all()
    client = api(figures.minh)
    first = client.get(f"{BASE}provinces/01/communes/", {"page_size": 3}).data
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    second = client.get(first["next"]).data
    assert len(second["results"]) == 3
    everything = client.get(f"{BASE}provinces/01/communes/", {"page_size": 500}).data["results"]
    assert [r["code"] for r in first["results"] + second["results"]] == [r["code"] for r in everything[:6]]
    exported = client.get(f"{BASE}provinces/01/communes/", {"page_size": 3, "format": "csv"}).content
    assert len(list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))) == 7  # an export holds every row
