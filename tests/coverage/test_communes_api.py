"""GET /api/v1/coverage/communes/{code}/: the commune's export with its own figures, its hamlets and their kinds."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.coverage.support import BASE

pytestmark = pytest.mark.django_db


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


def test_exports_name_unit_kinds_in_vietnamese(figures, api):
    text = api(figures.hoa).get(f"{BASE}communes/00001/", {"format": "csv"}).content.decode("utf-8-sig")
    kinds = [r["Loại"] for r in csv.DictReader(io.StringIO(text))]
    assert kinds == [figures.a1.get_kind_display(), figures.hamlets.a1.get_kind_display()]
