"""DELETE /api/v1/members/{id}/: leaving keeps the history and frees the phone."""

from __future__ import annotations

import pytest
from django.utils import timezone

from members.models import Member
from tests.members.support import URL

pytestmark = pytest.mark.django_db


def test_leaving_keeps_history_and_frees_the_phone(world, api):
    member = world.teams.a1.members.exclude(role="leader").first()
    response = api(world.tuan).delete(f"{URL}{member.pk}/")
    assert response.status_code == 200
    assert response.data["active"] is False and response.data["left_on"] == str(timezone.localdate())
    assert Member.objects.filter(pk=member.pk).exists()
    world.teams.a1.refresh_from_db()
    assert world.teams.a1.member_count == 3 and world.teams.a1.size_status == "under"
    # The same person may now join another team.
    rejoin = api(world.hai).post(URL, {"team": str(world.teams.a2.pk), "full_name": "X", "phone": member.phone})
    assert rejoin.status_code == 201
    # A retry of the leave changes nothing.
    assert api(world.tuan).delete(f"{URL}{member.pk}/").data["left_on"] == str(timezone.localdate())
