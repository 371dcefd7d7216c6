"""Coverage APIs: scope, field names, filters, ordering, freshness flag, history and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from areas.changes import communes_changed
from coverage import services
from tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/coverage/"


@pytest.fixture
def figures(world):
    CommuneFactory(code="00009", province=world.b, name="Xã Chưa Có Tổ")
    services.recompute_all()
    return world


@pytest.mark.parametrize(
    ("persona", "national", "provinces", "province_a", "communes_a", "commune_a1", "commune_b1"),
    [
        ("minh", 200, ["01", "02"], 200, 200, 200, 200),
        ("lan", 404, ["01"], 200, 200, 200, 404),
        ("binh", 404, ["02"], 404, 404, 404, 200),
        ("hoa", 404, ["01"], 200, 200, 200, 404),
        ("tuan", 404, ["01"], 200, 200, 200, 404),
        ("nobody", 404, [], 404, 404, 404, 404),
    ],
)
def test_scope(figures, api, persona, national, provinces, province_a, communes_a, commune_a1, commune_b1):
    client = api(getattr(figures, persona))
    assert client.get(f"{BASE}national/").status_code == national
    listed = client.get(f"{BASE}provinces/")
    assert [p["code"] for p in listed.data["results"]] == provinces
    assert client.get(f"{BASE}provinces/01/").status_code == province_a
    assert client.get(f"{BASE}provinces/01/communes/").status_code == communes_a
    assert client.get(f"{BASE}communes/00001/").status_code == commune_a1
    assert client.get(f"{BASE}communes/00003/").status_code == commune_b1


def test_commune_officer_sees_only_their_commune_in_the_province_list(figures, api):
    rows = api(figures.hoa).get(f"{BASE}provinces/01/communes/").data["results"]
    assert [r["code"] for r in rows] == ["00001"]


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


def test_exports_hold_the_same_numbers_as_json(figures, api):
    client = api(figures.minh)
    rows = client.get(f"{BASE}provinces/").data["results"]
    csv_response = client.get(f"{BASE}provinces/", {"format": "csv"})
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    text = csv_response.content.decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["Mã"] for r in parsed] == [r["code"] for r in rows]
    assert [int(r["Số Tổ đang hoạt động"]) for r in parsed] == [r["teams_active"] for r in rows]
    assert [int(r["Số thành viên"]) for r in parsed] == [r["members_active"] for r in rows]
    assert [int(r["Thành viên - Tổ trưởng"]) for r in parsed] == [r["members_by_role"]["leader"] for r in rows]

    xlsx_response = client.get(f"{BASE}provinces/02/communes/", {"format": "xlsx"})
    assert xlsx_response.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    header, *lines = list(sheet.values)
    communes = client.get(f"{BASE}provinces/02/communes/").data["results"]
    assert len(lines) == len(communes)
    col = {name: header.index(name) for name in ("Mã", "Số Tổ đang hoạt động", "Có Tổ", "Tổng số thôn, tổ dân phố")}
    assert [line[col["Mã"]] for line in lines] == [c["code"] for c in communes]
    assert [line[col["Số Tổ đang hoạt động"]] for line in lines] == [c["teams_active"] for c in communes]
    assert [line[col["Có Tổ"]] for line in lines] == ["Có" if c["covered"] else "Không" for c in communes]
    national_csv = client.get(f"{BASE}national/", {"format": "csv"}).content.decode("utf-8-sig")
    assert next(csv.DictReader(io.StringIO(national_csv)))["Số tỉnh phủ kín cấp xã"] == "1"


def test_exports_are_scoped(figures, api):
    response = api(figures.binh).get(f"{BASE}provinces/01/communes/", {"format": "csv"})
    assert response.status_code == 404


def _active_counts(**where) -> tuple[int, int]:
    """(active teams, active members) straight from the registry rows, not from the figures."""
    from members.models import Member
    from teams.models import Team, TeamStatus

    teams = Team.objects.filter(status=TeamStatus.ACTIVE, **where).count()
    members = Member.objects.filter(active=True, team__status=TeamStatus.ACTIVE, **where).count()
    return teams, members


def test_national_query_count(figures, api, django_assert_num_queries):
    from areas.models import Commune, Province

    for _ in range(10):
        CommuneFactory(province=figures.b)
    services.recompute_all()
    # the national row, current provinces with their current communes counted and their covered communes,
    # outbox marks
    with django_assert_num_queries(3):
        response = api(figures.minh).get(f"{BASE}national/")
    assert response.status_code == 200
    assert response.data["communes_total"] == Commune.objects.current().count() == 14
    assert response.data["provinces_total"] == Province.objects.current().count()
    assert (response.data["teams_active"], response.data["members_active"]) == _active_counts()
    assert response.data["stale"] is False


def test_coverage_list_query_count(figures, api, django_assert_num_queries):
    from areas.models import Commune

    for _ in range(10):
        CommuneFactory(province=figures.a)
    services.recompute_all()
    client = api(figures.minh)
    # current provinces in scope with their current communes counted, province figures, outbox marks,
    # the national row's valid_until
    with django_assert_num_queries(4):
        provinces = client.get(f"{BASE}provinces/")
    assert provinces.status_code == 200
    rows = provinces.data["results"]
    assert [r["code"] for r in rows] == ["01", "02"]
    for row, province in zip(rows, (figures.a, figures.b), strict=True):
        assert row["communes_total"] == Commune.objects.current().filter(province=province).count()
        assert (row["teams_active"], row["members_active"]) == _active_counts(province=province)
    assert rows[0]["communes_total"] == 12
    # the province in scope, current communes with their provinces, commune figures, outbox marks,
    # the national row's valid_until
    with django_assert_num_queries(5):
        communes = client.get(f"{BASE}provinces/01/communes/", {"page_size": 100})
    assert communes.status_code == 200
    rows = communes.data["results"]
    expected = Commune.objects.current().filter(province=figures.a).order_by("code")
    assert [r["code"] for r in rows] == list(expected.values_list("code", flat=True))
    for row, commune in zip(rows, expected, strict=True):
        assert (row["teams_active"], row["members_active"]) == _active_counts(commune=commune)
        assert row["covered"] is (row["teams_active"] > 0)
    assert sum(r["teams_active"] for r in rows) == 2


def test_the_commune_export_holds_its_own_figures_and_its_hamlets(figures, api):
    client = api(figures.hoa)
    data = client.get(f"{BASE}communes/00001/").data
    response = client.get(f"{BASE}communes/00001/", {"format": "xlsx"})
    assert response.status_code == 200
    header, *lines = list(load_workbook(io.BytesIO(response.content)).active.values)
    col = {name: header.index(name) for name in ("Cấp", "Mã", "Tên", "Số Tổ đang hoạt động", "Có Tổ")}
    own, *hamlets = lines
    assert (own[col["Mã"]], own[col["Tên"]], own[col["Số Tổ đang hoạt động"]]) == (
        data["code"],
        data["name"],
        data["teams_active"],
    )
    assert [(line[col["Tên"]], line[col["Có Tổ"]]) for line in hamlets] == [
        (h["name"], "Có" if h["covered"] else "Không") for h in data["hamlets"]
    ]
    assert own[col["Cấp"]] != hamlets[0][col["Cấp"]]
    text = client.get(f"{BASE}communes/00001/", {"format": "csv"}).content.decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["Mã"] for r in parsed] == [data["code"], *[str(h["id"]) for h in data["hamlets"]]]


def test_every_export_header_is_vietnamese(figures, api):
    from coverage.exports import HEADERS

    client = api(figures.minh)
    for path in ("national/", "provinces/", "provinces/01/", "provinces/01/communes/", "communes/00001/"):
        text = client.get(f"{BASE}{path}", {"format": "csv"}).content.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
        untranslated = [h for h in header if h in HEADERS or h.isascii()]
        assert untranslated == [], (path, untranslated)
    assert "Số liệu đang chờ tính lại" in header


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


def test_the_schema_declares_the_coverage_responses_and_their_pagination(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    listed = paths["/api/v1/coverage/provinces/{code}/communes/"]["get"]
    ok = listed["responses"]["200"]["content"]
    reference = ok["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    envelope = schema["components"]["schemas"][reference]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
    assert listed["operationId"].endswith("_list")
    assert ok["text/csv"]["schema"]["format"] == "binary"
    national = paths["/api/v1/coverage/national/"]["get"]["responses"]["200"]["content"]["application/json"]
    fields = schema["components"]["schemas"][national["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert {"provinces_total", "communes_total", "stale", "computed_at"} <= set(fields)


def test_exports_name_unit_kinds_in_vietnamese(figures, api):
    text = api(figures.hoa).get(f"{BASE}communes/00001/", {"format": "csv"}).content.decode("utf-8-sig")
    kinds = [r["Loại"] for r in csv.DictReader(io.StringIO(text))]
    assert kinds == [figures.a1.get_kind_display(), figures.hamlets.a1.get_kind_display()]
