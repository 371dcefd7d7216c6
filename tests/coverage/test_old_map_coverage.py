"""Coverage on the 2024 map (?map=2024): rows placed in old communes through the crosswalk, what cannot be
placed counted as bounds, equal to an independent SQL, through the incremental path, with the 2025 map's
query counts.

The synthetic old map of tests.areas.old_map: A1 was made of old 00001 (whole) and part of old 00004; A2 of
part of 00004 and old 09999; B1 of old 00500 and the island district 318. No 2025 commune there was made of
one old commune, so nothing is placed until a hamlet or a team records its old commune.
"""

import csv
import io

import pytest

from activities.models import Activity
from areas import maps
from areas.models import Commune, Province
from coverage import services
from coverage.models import CommuneFigures, NationalFigures, Snapshot
from members.registry_import import read_registry_rows, registry_import
from tests.areas.old_map import build_old_map
from tests.coverage.old_map_sql import expected_communes, expected_nation
from tests.coverage.test_compute import add_activities

pytestmark = pytest.mark.django_db

OLD = {"map": "2024"}


@pytest.fixture
def old(world):
    found = build_old_map(world)
    add_activities(world.teams.a1, 3)
    add_activities(world.teams.a2, 2)
    services.recompute_all()  # the figures as a deployment holds them; what follows goes through the marks
    return found


def _place_team_a2_in_ha_tay(world):
    """The registry import records a commune-level team's old commune (the only way it is written)."""
    header = ["commune_code", "old_commune_code", "hamlet_name", "team_name", "established_on", "full_name", "phone"]
    row = ["00002", "09999", "", world.teams.a2.name, str(world.teams.a2.established_on), "Lê Thị Cũ", "0987000111"]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, row])
    _, rows = read_registry_rows(buffer.getvalue().encode(), "so.csv")
    result = registry_import(rows=list(rows))
    assert result.ok, result.errors


def _stored_old(code: str) -> dict:
    return CommuneFigures.objects.filter(commune__code=code, commune__valid_to__isnull=False).values().get()


def test_before_anything_is_placed_every_team_is_a_bound(world, old, api):
    nation = api(world.minh).get("/api/v1/coverage/national/", OLD).data
    assert nation["map"] == "2024"
    assert (nation["provinces_total"], nation["communes_total"]) == (3, 5)
    assert (nation["teams_active"], nation["teams_unattributed"]) == (0, 3)
    assert (nation["communes_covered"], nation["communes_covered_max"]) == (0, 5)
    assert (nation["provinces_complete"], nation["provinces_complete_max"]) == (0, 3)
    # The 2025 map is exact: its own figures, and the same teams not placed.
    current = api(world.minh).get("/api/v1/coverage/national/").data
    assert (current["teams_active"], current["teams_unattributed"], current["map"]) == (3, 3, "2025")
    assert current["communes_covered_max"] == current["communes_covered"] == 3


def test_placed_rows_reach_the_old_communes_through_the_incremental_path(world, old, api):
    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    _place_team_a2_in_ha_tay(world)
    assert not services.compute.figures_outdated()
    services.recompute_dirty()

    phuc_xa = _stored_old("00001")
    assert (phuc_xa["teams_active"], phuc_xa["members_active"], phuc_xa["activities"]) == (1, 4, 3)
    assert (phuc_xa["hamlets_total"], phuc_xa["hamlets_covered"], phuc_xa["covered"]) == (1, 1, True)
    ha_tay = _stored_old("09999")
    assert (ha_tay["teams_active"], ha_tay["members_active"], ha_tay["activities"]) == (1, 5, 2)
    # Trúc Bạch went partly into A1 and A2, whose teams are placed elsewhere: uncovered, nothing unplaced.
    truc_bach = _stored_old("00004")
    assert (truc_bach["covered"], truc_bach["teams_unattributed"]) == (False, 0)
    # B1's team is still not placed: each old commune B1 was made of may hold it.
    assert _stored_old("00500")["teams_unattributed"] == _stored_old("318")["teams_unattributed"] == 1

    # Every old commune equals the independent SQL over the same rows, and so does the nation.
    expected = expected_communes()
    for code, figures in expected.items():
        stored = _stored_old(code)
        assert {name: stored[name] for name in figures} == figures, code
    nation = NationalFigures.objects.filter(pk=2).values().get()
    assert {name: nation[name] for name in expected_nation()} == expected_nation()
    assert nation["teams_unattributed"] == 1 and nation["communes_covered_max"] == 4

    minh = api(world.minh)
    provinces = {p["code"]: p for p in minh.get("/api/v1/coverage/provinces/", OLD).data["results"]}
    assert (provinces["01"]["communes_covered"], provinces["01"]["communes_total"]) == (1, 2)
    assert provinces["28"]["complete"] is True  # Hà Tây's one commune is covered
    assert (provinces["03"]["complete"], provinces["03"]["communes_covered_max"]) == (False, 2)
    assert minh.get("/api/v1/coverage/provinces/28/communes/", OLD).data["results"][0]["code"] == "09999"
    detail = minh.get("/api/v1/coverage/communes/00001/", OLD).data
    assert (detail["name"], detail["map"], [h["name"] for h in detail["hamlets"]]) == (
        "Phường Phúc Xá",
        "2024",
        ["Thôn Đông"],
    )
    # The same code on the 2025 map is A1, with its own figures.
    assert minh.get("/api/v1/coverage/communes/00001/").data["name"] == world.a1.name


