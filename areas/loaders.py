"""Loading the official map of provinces and communes from the vietnamadminunits dataset."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from django.db import transaction

from areas.changes import communes_changed
from areas.models import MAP_2025, AreaSource, Commune, CommuneKind, Province, ProvinceKind
from areas.names import fold, name_key

SOURCE = "vietnamadminunits"

_COMMUNE_KINDS = {"Xã": CommuneKind.COMMUNE, "Phường": CommuneKind.WARD, "Đặc khu": CommuneKind.SPECIAL_ZONE}


@dataclass(frozen=True)
class SourceUnit:
    code: str
    name: str
    short_name: str
    kind: str
    province_code: str | None = None


@dataclass
class LoadResult:
    source: str
    version: str
    provinces: int = 0
    communes: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_source: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def dataset_path() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).parent / "data" / "dataset.db"


def read_2025_dataset(path: Path | None = None) -> tuple[list[SourceUnit], list[SourceUnit]]:
    """Provinces and communes of the 34-province map, as the package ships them."""
    connection = sqlite3.connect(f"file:{path or dataset_path()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT DISTINCT provinceCode, province, provinceShort, wardCode, ward, wardShort, wardType "
            "FROM admin_units ORDER BY wardCode"
        ).fetchall()
    finally:
        connection.close()
    provinces: dict[str, SourceUnit] = {}
    communes: list[SourceUnit] = []
    for p_code, p_name, p_short, w_code, w_name, w_short, w_type in rows:
        kind = ProvinceKind.CITY if p_name.startswith("Thành phố") else ProvinceKind.PROVINCE
        provinces[p_code] = SourceUnit(p_code, p_name, p_short, kind)
        communes.append(SourceUnit(w_code, w_name, w_short, _COMMUNE_KINDS[w_type], p_code))
    return sorted(provinces.values(), key=lambda u: u.code), communes


def _differs(obj, values: dict) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


@transaction.atomic
def load_2025_map(*, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Upsert the 34 provinces and 3,321 communes valid from 2025-07-01. Idempotent; never deletes."""
    provinces, communes = read_2025_dataset()
    version = metadata.version(SOURCE)
    result = LoadResult(SOURCE, version, provinces=len(provinces), communes=len(communes))
    valid_from: dt.date = MAP_2025

    existing_p = {p.code: p for p in Province.objects.select_for_update().filter(valid_from=valid_from)}
    new_p, changed_p = [], []
    for unit in provinces:
        values = {"name": unit.name, "short_name": unit.short_name, "kind": unit.kind, "name_key": name_key(unit.name)}
        obj = existing_p.get(unit.code)
        if obj is None:
            new_p.append(Province(code=unit.code, valid_from=valid_from, **values))
        elif _differs(obj, values):
            for k, v in values.items():
                setattr(obj, k, v)
            changed_p.append(obj)
    Province.objects.bulk_create(new_p)
    Province.objects.bulk_update(changed_p, ["name", "short_name", "kind", "name_key"])
    if progress:
        progress(len(provinces))
    province_ids = dict(Province.objects.filter(valid_from=valid_from).values_list("code", "id"))

    existing_c = {c.code: c for c in Commune.objects.select_for_update().filter(valid_from=valid_from)}
    new_c, changed_c = [], []
    fields = ["name", "short_name", "kind", "province_id", "name_key", "name_folded"]
    for unit in communes:
        values = {
            "name": unit.name,
            "short_name": unit.short_name,
            "kind": unit.kind,
            "province_id": province_ids[unit.province_code],
            "name_key": name_key(unit.name),
            "name_folded": fold(unit.name),
        }
        obj = existing_c.get(unit.code)
        if obj is None:
            new_c.append(Commune(code=unit.code, valid_from=valid_from, **values))
        elif _differs(obj, values):
            for k, v in values.items():
                setattr(obj, k, v)
            changed_c.append(obj)
    Commune.objects.bulk_create(new_c, batch_size=1000)
    Commune.objects.bulk_update(changed_c, fields, batch_size=1000)
    if progress:
        progress(len(communes))

    # Coverage counts every current commune: mark the new and changed ones (their provinces follow).
    touched = {c.code for c in new_c} | {c.code for c in changed_c}
    if touched:
        communes_changed(Commune.objects.filter(valid_from=valid_from, code__in=touched).values_list("id", flat=True))

    source_codes = {u.code for u in communes}
    result.not_in_source = sorted(set(existing_c) - source_codes)
    result.created = len(new_p) + len(new_c)
    result.updated = len(changed_p) + len(changed_c)
    result.unchanged = len(provinces) + len(communes) - result.created - result.updated
    already_recorded = AreaSource.objects.filter(source=SOURCE, version=version, valid_from=valid_from).exists()
    if result.changed or not already_recorded:
        AreaSource.objects.create(
            source=SOURCE,
            version=version,
            valid_from=valid_from,
            provinces=len(provinces),
            communes=len(communes),
            created=result.created,
            updated=result.updated,
        )
    return result
