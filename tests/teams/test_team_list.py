"""GET /api/v1/teams/: search, filters and a constant query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from teams.models import Team
from tests.teams.support import URL

pytestmark = pytest.mark.django_db


def test_team_search_ignores_tone_placement_and_case(world, api):
    found = api(world.minh).get(URL, {"search": "THUỴ KHUÊ"}).data["results"]
    assert [t["id"] for t in found] == [str(world.teams.a2.pk)]
    toneless = api(world.minh).get(URL, {"search": "thuy khue"}).data["results"]
    assert [t["id"] for t in toneless] == [str(world.teams.a2.pk)]


def test_team_list_filters(world, api):
    client = api(world.minh)
    assert client.get(URL, {"province": "02"}).data["count"] == 1
    assert client.get(URL, {"commune": "00002"}).data["results"][0]["id"] == str(world.teams.a2.pk)
    assert client.get(URL, {"hamlet": world.hamlets.a1.pk}).data["count"] == 1
    assert client.get(URL, {"level": "commune"}).data["count"] == 2
    assert client.get(URL, {"status": "dissolved"}).data["count"] == 0
    assert client.get(URL, {"size_status": "bogus"}).status_code == 400


def test_team_list_query_count_is_constant(world, api, django_assert_num_queries):
    from tests.factories import MemberFactory, TeamFactory

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for _ in range(12):
        MemberFactory(team=TeamFactory(commune=world.b1, hamlet=None, status="dissolved", dissolved_on=yesterday))
    client = api(world.minh)
    # 1: count; 2: the page of teams joined with province, commune, hamlet and leader.
    with django_assert_num_queries(2):
        small = client.get(URL, {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get(URL, {"page_size": 50})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 15


def test_the_list_writes_each_team_as_the_team_serializer_does(world, api):
    """The list writes its rows from values (teams.apis.team_list_rows); TeamOutput is the schema and the detail's
    writer. Both must give the same JSON for every kind of team: hamlet or commune level, with or without a
    leader, active or dissolved."""
    import json

    from teams import selectors
    from teams.apis import TeamOutput
    from tests.factories import HamletFactory, MemberFactory, TeamFactory

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    dissolved = TeamFactory(commune=world.b1, hamlet=None, status="dissolved", dissolved_on=yesterday)
    MemberFactory(team=dissolved)
    unled = TeamFactory(commune=world.a1, hamlet=HamletFactory(commune=world.a1))  # no leader
    # Timestamps at a whole second and one microsecond past it (PostgreSQL writes the list's; the serializer, Python).
    whole = dt.datetime(2025, 12, 31, 17, 0, 0, tzinfo=dt.UTC)
    type(unled).objects.filter(pk=unled.pk).update(created_at=whole, updated_at=whole + dt.timedelta(microseconds=1))
    listed = api(world.minh).get(URL, {"page_size": 100}).json()["results"]
    teams = selectors.team_list(user=world.minh)
    expected = json.loads(json.dumps([TeamOutput(team).data for team in teams]))
    assert listed == expected
    kinds = {(t["level"], t["leader"] is None, t["status"], t["dissolved_on"] is None) for t in listed}
    assert len(kinds) >= 4, kinds  # the kinds above are all there


@pytest.mark.parametrize("persona", ["minh", "lan", "binh", "hoa", "bao", "tuan"])
def test_each_persona_pages_through_the_teams_it_can_see_in_order(world, api, persona):
    """The unfiltered list is read by statements compiled once per scope level (teams.selectors): every
    province admin shares one, and each must still get their own province's teams, page after page."""
    from tests.factories import HamletFactory, TeamFactory

    for commune in (world.a1, world.a2, world.b1):
        for n in range(2):
            TeamFactory(commune=commune, hamlet=HamletFactory(commune=commune, name=f"Thôn {commune.code} {n}"))
    for user in {"lan": [world.binh, world.lan], "hoa": [world.bao, world.hoa]}.get(persona, [getattr(world, persona)]):
        client = api(user)
        expected = [
            str(pk)
            for pk in Team.objects.visible_to(user)
            .order_by("province_id", "commune_id", "name_key", "id")
            .values_list("id", flat=True)
        ]
        pages = [client.get(URL, {"page_size": 2, "page": n}).json() for n in range(1, len(expected) // 2 + 2)]
        listed = [team["id"] for page in pages if "results" in page for team in page["results"]]
        assert listed == expected and expected
        assert pages[0]["count"] == len(expected)
