"""The create_account management command with a team: it sets the leader's login."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_create_account_with_team_sets_the_leader_login(world):
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import User

    call_command(
        "create_account",
        phone="0999999999",
        password="mot-mat-khau-dai",
        role="team_leader",
        team=str(world.teams.b1.pk),
        stdout=StringIO(),
    )
    leader = world.teams.b1.members.get(role="leader")
    user = User.objects.get(phone=leader.phone)
    assert (user.role, user.team_id) == ("team_leader", world.teams.b1.pk)
    assert user.check_password("mot-mat-khau-dai")
