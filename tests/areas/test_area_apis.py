"""Provinces, communes and hamlets through the API, for every role: own scope, sibling scope, no scope."""

import pytest

pytestmark = pytest.mark.django_db


def codes(response):
    assert response.status_code == 200, response.data
    return sorted(item.get("code") or item.get("name") for item in response.data["results"])


# persona -> (provinces, communes, hamlets) that persona sees
VISIBLE = {
    "minh": (["01", "02"], ["00001", "00002", "00003"], ["Thôn Nam", "Thôn Tây", "Thôn Đông"]),
    "lan": (["01"], ["00001", "00002"], ["Thôn Tây", "Thôn Đông"]),
    "binh": (["02"], ["00003"], ["Thôn Nam"]),
    "hoa": (["01"], ["00001"], ["Thôn Đông"]),
    "hai": (["01"], ["00002"], ["Thôn Tây"]),
    "tuan": (["01"], ["00001"], ["Thôn Đông"]),
    "nobody": ([], [], []),
}


@pytest.mark.parametrize("persona", VISIBLE)
def test_lists_show_only_units_in_scope(world, api, persona):
    client = api(getattr(world, persona))
    provinces, communes, hamlets = VISIBLE[persona]
    assert codes(client.get("/api/v1/provinces/")) == provinces
    assert codes(client.get("/api/v1/communes/")) == communes
    assert codes(client.get("/api/v1/hamlets/")) == sorted(hamlets)


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("lan", "/api/v1/provinces/01/", 200),
        ("lan", "/api/v1/provinces/02/", 404),
        ("lan", "/api/v1/communes/00003/", 404),
        ("hoa", "/api/v1/communes/00001/", 200),
        ("hoa", "/api/v1/communes/00002/", 404),
        ("nobody", "/api/v1/provinces/01/", 404),
        ("tuan", "/api/v1/communes/00001/", 200),
        ("tuan", "/api/v1/communes/00002/", 404),
        ("minh", "/api/v1/communes/00003/", 200),
        ("minh", "/api/v1/communes/99999/", 404),
    ],
)
def test_details_out_of_scope_are_404(world, api, persona, url, status):
    assert api(getattr(world, persona)).get(url).status_code == status


def test_hamlet_detail_out_of_scope_is_404(world, api):
    assert api(world.hoa).get(f"/api/v1/hamlets/{world.hamlets.a1.pk}/").status_code == 200
    assert api(world.hoa).get(f"/api/v1/hamlets/{world.hamlets.a2.pk}/").status_code == 404
    assert api(world.binh).get(f"/api/v1/hamlets/{world.hamlets.a1.pk}/").status_code == 404


def test_commune_filters_and_search(world, api):
    client = api(world.minh)
    assert codes(client.get("/api/v1/communes/", {"province": "01"})) == ["00001", "00002"]
    # Tone placement and case do not matter ("Hoà" is stored, "HÒA" typed); no tones at all matches too.
    assert codes(client.get("/api/v1/communes/", {"search": "HÒA BÌNH"})) == ["00001"]
    assert codes(client.get("/api/v1/communes/", {"search": "thụy"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "binh"})) == ["00001", "00003"]
    # A different tone is a different word.
    assert codes(client.get("/api/v1/communes/", {"search": "hóa bình"})) == []


def test_hamlet_list_filters_by_commune(world, api):
    assert codes(api(world.lan).get("/api/v1/hamlets/", {"commune": "00002"})) == ["Thôn Tây"]
    assert codes(api(world.lan).get("/api/v1/hamlets/", {"commune": "00003"})) == []


@pytest.mark.parametrize(
    ("persona", "commune", "status"),
    [
        ("hoa", "00001", 201),
        ("hoa", "00002", 400),
        ("lan", "00002", 201),
        ("lan", "00003", 400),
        ("binh", "00003", 201),
        ("minh", "00001", 400),
        ("tuan", "00001", 400),
        ("nobody", "00001", 400),
    ],
)
def test_hamlet_create_is_refused_out_of_scope(world, api, persona, commune, status):
    from areas.models import Hamlet

    before = Hamlet.objects.count()
    response = api(getattr(world, persona)).post(
        "/api/v1/hamlets/", {"commune": commune, "name": "Tổ dân phố Mới", "kind": "to_dan_pho"}
    )
    assert response.status_code == status, response.data
    assert Hamlet.objects.count() == before + (1 if status == 201 else 0)
    if status == 400:
        assert "commune" in response.data


@pytest.mark.parametrize("persona", ["hai", "binh", "minh", "nobody"])
def test_hamlet_update_and_delete_out_of_scope_are_refused(world, api, persona):
    client = api(getattr(world, persona))
    url = f"/api/v1/hamlets/{world.hamlets.a1.pk}/"
    patched = client.patch(url, {"name": "Đổi tên"})
    deleted = client.delete(url)
    expected = 403 if persona == "minh" else 404
    assert patched.status_code in {404, expected}
    assert deleted.status_code in {404, expected}
    world.hamlets.a1.refresh_from_db()
    assert world.hamlets.a1.name == "Thôn Đông" and world.hamlets.a1.active


