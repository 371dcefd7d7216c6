"""Scope across the area APIs (provinces, communes, hamlets): each role lists and reads only its own units."""

import pytest

from tests.areas.support import codes

pytestmark = pytest.mark.django_db


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
