"""The area APIs on either map (?map=2024|2025), and the crosswalk: successors and predecessors."""

import pytest

from tests.areas.old_map import build_old_map
from tests.areas.support import codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def old(world):
    return build_old_map(world)


def test_the_default_map_is_the_current_one_and_says_so(world, old, api):
    client = api(world.minh)
    assert codes(client.get("/api/v1/provinces/")) == ["01", "02"]
    assert codes(client.get("/api/v1/communes/")) == ["00001", "00002", "00003"]
    assert {p["map"] for p in client.get("/api/v1/provinces/").data["results"]} == {"2025"}
    assert codes(client.get("/api/v1/provinces/", {"map": "2025"})) == ["01", "02"]


def test_the_old_map_lists_its_own_units_with_district_and_successor(world, old, api):
    client = api(world.minh)
    provinces = client.get("/api/v1/provinces/", {"map": "2024"}).data["results"]
    assert [(p["code"], p["map"], p["successor"]) for p in provinces] == [
        ("01", "2024", "01"),
        ("03", "2024", "02"),
        ("28", "2024", "01"),
    ]
    communes = client.get("/api/v1/communes/", {"map": "2024"}).data["results"]
    assert [(c["code"], c["map"], c["province"], c["district"]) for c in communes] == [
        ("00001", "2024", "01", "001"),
        ("00004", "2024", "01", "001"),
        ("00500", "2024", "03", "040"),
        ("09999", "2024", "28", "270"),
        ("318", "2024", "03", "318"),
    ]
    assert communes[0]["valid_to"] == "2025-07-01"
    assert codes(client.get("/api/v1/communes/", {"map": "2024", "district": "001"})) == ["00001", "00004"]
    assert codes(client.get("/api/v1/communes/", {"map": "2024", "province": "28"})) == ["09999"]
    # Names are searched as on the current map: any tone placement or none.
    assert codes(client.get("/api/v1/communes/", {"map": "2024", "search": "truc bach"})) == ["00004"]
    assert codes(client.get("/api/v1/communes/", {"map": "2024", "search": "TRÚC BẠCH"})) == ["00004"]
    assert codes(client.get("/api/v1/communes/", {"search": "truc bach"})) == []


def test_a_code_on_both_maps_is_resolved_by_its_map(world, old, api):
    client = api(world.minh)
    new = client.get("/api/v1/communes/00001/").data
    was = client.get("/api/v1/communes/00001/", {"map": "2024"}).data
    assert (new["name"], new["map"], new["district"]) == (world.a1.name, "2025", None)
    assert (was["name"], was["map"], was["district_name"]) == ("Phường Phúc Xá", "2024", "Quận Ba Đình")
    assert client.get("/api/v1/provinces/01/", {"map": "2024"}).data["name"] == "Thành phố Hà Nội Cũ"
    assert client.get("/api/v1/provinces/01/").data["name"] == world.a.name
    # A unit of one map is not on the other.
    assert client.get("/api/v1/communes/00004/").status_code == 404
    assert client.get("/api/v1/provinces/28/").status_code == 404
    assert client.get("/api/v1/communes/00002/", {"map": "2024"}).status_code == 404
    # The island district keeps its 3-digit code, on the old map only.
    assert client.get("/api/v1/communes/318/", {"map": "2024"}).data["kind"] == "huyen_dao"
    assert client.get("/api/v1/communes/318/").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/provinces/", "/api/v1/communes/", "/api/v1/communes/00001/successors/"])
