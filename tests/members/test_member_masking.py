"""members.masking and the members API: national id and phone masked by role and scope."""

from __future__ import annotations

import pytest

from members.models import Member
from tests.members.support import URL

pytestmark = pytest.mark.django_db


def test_national_id_is_masked_except_for_the_province_admin(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    Member.objects.filter(pk=member.pk).update(national_id="079012345678")
    url = f"{URL}{member.pk}/"
    assert api(world.lan).get(url).data["national_id"] == "079012345678"
    for persona in ("hoa", "tuan", "minh"):
        assert api(getattr(world, persona)).get(url).data["national_id"] == "********5678"
    assert api(world.minh).get(url).data["phone"] == member.phone[:3] + "****" + member.phone[-3:]
    assert api(world.hoa).get(url).data["phone"] == member.phone
    listed = api(world.hoa).get(URL, {"team": str(world.teams.a1.pk)}).data["results"]
    assert "079012345678" not in str(listed)


def test_phone_is_shown_only_to_managers_in_scope():
    from types import SimpleNamespace

    from members.masking import sees_phone

    member = SimpleNamespace(province_id=1, commune_id=10, team_id="t1")
    assert sees_phone(SimpleNamespace(role="province_admin", province_id=1), member)
    assert not sees_phone(SimpleNamespace(role="province_admin", province_id=2), member)
    assert sees_phone(SimpleNamespace(role="commune_officer", commune_id=10), member)
    assert not sees_phone(SimpleNamespace(role="commune_officer", commune_id=11), member)
    assert sees_phone(SimpleNamespace(role="team_leader", team_id="t1"), member)
    assert not sees_phone(SimpleNamespace(role="team_leader", team_id="t2"), member)
    assert not sees_phone(SimpleNamespace(role="ministry"), member)
