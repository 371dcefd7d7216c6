"""Coverage as a new deployment sees it: totals from the map before any recompute, every unit answers,
map changes show without a recompute, and a failed recompute leaves everything as it was."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.scoping import Role
from areas.changes import communes_changed
from areas.loaders import read_2025_dataset
from areas.models import Commune, DirtyCommune, Province
from coverage import compute, services
from coverage.models import CommuneFigures, NationalFigures, ProvinceFigures
from teams.services import team_create
from tests.coverage.oracle import differences
from tests.factories import CommuneFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/coverage/"


@pytest.fixture
def fresh_map():
    """A database where load_areas has run and nothing else: no figures, no teams."""
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    provinces, communes = read_2025_dataset()
    return {
        "provinces": len(provinces),
        "communes": len(communes),
        "per_province": Counter(c.province_code for c in communes),
    }


@pytest.fixture
def ministry():
    return UserFactory(phone="0900000101", role=Role.MINISTRY)


def test_a_fresh_map_answers_with_its_totals_before_any_recompute(fresh_map, ministry, api):
    assert not CommuneFigures.objects.exists() and not NationalFigures.objects.exists()  # nothing recomputed
    client = api(ministry)
    nation = client.get(f"{BASE}national/")
    assert nation.status_code == 200, nation.data
    assert (nation.data["provinces_total"], nation.data["communes_total"]) == (
        fresh_map["provinces"],
        fresh_map["communes"],
    )
    assert (fresh_map["provinces"], fresh_map["communes"]) == (34, 3321)  # the 2025 map, as the dataset ships it
    assert (nation.data["provinces_complete"], nation.data["communes_covered"], nation.data["teams_active"]) == (
        0,
        0,
        0,
    )
    assert nation.data["stale"] is True and nation.data["computed_at"] is None  # honest: not computed yet

    listed = client.get(f"{BASE}provinces/", {"page_size": 100}).data
    assert listed["count"] == fresh_map["provinces"]
    assert {r["code"]: r["communes_total"] for r in listed["results"]} == dict(fresh_map["per_province"])
    assert not any(r["complete"] for r in listed["results"])

    commune = client.get(f"{BASE}communes/00004/").data  # Phường Ba Đình on the 2025 map
    assert commune["name"] == Commune.objects.current().get(code="00004").name
    assert (commune["covered"], commune["teams_active"], commune["hamlets_total"], commune["activities"]) == (
        False,
        0,
        0,
        0,
    )
    assert set(commune["activities_by_type"]) == set(compute.activity_type_codes())


def test_load_areas_marks_every_commune_it_creates(fresh_map):
    assert DirtyCommune.objects.values("commune_id").distinct().count() == fresh_map["communes"]


def test_three_teams_recomputed_incrementally_on_a_fresh_map_count_every_province_and_commune(fresh_map, ministry, api):
    hanoi = Province.objects.current().get(code="01")
    admin = UserFactory(phone="0900000102", role=Role.PROVINCE_ADMIN, province=hanoi)
    codes = list(Commune.objects.current().filter(province=hanoi).order_by("code").values_list("code", flat=True)[:3])
    for code in codes:
        team_create(actor=admin, commune_code=code, name=f"Tổ {code}", established_on=dt.date(2025, 8, 1))
    ids = Commune.objects.current().filter(code__in=codes).values_list("id", flat=True)
    with transaction.atomic():
        services.recompute(commune_ids=ids)  # the incremental path alone: no other commune has figures

    nation = api(ministry).get(f"{BASE}national/").data
    assert (nation["provinces_total"], nation["provinces_complete"]) == (fresh_map["provinces"], 0)
    assert (nation["communes_total"], nation["communes_covered"], nation["teams_active"]) == (
        fresh_map["communes"],
        3,
        3,
    )
    stored = NationalFigures.objects.get(pk=1)
    assert (stored.provinces_total, stored.communes_total, stored.provinces_complete) == (
        fresh_map["provinces"],
        fresh_map["communes"],
        0,
    )
    assert ProvinceFigures.objects.get(province=hanoi).communes_total == fresh_map["per_province"]["01"]
    assert api(ministry).get(f"{BASE}provinces/").data["count"] == fresh_map["provinces"]

    services.recompute_dirty()  # the worker's path picks up load_areas' and the teams' marks
    assert differences(timezone.localdate()) == []


def test_every_current_unit_in_scope_answers_and_unknown_or_out_of_scope_is_404(world, api):
    empty = CommuneFactory(code="00020", province=world.a)
    officer = UserFactory(phone="0900000103", role=Role.COMMUNE_OFFICER, province=world.a, commune=empty)
    client = api(officer)
    response = client.get(f"{BASE}communes/00020/")
    assert response.status_code == 200 and response.data["teams_active"] == 0 and response.data["stale"] is True
    assert client.get(f"{BASE}provinces/01/").status_code == 200
    assert client.get(f"{BASE}communes/00001/").status_code == 404  # another commune of the province
    assert client.get(f"{BASE}communes/99999/").status_code == 404  # unknown
    assert client.get(f"{BASE}communes/00001/").data == client.get(f"{BASE}communes/99999/").data
    assert client.get(f"{BASE}provinces/02/").status_code == 404
    services.recompute_all()
    again = client.get(f"{BASE}communes/00020/").data
    assert again["stale"] is False and again["computed_at"] is not None


def _morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.timezone(dt.timedelta(hours=7)))


def test_map_changes_show_in_the_totals_before_any_recompute_and_the_sweep_makes_them_true(world, api, time_machine):
    time_machine.move_to(_morning(dt.date(2026, 11, 10)), tick=False)
    services.recompute_all()
    client = api(world.minh)
    before = client.get(f"{BASE}national/").data
    assert before["stale"] is False
    today = timezone.localdate()
    # A commune valid from a later day, and one retired on a later day, as a loader writes them (marked).
    new = CommuneFactory(code="00030", province=world.b, valid_from=today + dt.timedelta(days=3))
    leaving = CommuneFactory(code="00031", province=world.a, valid_to=today + dt.timedelta(days=5))
    communes_changed([new.pk, leaving.pk])
    services.recompute_dirty()
    now = client.get(f"{BASE}national/").data
    assert now["communes_total"] == before["communes_total"] + 1  # the retiring one counts until its day
    assert now["stale"] is False

    with_new = today + dt.timedelta(days=3)
    time_machine.move_to(_morning(with_new), tick=False)
    read = client.get(f"{BASE}national/").data  # no recompute has run since the day came
    assert read["communes_total"] == before["communes_total"] + 2
    assert read["provinces_complete"] == 0  # B now has an uncovered commune
    assert read["stale"] is True
    b = client.get(f"{BASE}provinces/02/").data
    assert (b["communes_total"], b["complete"], b["stale"]) == (2, False, True)
    assert services.recompute_dirty() >= 1  # the sweep: outdated figures are recomputed in full
    assert differences(with_new) == []
    assert client.get(f"{BASE}national/").data["stale"] is False

    gone = today + dt.timedelta(days=5)
    time_machine.move_to(_morning(gone), tick=False)
    read = client.get(f"{BASE}national/").data
    assert read["communes_total"] == before["communes_total"] + 1
    assert client.get(f"{BASE}communes/00031/").status_code == 404  # not on today's map
    services.recompute_dirty()
    assert differences(gone) == []


def test_a_map_edit_that_marked_nothing_is_found_by_the_sweep(world, api):
    services.recompute_all()
    CommuneFactory(code="00040", province=world.a)  # written by hand, no mark
    assert not DirtyCommune.objects.exists()
    read = api(world.minh).get(f"{BASE}national/").data
    assert read["communes_total"] == 4 and read["stale"] is True
    services.recompute_dirty()
    assert differences(timezone.localdate()) == []
    assert api(world.minh).get(f"{BASE}national/").data["stale"] is False


def test_a_recompute_that_fails_leaves_the_previous_figures_and_the_marks(world, api, monkeypatch):
    services.recompute_all()
    before = {
        model.__name__: sorted(
            ({k: v for k, v in row.items() if k != "computed_at"} for row in model.objects.values()), key=str
        )
        for model in (CommuneFigures, ProvinceFigures, NationalFigures)
    }
    response = api(world.hoa).post(
        "/api/v1/teams/", {"commune": "00001", "name": "Tổ thứ hai", "established_on": "2025-08-01"}
    )
    assert response.status_code == 201
    marks = list(DirtyCommune.objects.values_list("id", "commune_id"))

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away half way")

    monkeypatch.setattr(compute, "roll_up_nation", broken)  # after the commune figures were written
    with pytest.raises(RuntimeError):
        services.recompute_dirty()
    after = {
        model.__name__: sorted(
            ({k: v for k, v in row.items() if k != "computed_at"} for row in model.objects.values()), key=str
        )
        for model in (CommuneFigures, ProvinceFigures, NationalFigures)
    }
    assert after == before
    assert list(DirtyCommune.objects.values_list("id", "commune_id")) == marks
    monkeypatch.undo()
    services.recompute_dirty()
    assert differences(timezone.localdate()) == []
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 2


def test_a_deployment_upgraded_to_the_old_map_gets_its_figures_from_the_marks_of_load_areas():
    """Figures computed on the 2025 map alone; then the old map is loaded (an upgrade): the worker's incremental
    path, with no full recompute, computes the 2024 map's figures."""
    from areas.loaders import load_2024_map, load_2025_map
    from areas.models import MAP_2025, CommuneLink

    load_2025_map()
    services.recompute_all()
    assert not NationalFigures.objects.filter(pk=2).exists()
    load_2024_map()
    # Every 2025 commune is marked: the old map's figures are computed from them.
    assert DirtyCommune.objects.values("commune").distinct().count() == 3321
    assert not compute.figures_outdated()
    services.recompute_dirty()
    old_day = MAP_2025 - dt.timedelta(days=1)
    nation = NationalFigures.objects.get(pk=2)
    assert (nation.provinces_total, nation.communes_total) == (63, 10040)
    assert CommuneFigures.objects.filter(commune__in=Commune.objects.current(old_day)).count() == 10040
    assert CommuneLink.objects.count() > 10040
    # A second load changes nothing and marks nothing.
    load_2024_map()
    assert not DirtyCommune.objects.exists()