def test_an_activity_written_later_reaches_its_old_commune_before_any_full_recompute(world, old, api):
    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    services.recompute_dirty()
    before = _stored_old("00001")["activities"]
    from areas.changes import commune_changed

    add_activities(world.teams.a1, 4)
    commune_changed(world.a1.pk)  # what the sync does in its transaction
    stale = api(world.minh).get("/api/v1/coverage/communes/00001/", OLD).data
    assert stale["stale"] is True
    services.recompute_dirty()
    assert _stored_old("00001")["activities"] == before + 4 == Activity.objects.filter(team=world.teams.a1).count()


def test_scope_on_the_old_map_follows_what_the_units_became(world, old, api):
    assert api(world.lan).get("/api/v1/coverage/provinces/28/", OLD).status_code == 200
    assert api(world.lan).get("/api/v1/coverage/provinces/03/", OLD).status_code == 404
    assert api(world.binh).get("/api/v1/coverage/communes/00001/", OLD).status_code == 404
    assert api(world.hoa).get("/api/v1/coverage/communes/00004/", OLD).status_code == 200
    assert api(world.hoa).get("/api/v1/coverage/communes/09999/", OLD).status_code == 404
    codes = [p["code"] for p in api(world.lan).get("/api/v1/coverage/provinces/", OLD).data["results"]]
    assert codes == ["01", "28"]
    assert api(world.lan).get("/api/v1/coverage/national/", OLD).status_code == 404


