"""CSV and XLSX exports (?format=) of the coverage APIs: same numbers as the JSON, scoped, Vietnamese headers."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.coverage.support import BASE

pytestmark = pytest.mark.django_db


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


def test_every_export_header_is_vietnamese(figures, api):
    from coverage.exports import HEADERS

    client = api(figures.minh)
    for path in ("national/", "provinces/", "provinces/01/", "provinces/01/communes/", "communes/00001/"):
        text = client.get(f"{BASE}{path}", {"format": "csv"}).content.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
        untranslated = [h for h in header if h in HEADERS or h.isascii()]
        assert untranslated == [], (path, untranslated)
    assert "Số liệu đang chờ tính lại" in header


def _cells(response) -> list[list]:
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "path", ["national/", "provinces/", "provinces/01/", "provinces/01/communes/", "communes/00001/"]
)
def test_the_export_operation_gives_the_file_of_format(figures, api, path, fmt):
    """GET …/export/{csv|xlsx}/ (the schema's export operations) is the same file as ?format= on the JSON URL."""
    client = api(figures.minh)
    twin = client.get(f"{BASE}{path}export/{fmt}/")
    alias = client.get(f"{BASE}{path}", {"format": fmt})
    assert twin.status_code == alias.status_code == 200
    assert twin["Content-Type"] == alias["Content-Type"] != "application/json"
    assert twin["Content-Disposition"] == alias["Content-Disposition"]
    assert _cells(twin) == _cells(alias)
    assert len(_cells(twin)) > 1


def test_an_export_operation_answers_errors_in_json(figures, api):
    response = api(figures.binh).get(f"{BASE}provinces/01/communes/export/xlsx/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert api(figures.minh).get(f"{BASE}national/export/pdf/").status_code == 404
