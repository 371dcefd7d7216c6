"""generate_demo --map 2024 --as-of 2024-03-31 reproduces the ministry's Q1/2024 figures on the 2024 map, and the
same registry, carried through the crosswalk, is reported on the 2025 map (docs/coverage.md shows both)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max, Min

from accounts.scoping import Role
from areas.models import Hamlet
from teams.models import Team
from tests.coverage.old_map_sql import expected_nation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AS_OF = "2024-03-31"


@pytest.fixture
def q1_2024():
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command(
        "generate_demo", scale="national", map_key="2024", as_of=dt.date(2024, 3, 31), stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def test_the_2024_map_gives_the_published_figures_and_the_2025_map_the_same_registry(q1_2024, api):
    minh = api(UserFactory(phone="0900000001", role=Role.MINISTRY))
    then = minh.get("/api/v1/coverage/national/", {"map": "2024", "as_of": AS_OF}).data
    assert then["teams_active"] == 81_415
    assert 390_000 <= then["members_active"] <= 400_000
    assert (then["provinces_complete"], then["provinces_total"]) == (55, 63)
    # Exact, not bounds: every hamlet and commune-level team was carried with its old commune.
    assert then["teams_unattributed"] == 0
    assert then["provinces_complete_max"] == 55 and then["communes_covered_max"] == then["communes_covered"]
    sizes = Team.objects.aggregate(low=Min("member_count"), high=Max("member_count"))
    assert (sizes["low"], sizes["high"]) == (4, 9)
    # The registry is dated up to the day it describes.
    assert Team.objects.aggregate(last=Max("established_on"))["last"] <= dt.date(2024, 3, 31)
    assert not Hamlet.objects.filter(old_commune__isnull=True).exists()

    # The current figures on the 2024 map equal an independent SQL over the same rows.
    now = minh.get("/api/v1/coverage/national/", {"map": "2024"}).data
    sql = expected_nation()
    assert {name: now[name] for name in sql} == sql

    # The same registry on the 2025 map: every team and member, on 34 provinces and 3,321 communes.
    today = minh.get("/api/v1/coverage/national/", {"as_of": AS_OF}).data
    assert (today["teams_active"], today["members_active"]) == (then["teams_active"], then["members_active"])
    assert (today["provinces_total"], today["communes_total"]) == (34, 3321)
    assert "provinces: 55 of 63 complete" in q1_2024
