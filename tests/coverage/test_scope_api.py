"""Scope across the coverage APIs: national, provinces, a province, its communes and a commune, per role."""

from __future__ import annotations

import pytest

from tests.coverage.support import BASE

pytestmark = pytest.mark.django_db


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
