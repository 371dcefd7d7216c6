"""Shared helpers of the coverage API tests (the `figures` fixture is in conftest.py)."""

from __future__ import annotations

BASE = "/api/v1/coverage/"


def _active_counts(**where) -> tuple[int, int]:
    """(active teams, active members) straight from the registry rows, not from the figures."""
    from members.models import Member
    from teams.models import Team, TeamStatus

    teams = Team.objects.filter(status=TeamStatus.ACTIVE, **where).count()
    members = Member.objects.filter(active=True, team__status=TeamStatus.ACTIVE, **where).count()
    return teams, members
