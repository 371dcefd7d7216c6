"""load_areas against the real vietnamadminunits dataset."""

import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command

from areas.loaders import dataset_path
from areas.models import AreaSource, Commune, Province

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


def test_loads_34_provinces_and_3321_communes_by_kind():
    _load()
    assert Province.objects.current().count() == 34
    assert Commune.objects.current().count() == 3321
    by_kind = {kind: Commune.objects.filter(kind=kind).count() for kind in ("xa", "phuong", "dac_khu")}
    assert by_kind == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_equals_the_dataset_code_for_code():
    _load()
    kinds = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}
    expected = {(code, name, kinds[kind], p_code) for code, name, kind, p_code, _ in _source_rows()}
    loaded = set(Commune.objects.values_list("code", "name", "kind", "province__code"))
    assert loaded == expected
    expected_provinces = {(p_code, p_name) for *_, p_code, p_name in _source_rows()}
    assert set(Province.objects.values_list("code", "name")) == expected_provinces


def test_known_codes():
    _load()
    ward = Commune.objects.select_related("province").get(code="00226")
    assert ward.name == "Phường Văn Miếu - Quốc Tử Giám"
    assert ward.kind == "phuong"
    assert ward.province.code == "01"
    hanoi = Province.objects.get(code="01")
    assert hanoi.name == "Thành phố Hà Nội"
    assert hanoi.kind == "thanh_pho"


def test_second_run_changes_nothing():
    _load()
    before_c = list(Commune.objects.order_by("code").values())
    before_p = list(Province.objects.order_by("code").values())
    sources = AreaSource.objects.count()
    output = _load()
    assert "created 0, updated 0" in output
    assert list(Commune.objects.order_by("code").values()) == before_c
    assert list(Province.objects.order_by("code").values()) == before_p
    assert AreaSource.objects.count() == sources == 1


def test_records_source_and_version():
    from importlib.metadata import version

    _load()
    source = AreaSource.objects.get()
    assert (source.source, source.version) == ("vietnamadminunits", version("vietnamadminunits"))
    assert (source.provinces, source.communes) == (34, 3321)


def test_repairs_a_changed_name_and_never_deletes():
    _load()
    Commune.objects.filter(code="00226").update(name="sai tên")
    extra = Commune.objects.create(
        code="99999", name="Xã Ngoài Danh Mục", short_name="x", kind="xa", province=Province.objects.get(code="01")
    )
    output = _load()
    assert "updated 1" in output
    assert Commune.objects.get(code="00226").name == "Phường Văn Miếu - Quốc Tử Giám"
    assert Commune.objects.filter(pk=extra.pk).exists()