def test_deleting_a_hamlet_served_by_an_active_team_is_409(world, api):
    response = api(world.hoa).delete(f"/api/v1/hamlets/{world.hamlets.a1.pk}/")
    assert response.status_code == 409
    assert response.data["code"] == "hamlet_in_use"
    world.hamlets.a1.refresh_from_db()
    assert world.hamlets.a1.active


def test_hamlet_update_and_delete_in_scope(world, api):
    from tests.factories import HamletFactory

    free = HamletFactory(commune=world.a1, name="Thôn Không Tổ")
    client = api(world.hoa)
    url = f"/api/v1/hamlets/{free.pk}/"
    response = client.patch(url, {"name": "  Thôn   Đông Mới ", "kind": "xom"})
    assert response.status_code == 200, response.data
    assert (response.data["name"], response.data["kind"], response.data["kind_label"]) == (
        "Thôn Đông Mới",
        "xom",
        "Xóm",
    )
    assert client.delete(url).status_code == 204
    retired = client.get(url).data
    assert retired["active"] is False and retired["valid_to"] is not None
    # Retired hamlets leave the active list but keep their history.
    assert codes(client.get("/api/v1/hamlets/", {"active": "true"})) == ["Thôn Đông"]


def test_writes_mark_the_commune_for_coverage(world, api):
    from areas.models import DirtyCommune

    DirtyCommune.objects.all().delete()
    api(world.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Bắc", "kind": "thon"})
    api(world.hai).patch(f"/api/v1/hamlets/{world.hamlets.a2.pk}/", {"kind": "xom"})
    assert set(DirtyCommune.objects.values_list("commune__code", flat=True)) == {"00001", "00002"}


def test_list_query_count_does_not_grow_with_page_size(world, api, django_assert_num_queries):
    from tests.factories import HamletFactory

    HamletFactory.create_batch(30, commune=world.a1)
    client = api(world.minh)
    # 1: count, 2: page of hamlets joined with commune and province.
    with django_assert_num_queries(2):
        small = client.get("/api/v1/hamlets/", {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get("/api/v1/hamlets/", {"page_size": 40})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 33
    with django_assert_num_queries(2):
        client.get("/api/v1/communes/", {"page_size": 3})


def test_province_list_and_every_detail_are_fixed_query_counts(world, api, django_assert_num_queries):
    from tests.factories import ProvinceFactory

    ProvinceFactory.create_batch(5)
    client = api(world.minh)
    # 1: count; 2: the page of current provinces.
    with django_assert_num_queries(2):
        listed = client.get("/api/v1/provinces/", {"page_size": 3})
    assert listed.data["count"] == 7 and len(listed.data["results"]) == 3
    # 1: the current province in scope.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/provinces/01/").data["name"] == world.a.name
    # 1: the current commune in scope joined with its province.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/communes/00002/").data["province"] == "01"
    # 1: the hamlet in scope joined with its commune and province.
    with django_assert_num_queries(1):
        assert client.get(f"/api/v1/hamlets/{world.hamlets.b1.pk}/").data["commune"] == "00003"


def test_commune_filters_match_the_database(world, api):
    from areas.models import Commune

    client = api(world.minh)
    assert codes(client.get("/api/v1/communes/", {"province": "01"})) == sorted(
        Commune.objects.filter(province=world.a).values_list("code", flat=True)
    )
    # Typed without tones, every tone matches; with tones, they must match.
    assert codes(client.get("/api/v1/communes/", {"search": "thuy khue"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "Thụy Khuê"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "Thúy Khuê"})) == []
    # Codes match as typed, as they always have.
    assert codes(client.get("/api/v1/communes/", {"province": " 01"})) == []


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("true", ["Thôn Đông"]),
        ("1", ["Thôn Đông"]),
        ("yes", ["Thôn Đông"]),
        ("TRUE", ["Thôn Đông"]),
        ("false", ["Thôn Cũ"]),
        ("0", ["Thôn Cũ"]),
        ("no", ["Thôn Cũ"]),
    ],
)
def test_hamlet_active_reads_the_usual_boolean_spellings(world, api, value, names):
    from tests.factories import HamletFactory

    HamletFactory(commune=world.a1, name="Thôn Cũ", active=False)
    assert codes(api(world.hoa).get("/api/v1/hamlets/", {"active": value})) == names


def test_hamlet_active_that_is_no_boolean_is_a_400(world, api):
    response = api(world.hoa).get("/api/v1/hamlets/", {"active": "perhaps"})
    assert response.status_code == 400 and "active" in response.data
