"""/api/v1/hamlets/: detail scope, filters, create, update and delete, and the coverage marks of its writes."""

import pytest

from tests.areas.support import codes

pytestmark = pytest.mark.django_db


def test_hamlet_detail_out_of_scope_is_404(world, api):
    assert api(world.hoa).get(f"/api/v1/hamlets/{world.hamlets.a1.pk}/").status_code == 200
    assert api(world.hoa).get(f"/api/v1/hamlets/{world.hamlets.a2.pk}/").status_code == 404
    assert api(world.binh).get(f"/api/v1/hamlets/{world.hamlets.a1.pk}/").status_code == 404


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
        assert response.data["errors"]["commune"]


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
    assert response.status_code == 400 and response.data["errors"]["active"]
