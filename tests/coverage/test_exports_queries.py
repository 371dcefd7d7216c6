"""Coverage exports (CSV and XLSX): a fixed number of queries however many rows, and renderers that run none."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from activities.models import ActivityType
from coverage import selectors, services
from coverage.exports import CSVRenderer, XLSXRenderer, export_rows
from tests.factories import CommuneFactory, HamletFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/coverage/"


@pytest.fixture
def many(world):
    """Twelve more communes in A, six more hamlets in A1: enough rows that a per-row query would show."""
    for _ in range(12):
        CommuneFactory(province=world.a)
    HamletFactory.create_batch(6, commune=world.a1)
    services.recompute_all()
    return world


def _lines(response, fmt: str) -> list[dict]:
    """The export's data lines as {header: cell}."""
    assert response.status_code == 200, response.content[:200]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, *lines = list(load_workbook(io.BytesIO(response.content)).active.values)
    return [dict(zip(header, line, strict=True)) for line in lines]


# name: (path, persona, queries of the export, each named below).
EXPORTS = {
    # the national row, current provinces with their communes counted and covered, outbox marks;
    # + the activity types' names
    "national": ("national/", "minh", 4),
    # current provinces in scope with their communes counted, province figures, outbox marks,
    # the national row's valid_until; + the activity types' names
    "provinces": ("provinces/", "minh", 5),
    # the same for one province
    "province": ("provinces/01/", "lan", 5),
    # the province in scope, current communes with their provinces, commune figures, outbox marks,
    # the national row's valid_until; + the activity types' names
    "communes": ("provinces/01/communes/", "lan", 6),
    # the commune with its province, its figures, outbox marks, the national row's valid_until,
    # the commune in scope again (for its hamlets), its hamlets with whether each has an active team;
    # + the activity types' names
    "commune": ("communes/00001/", "hoa", 7),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("name", EXPORTS)
def test_an_export_is_a_fixed_number_of_queries(many, api, django_assert_num_queries, name, fmt):
    path, persona, queries = EXPORTS[name]
    client = api(getattr(many, persona))
    with django_assert_num_queries(queries):
        response = client.get(f"{BASE}{path}", {"format": fmt})
    lines = _lines(response, fmt)
    # The JSON twin (no names needed, but the ETag's validator) holds the same units and figures.
    with django_assert_num_queries(queries):
        data = client.get(f"{BASE}{path}", {"page_size": 500}).data
    rows = data.get("results", [data])
    if name == "commune":
        own, *hamlets = lines
        assert str(own["Mã"]) == rows[0]["code"]
        assert [str(h["Mã"]) for h in hamlets] == [str(h["id"]) for h in rows[0]["hamlets"]]
        assert len(hamlets) == 7
        lines = [own]
    else:
        assert [str(line["Mã"]) for line in lines] == [str(r["code"]) for r in rows]
    assert [int(line["Số Tổ đang hoạt động"]) for line in lines] == [r["teams_active"] for r in rows]
    assert [int(line["Số thành viên"]) for line in lines] == [r["members_active"] for r in rows]
    if name == "communes":
        assert len(lines) == 14


def test_the_renderers_run_no_query(many, django_assert_num_queries):
    rows = selectors.communes(user=many.minh, province_code="01")
    lines = export_rows(rows, selectors.activity_type_names())
    with django_assert_num_queries(0):
        text = CSVRenderer().render(lines).decode("utf-8-sig")
        workbook = XLSXRenderer().render(lines)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(rows) == 14
    assert len(list(load_workbook(io.BytesIO(workbook)).active.values)) == 15  # the header, then every row
    # Every activity type heads its own columns, by its Vietnamese name.
    for name_vi in ActivityType.objects.values_list("name_vi", flat=True):
        assert f"Hoạt động - {name_vi}" in parsed[0]
