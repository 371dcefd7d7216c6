"""seed_demo: the demo logins and data of `make run`, safe to run again on the next start."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from teams.models import Team

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_keeps_one_copy_and_prints_the_logins(settings):
    settings.DEBUG = True
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    first = StringIO()
    call_command("seed_demo", stdout=first, stderr=StringIO())
    teams = Team.objects.count()
    assert teams > 0
    second = StringIO()
    call_command("seed_demo", stdout=second, stderr=StringIO())
    assert Team.objects.count() == teams
    assert User.objects.filter(phone="0900000003", role="commune_officer", commune__code="00226").exists()
    assert "Demo logins" in second.getvalue() and "/api/docs/" in second.getvalue()


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