def test_an_unknown_map_is_a_400_on_map_in_vietnamese(world, api, url):
    response = api(world.minh).get(url, {"map": "2019"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["map"]
    assert "không phải là một lựa chọn hợp lệ" in response.json()["errors"]["map"][0]


def test_successors_of_a_whole_and_a_divided_commune(world, old, api):
    client = api(world.minh)
    whole = client.get("/api/v1/communes/00001/successors/", {"map": "2024"}).data
    assert (whole["commune"]["name"], whole["commune"]["map"]) == ("Phường Phúc Xá", "2024")
    assert [(s["commune"]["code"], s["commune"]["map"], s["whole"], s["is_default"]) for s in whole["successors"]] == [
        ("00001", "2025", True, True)
    ]
    divided = client.get("/api/v1/communes/00004/successors/", {"map": "2024"}).data
    assert [(s["commune"]["code"], s["whole"], s["is_default"]) for s in divided["successors"]] == [
        ("00001", False, True),
        ("00002", False, False),
    ]
    # A commune of the current map has no successors yet.
    assert client.get("/api/v1/communes/00001/successors/").data["successors"] == []


def test_predecessors_of_a_new_commune(world, old, api):
    client = api(world.minh)
    a1 = client.get("/api/v1/communes/00001/predecessors/").data
    assert a1["commune"]["name"] == world.a1.name
    assert [(p["commune"]["code"], p["commune"]["map"], p["whole"], p["is_default"]) for p in a1["predecessors"]] == [
        ("00001", "2024", True, True),
        ("00004", "2024", False, True),
    ]
    b1 = client.get("/api/v1/communes/00003/predecessors/").data
    assert [(p["commune"]["code"], p["commune"]["kind"]) for p in b1["predecessors"]] == [
        ("00500", "xa"),
        ("318", "huyen_dao"),
    ]
    assert client.get("/api/v1/communes/00001/predecessors/", {"map": "2024"}).data["predecessors"] == []


# persona -> old provinces and old communes it sees: those that became part of its province or commune.
OLD_VISIBLE = {
    "minh": (["01", "03", "28"], ["00001", "00004", "00500", "09999", "318"]),
    "lan": (["01", "28"], ["00001", "00004", "09999"]),
    "binh": (["03"], ["00500", "318"]),
    "hoa": (["01", "28"], ["00001", "00004"]),
    "hai": (["01", "28"], ["00004", "09999"]),
    "nobody": ([], []),
}


@pytest.mark.parametrize("persona", OLD_VISIBLE)
def test_old_units_are_in_the_scope_of_what_they_became(world, old, api, persona):
    client = api(getattr(world, persona))
    provinces, communes = OLD_VISIBLE[persona]
    assert codes(client.get("/api/v1/provinces/", {"map": "2024"})) == provinces
    listed = client.get("/api/v1/communes/", {"map": "2024"})
    assert codes(listed) == communes
    assert listed.data["count"] == len(communes)  # a divided commune is listed once
    for code in ["00001", "00004", "00500", "09999", "318"]:
        expected = 200 if code in communes else 404
        assert client.get(f"/api/v1/communes/{code}/", {"map": "2024"}).status_code == expected
        assert client.get(f"/api/v1/communes/{code}/successors/", {"map": "2024"}).status_code == expected


def test_out_of_scope_predecessors_are_a_404(world, old, api):
    assert api(world.binh).get("/api/v1/communes/00001/predecessors/").status_code == 404
    assert api(world.hoa).get("/api/v1/communes/00002/predecessors/").status_code == 404
    assert api(world.hoa).get("/api/v1/communes/00001/predecessors/").status_code == 200


def test_old_map_reads_are_fixed_query_counts(world, old, api, django_assert_num_queries):
    client = api(world.lan)
    # 1: count; 2: the page of old provinces in scope, each joined with its successor.
    with django_assert_num_queries(2):
        assert client.get("/api/v1/provinces/", {"map": "2024"}).data["count"] == 2
    # 1: count; 2: the page of old communes in scope, joined with province and district.
    with django_assert_num_queries(2):
        assert client.get("/api/v1/communes/", {"map": "2024"}).data["count"] == 3
    # Current map: the same counts.
    with django_assert_num_queries(2):
        assert client.get("/api/v1/communes/").data["count"] == 2
    # 1: the old commune in scope; 2: its links joined with the new communes, their provinces and districts.
    with django_assert_num_queries(2):
        client.get("/api/v1/communes/00004/successors/", {"map": "2024"})
    with django_assert_num_queries(2):
        client.get("/api/v1/communes/00001/predecessors/")
