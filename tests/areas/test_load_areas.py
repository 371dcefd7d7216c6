"""load_areas against the real vietnamadminunits dataset: both maps and the crosswalk between them."""

import datetime as dt
import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command

from areas.loaders import dataset_path
from areas.models import MAP_2025, AreaSource, Commune, CommuneLink, District, Province

pytestmark = pytest.mark.django_db


def _source_rows():
    connection = sqlite3.connect(dataset_path())
    try:
        return connection.execute(
            "SELECT DISTINCT wardCode, ward, wardType, provinceCode, province FROM admin_units"
        ).fetchall()
    finally:
        connection.close()


def _load() -> str:
    out = StringIO()
    call_command("load_areas", stdout=out, stderr=StringIO())
    return out.getvalue()


def _legacy_rows():
    connection = sqlite3.connect(dataset_path())
    try:
        return connection.execute(
            "SELECT wardCode, ward, districtCode, district, provinceCode, province FROM admin_units_legacy"
        ).fetchall()
    finally:
        connection.close()


OLD_DAY = MAP_2025 - dt.timedelta(days=1)


def test_loads_34_provinces_and_3321_communes_by_kind():
    _load()
    assert Province.objects.current().count() == 34
    assert Commune.objects.current().count() == 3321
    current = Commune.objects.current()
    by_kind = {kind: current.filter(kind=kind).count() for kind in ("xa", "phuong", "dac_khu")}
    assert by_kind == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_loads_the_old_map_valid_up_to_2025_06_30():
    _load()
    assert Province.objects.current(OLD_DAY).count() == 63
    assert District.objects.current(OLD_DAY).count() == 696
    assert Commune.objects.current(OLD_DAY).count() == 10040
    # Every old unit ends the day the new map starts, and no new unit was valid before it.
    for model in (Province, District, Commune):
        old = model.objects.filter(valid_from__lt=MAP_2025)
        assert set(old.values_list("valid_to", flat=True)) == {MAP_2025}
    assert not Commune.objects.current(OLD_DAY).filter(valid_from=MAP_2025).exists()
    # The five island districts without communes are the commune-level unit of their islands.
    islands = Commune.objects.current(OLD_DAY).filter(kind="huyen_dao")
    assert sorted(islands.values_list("code", flat=True)) == ["318", "471", "498", "536", "755"]
    assert all(c.district.code == c.code for c in islands.select_related("district"))


def test_the_old_map_equals_the_dataset_code_for_code():
    _load()
    rows = _legacy_rows()
    expected = {
        (w_code or d_code, w_name or d_name, d_code, p_code) for w_code, w_name, d_code, d_name, p_code, _ in rows
    }
    loaded = set(Commune.objects.current(OLD_DAY).values_list("code", "name", "district__code", "province__code"))
    assert loaded == expected
    assert set(Province.objects.current(OLD_DAY).values_list("code", "name")) == {(r[4], r[5]) for r in rows}
    assert set(District.objects.values_list("code", "name", "province__code")) == {(r[2], r[3], r[4]) for r in rows}


def test_codes_collide_between_the_maps_and_each_map_resolves_its_own():
    _load()
    new, old = Commune.objects.current(), Commune.objects.current(OLD_DAY)
    assert new.get(code="00004").name == "Phường Ba Đình"
    assert old.get(code="00004").name == "Phường Trúc Bạch"
    assert old.get(code="00001").district.name == "Quận Ba Đình"
    assert not new.filter(code="00001").exists()
    assert Province.objects.current().get(code="01").name == Province.objects.current(OLD_DAY).get(code="01").name
    assert Province.objects.current(OLD_DAY).get(code="74").name == "Tỉnh Bình Dương"
    assert Province.objects.current(OLD_DAY).get(code="74").successor.code == "79"
    assert Province.objects.current().filter(code="74").exists() is False


def test_the_crosswalk_links_whole_and_divided_communes():
    _load()
    links = CommuneLink.objects.select_related("old_commune", "new_commune")
    assert links.filter(whole=True).count() == 9569
    divided = links.filter(whole=False).values("old_commune").distinct().count()
    assert divided == 471
    assert links.filter(is_default=True).count() == 10040  # one default successor per old commune
    assert links.values("new_commune").distinct().count() == 3321  # every new commune has a predecessor
    phuc_xa = links.get(old_commune__code="00001")
    assert (phuc_xa.new_commune.code, phuc_xa.new_commune.name, phuc_xa.whole) == ("00097", "Phường Hồng Hà", True)
    assert phuc_xa.old_commune.valid_to == MAP_2025 and phuc_xa.new_commune.valid_from == MAP_2025
    # Old 00004 (Trúc Bạch) went whole into new 00004 (Ba Đình), which took parts of divided wards too.
    ba_dinh = links.filter(new_commune__code="00004", new_commune__valid_from=MAP_2025)
    assert ("00004", True) in set(ba_dinh.values_list("old_commune__code", "whole"))
    assert ba_dinh.filter(whole=False).exists()
    for link in links.filter(whole=False, old_commune__in=ba_dinh.values("old_commune")):
        parts = links.filter(old_commune=link.old_commune)
        assert parts.count() >= 2 and parts.filter(is_default=True).count() == 1


