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


def _upsert(model, valid_from: dt.date, wanted: dict[str, dict]) -> tuple[list, list, dict]:
    """Create the units of this map that are missing and update the ones that differ, by code, in bulk.

    Returns (created, changed, the rows that existed before).
    """
    existing = {obj.code: obj for obj in model.objects.select_for_update().filter(valid_from=valid_from)}
    created, changed = [], []
    for code, values in wanted.items():
        obj = existing.get(code)
        if obj is None:
            created.append(model(code=code, valid_from=valid_from, **values))
        elif any(getattr(obj, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(obj, k, v)
            changed.append(obj)
    model.objects.bulk_create(created, batch_size=1000)
    if changed:
        model.objects.bulk_update(changed, list(next(iter(wanted.values()))), batch_size=1000)
    return created, changed, existing


@transaction.atomic
def load_2025_map(*, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Upsert the 34 provinces and 3,321 communes valid from 2025-07-01. Idempotent; never deletes."""
    provinces, communes = read_2025_dataset()
    version = metadata.version(SOURCE)
    result = LoadResult(SOURCE, version, provinces=len(provinces), communes=len(communes))
    valid_from: dt.date = MAP_2025

    new_p, changed_p, _existing = _upsert(
        Province,
        valid_from,
        {
            u.code: {"name": u.name, "short_name": u.short_name, "kind": u.kind, "name_key": name_key(u.name)}
            for u in provinces
        },
    )
    if progress:
        progress(len(provinces))
    province_ids = dict(Province.objects.filter(valid_from=valid_from).values_list("code", "id"))

    new_c, changed_c, existing_c = _upsert(
        Commune,
        valid_from,
        {
            u.code: {
                "name": u.name,
                "short_name": u.short_name,
                "kind": u.kind,
                "province_id": province_ids[u.province_code],
                "name_key": name_key(u.name),
                "name_folded": fold(u.name),
            }
            for u in communes
        },
    )
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