def test_old_map_reads_cost_what_the_current_map_reads_cost(world, old, api, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    minh = api(world.minh)
    for path in (
        "/api/v1/coverage/national/",
        "/api/v1/coverage/provinces/",
        "/api/v1/coverage/provinces/01/",
        "/api/v1/coverage/provinces/01/communes/",
        "/api/v1/coverage/communes/00001/",
    ):
        with CaptureQueriesContext(connection) as current:
            assert minh.get(path).status_code == 200
        with CaptureQueriesContext(connection) as on_2024:
            assert minh.get(path, OLD).status_code == 200
        assert len(on_2024) == len(current), path


def test_a_snapshot_holds_both_maps_and_as_of_reads_the_one_asked_for(world, old, api):
    from django.utils import timezone

    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    services.recompute_dirty()
    services.snapshot_take()
    today = str(timezone.localdate())
    assert set(Snapshot.objects.filter(code="00001").values_list("map", flat=True)) == {"2024", "2025"}
    minh = api(world.minh)
    then_old = minh.get("/api/v1/coverage/communes/00001/", {"map": "2024", "as_of": today}).data
    then_new = minh.get("/api/v1/coverage/communes/00001/", {"as_of": today}).data
    assert (then_old["name"], then_old["teams_active"]) == ("Phường Phúc Xá", 1)
    assert then_new["name"] == world.a1.name
    nation = minh.get("/api/v1/coverage/national/", {"map": "2024", "as_of": today}).data
    assert (nation["map"], nation["communes_total"]) == ("2024", 5)


def test_exports_on_the_old_map(world, old, api):
    response = api(world.minh).get("/api/v1/coverage/provinces/export/csv/", OLD)
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = lines[0]
    codes = [line[header.index("Mã")] for line in lines[1:]]
    assert codes == ["01", "03", "28"]
    assert {line[header.index("Bản đồ hành chính")] for line in lines[1:]} == {"2024"}


def test_before_any_recompute_the_old_map_answers_its_totals_zeros_and_stale(world, api):
    build_old_map(world)  # no recompute has run: nothing is stored for either map
    minh = api(world.minh)
    nation = minh.get("/api/v1/coverage/national/", OLD).data
    assert (nation["provinces_total"], nation["communes_total"], nation["teams_active"]) == (3, 5, 0)
    assert (nation["stale"], nation["computed_at"]) == (True, None)
    commune = minh.get("/api/v1/coverage/communes/318/", OLD).data
    assert (commune["kind"], commune["covered"], commune["stale"], commune["computed_at"]) == (
        "huyen_dao",
        False,
        True,
        None,
    )
    codes = [r["code"] for r in minh.get("/api/v1/coverage/provinces/01/communes/", OLD).data["results"]]
    assert codes == ["00001", "00004"]


def _old_map_figures() -> dict:
    """Every stored figure of the 2024 map's communes, provinces and nation, by unit, without the times."""
    from coverage.models import ProvinceFigures

    old_day = maps.OLD.day()
    found = {}
    for model, units in (
        (CommuneFigures, Commune.objects.current(old_day)),
        (ProvinceFigures, Province.objects.current(old_day)),
    ):
        key = model._meta.pk.attname
        for row in model.objects.filter(**{f"{key}__in": units.values("id")}).values():
            found[(model.__name__, row.pop(key))] = {k: v for k, v in row.items() if k != "computed_at"}
    nation = NationalFigures.objects.filter(pk=2).values().get()
    found["nation"] = {k: v for k, v in nation.items() if k != "computed_at"}
    return found


def test_the_full_recompute_in_rounds_of_provinces_gives_the_figures_of_one_round(world, old, api, monkeypatch):
    """The full path computes the 2024 map a few provinces at a time (memory); one province per round must give
    what one round of every province gives, for each commune, each province and the nation."""
    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    _place_team_a2_in_ha_tay(world)
    monkeypatch.setattr(services, "OLD_MAP_PROVINCES_PER_ROUND", 1000)
    services.recompute_all()
    whole = _old_map_figures()
    monkeypatch.setattr(services, "OLD_MAP_PROVINCES_PER_ROUND", 1)
    from coverage.models import ProvinceFigures

    CommuneFigures.objects.filter(commune__in=Commune.objects.current(maps.OLD.day())).delete()
    ProvinceFigures.objects.filter(province__in=Province.objects.current(maps.OLD.day())).delete()
    NationalFigures.objects.filter(pk=2).delete()
    services.recompute_all()
    assert _old_map_figures() == whole
    assert len([key for key in whole if key[0] == "ProvinceFigures"]) == 3  # three rounds of one province
    assert {name: whole["nation"][name] for name in expected_nation()} == expected_nation()
    assert whole["nation"]["teams_active"] == 2  # the two placed teams


def test_an_incremental_round_reads_the_sources_once_for_both_maps(world, old, api):
    """The marked 2025 commune and those sharing an old commune with it are read once, and that read serves
    the 2024 map's communes around it too (it was read twice: 1.0 s of the worker's round under the sync's load
    at national scale, docs/performance.md); the figures still equal the independent SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from areas.changes import commune_changed

    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00001"}, format="json")
    add_activities(world.teams.a1, 2)
    commune_changed(world.a1.pk)
    with CaptureQueriesContext(connection) as round_:
        assert services.recompute_dirty() == 1
    sources = {
        table: sum(f'FROM "{table}"' in q["sql"] or f"FROM {table}" in q["sql"] for q in round_.captured_queries)
        for table in ("areas_hamlet", "members_member", "activities_lifetimetally")
    }
    assert sources == {"areas_hamlet": 1, "members_member": 1, "activities_lifetimetally": 1}, sources
    expected = expected_communes()
    for code, figures in expected.items():
        stored = _stored_old(code)
        assert {name: stored[name] for name in figures} == figures, code
    assert CommuneFigures.objects.get(commune=world.a1).activities == Activity.objects.filter(commune=world.a1).count()
