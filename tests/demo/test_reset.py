"""The demo reset: explicit deletes in dependency order, one statement per table, and nothing it does not know."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from activities.models import LifetimeTally, QuarterTally
from areas.models import DirtyCommune, Hamlet
from demo.reset import registry_delete
from members.models import Member
from teams.models import Team

pytestmark = pytest.mark.django_db

# Every foreign key from outside the registry into it, and how registry_delete() clears it.
HANDLED = {
    ("activities.Activity", "team"): "deleted first",
    ("activities.Activity", "hamlet"): "deleted first",
    ("activities.QuarterTally", "team"): "deleted after the activities",
    ("activities.LifetimeTally", "team"): "deleted after the activities",
    ("accounts.User", "team"): "a team leader's login is deleted",
}


def test_every_reference_into_the_registry_is_one_the_reset_clears():
    registry = (Member, Team, Hamlet)
    found = set()
    for model in apps.get_models():
        if model in registry:
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in registry:
                found.add((model._meta.label, field.name))
    # A new app pointing at a team, member or hamlet must be added to demo.reset.registry_delete, and here.
    assert found == set(HANDLED)


def test_reset_is_one_statement_per_table_without_loading_rows(django_assert_num_queries):
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    call_command("generate_demo", scale="commune", seed=1, stdout=StringIO(), stderr=StringIO())
    assert Member.objects.exists() and DirtyCommune.objects.exists()

    # DELETE activities; DELETE both tallies; SELECT the team-leader logins (none); DELETE members; DELETE
    # teams; DELETE hamlets; DELETE the outbox.
    with django_assert_num_queries(8):
        registry_delete()

    assert not (Member.objects.exists() or Team.objects.exists() or Hamlet.objects.exists())
    assert not (LifetimeTally.objects.exists() or QuarterTally.objects.exists())
    assert not DirtyCommune.objects.exists()
