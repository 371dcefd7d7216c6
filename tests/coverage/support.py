"""Shared fixtures and helpers of the coverage API tests."""

from __future__ import annotations

import pytest

from coverage import services
from tests.factories import CommuneFactory

BASE = "/api/v1/coverage/"


@pytest.fixture
def figures(world):
    CommuneFactory(code="00009", province=world.b, name="Xã Chưa Có Tổ")
    services.recompute_all()
    return world


def _active_counts(**where) -> tuple[int, int]:
    """(active teams, active members) straight from the registry rows, not from the figures."""
    from members.models import Member
    from teams.models import Team, TeamStatus

    teams = Team.objects.filter(status=TeamStatus.ACTIVE, **where).count()
    members = Member.objects.filter(active=True, team__status=TeamStatus.ACTIVE, **where).count()
    return teams, members