def test_equals_the_dataset_code_for_code():
    _load()
    kinds = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}
    expected = {(code, name, kinds[kind], p_code) for code, name, kind, p_code, _ in _source_rows()}
    loaded = set(Commune.objects.current().values_list("code", "name", "kind", "province__code"))
    assert loaded == expected
    expected_provinces = {(p_code, p_name) for *_, p_code, p_name in _source_rows()}
    assert set(Province.objects.current().values_list("code", "name")) == expected_provinces


def test_known_codes():
    _load()
    ward = Commune.objects.current().select_related("province").get(code="00226")
    assert ward.name == "Phường Văn Miếu - Quốc Tử Giám"
    assert ward.kind == "phuong"
    assert ward.province.code == "01"
    hanoi = Province.objects.current().get(code="01")
    assert hanoi.name == "Thành phố Hà Nội"
    assert hanoi.kind == "thanh_pho"


def test_second_run_changes_nothing():
    _load()
    tables = (Commune, Province, District, CommuneLink)
    before = [list(model.objects.order_by("pk").values()) for model in tables]
    sources = AreaSource.objects.count()
    output = _load()
    assert output.count("created 0, updated 0") == 2
    assert [list(model.objects.order_by("pk").values()) for model in tables] == before
    assert AreaSource.objects.count() == sources == 2


def test_records_source_and_version():
    from importlib.metadata import version

    _load()
    new = AreaSource.objects.get(valid_from=MAP_2025)
    assert (new.source, new.version) == ("vietnamadminunits", version("vietnamadminunits"))
    assert (new.provinces, new.communes) == (34, 3321)
    old = AreaSource.objects.get(valid_from__lt=MAP_2025)
    assert (old.source, old.version) == ("vietnamadminunits", version("vietnamadminunits"))
    assert (old.provinces, old.districts, old.communes, old.links) == (63, 696, 10040, CommuneLink.objects.count())


def test_repairs_a_changed_name_and_never_deletes():
    _load()
    Commune.objects.current().filter(code="00226").update(name="sai tên")
    Commune.objects.current(OLD_DAY).filter(code="00004").update(name="sai tên cũ")
    CommuneLink.objects.filter(old_commune__code="00001").delete()
    extra = Commune.objects.create(
        code="99999",
        name="Xã Ngoài Danh Mục",
        short_name="x",
        kind="xa",
        province=Province.objects.current().get(code="01"),
    )
    output = _load()
    assert "updated 1" in output and "created 1, updated 1" in output
    assert Commune.objects.current().get(code="00226").name == "Phường Văn Miếu - Quốc Tử Giám"
    assert Commune.objects.current(OLD_DAY).get(code="00004").name == "Phường Trúc Bạch"
    assert CommuneLink.objects.get(old_commune__code="00001").new_commune.code == "00097"
    assert Commune.objects.filter(pk=extra.pk).exists()


def test_places_every_2025_commune_where_the_dataset_does_without_marking_coverage():
    from areas.models import DirtyCommune

    _load()
    connection = sqlite3.connect(dataset_path())
    try:
        shipped = {
            code: (lat, lon)
            for code, lat, lon in connection.execute("SELECT wardCode, wardLat, wardLon FROM admin_units")
        }
    finally:
        connection.close()
    placed = {
        code: (lat, lon) for code, lat, lon in Commune.objects.current().values_list("code", "latitude", "longitude")
    }
    assert placed == shipped
    assert all(8 < lat < 24 and 102 < lon < 118 for lat, lon in placed.values())  # Vietnam, islands included
    # A moved point is repaired by the next load, and is not a change of the map: no commune is marked.
    Commune.objects.current().filter(code="00226").update(latitude=0, longitude=0)
    DirtyCommune.objects.all().delete()
    _load()
    assert Commune.objects.current().values_list("latitude", "longitude").get(code="00226") == shipped["00226"]
    assert not DirtyCommune.objects.exists()
