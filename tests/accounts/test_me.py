"""GET /me/ for every role."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("minh", {"role": "ministry", "province": None, "commune": None, "team": None}),
        ("lan", {"role": "province_admin", "province": "01", "commune": None, "team": None}),
        ("hoa", {"role": "commune_officer", "province": "01", "commune": "00001", "team": None}),
        ("nobody", {"role": "province_admin", "province": None, "commune": None, "team": None}),
    ],
)
def test_me_reports_role_and_scope(world, api, persona, expected):
    user = getattr(world, persona)
    response = api(user).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.data == {"phone": user.phone, **expected}
