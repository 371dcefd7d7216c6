"""GET /api/v1/audit/: filters, their 400s, order, and a query count that does not grow with the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/"


@pytest.fixture
def entries(world):
    """Thirty entries: every third one a hamlet's, the rest teams'; one a day, the newest now."""
    now = timezone.now()
    for n in range(30):
        hamlet = n % 3 == 0
        AuditEntry.objects.create(
            at=now - dt.timedelta(days=n),
            actor=world.hoa,
            actor_role="commune_officer",
            action="hamlet.create" if hamlet else "team.update",
            entity="areas.hamlet" if hamlet else "teams.team",
            entity_id=str(n),
            province=world.a if n % 2 == 0 else world.b,
            commune=world.a1 if n % 2 == 0 else world.b1,
        )
    return now


def test_the_list_is_newest_first(world, entries, api):
    rows = api(world.minh).get(URL, {"page_size": 100}).data["results"]
    assert [r["entity_id"] for r in rows] == [str(n) for n in range(30)]


def test_each_filter_narrows_to_what_the_database_holds(world, entries, api):
    client = api(world.minh)
    cases = [
        ({"entity": "areas.hamlet"}, AuditEntry.objects.filter(entity="areas.hamlet")),
        ({"action": "team.update"}, AuditEntry.objects.filter(action="team.update")),
        ({"entity_id": "7"}, AuditEntry.objects.filter(entity_id="7")),
        (
            {"since": (entries - dt.timedelta(days=4, hours=1)).isoformat()},
            AuditEntry.objects.filter(entity_id__in=list("01234")),
        ),
        (
            {"until": (entries - dt.timedelta(days=27, hours=1)).isoformat()},
            AuditEntry.objects.filter(entity_id__in=["28", "29"]),
        ),
    ]
    for params, expected in cases:
        rows = client.get(URL, {**params, "page_size": 100}).data["results"]
        assert sorted(r["id"] for r in rows) == sorted(expected.values_list("id", flat=True)), params
        assert 0 < len(rows) < 30, params


def test_filters_combine_within_the_scope(world, entries, api):
    rows = api(world.lan).get(URL, {"entity": "areas.hamlet", "page_size": 100}).data["results"]
    # Province A holds the even entries, hamlets every third: n in 0, 6, 12, 18, 24.
    assert [r["entity_id"] for r in rows] == ["0", "6", "12", "18", "24"]
    assert {r["province"] for r in rows} == {"01"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"since": "not-a-date"}, "since"), ({"until": "0001-01-01T00:00:00"}, "until"), ({"entity": "x" * 41}, "entity")],
)
def test_a_bad_filter_is_a_400_naming_the_field(world, api, params, field):
    response = api(world.minh).get(URL, params)
    assert response.status_code == 400
    assert response.data["errors"][field]


def test_query_count_does_not_grow_with_the_page(world, entries, api, django_assert_num_queries):
    client = api(world.minh)
    # 1: count; 2: the page of entries joined with province and commune.
    with django_assert_num_queries(2):
        small = client.get(URL, {"page_size": 2, "entity": "teams.team"})
    with django_assert_num_queries(2):
        large = client.get(URL, {"page_size": 100})
    assert len(small.data["results"]) == 2 and small.data["count"] == 20
    assert len(large.data["results"]) == 30 and {r["province"] for r in large.data["results"]} == {"01", "02"}
