"""Loading both official maps (2025: 34 provinces; before: 63 provinces, 696 districts) and the 2025
crosswalk between them, from the vietnamadminunits dataset."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from django.db import transaction

from areas.changes import communes_changed
from areas.models import (
    MAP_2024,
    MAP_2025,
    AreaSource,
    Commune,
    CommuneKind,
    CommuneLink,
    District,
    DistrictKind,
    Province,
    ProvinceKind,
)
from areas.names import fold, name_key
from areas.services import hamlets_fill_old_commune

SOURCE = "vietnamadminunits"

_COMMUNE_KINDS = {
    "Xã": CommuneKind.COMMUNE,
    "Phường": CommuneKind.WARD,
    "Đặc khu": CommuneKind.SPECIAL_ZONE,
    "Thị trấn": CommuneKind.TOWNSHIP,
}
_DISTRICT_KINDS = {
    "Quận": DistrictKind.URBAN_DISTRICT,
    "Huyện": DistrictKind.RURAL_DISTRICT,
    "Thị xã": DistrictKind.TOWN,
    "Thành phố": DistrictKind.CITY,
}


@dataclass(frozen=True)
class SourceUnit:
    code: str
    name: str
    short_name: str
    kind: str
    province_code: str | None = None
    district_code: str | None = None
    # Where the package places the unit (its centre, WGS 84); the dashboard's maps draw it.
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class SourceLink:
    old_code: str
    new_code: str
    whole: bool
    is_default: bool


@dataclass
class OldMap:
    """The 63-province map as the package ships it, with each old province's successor and the crosswalk."""

    provinces: list[SourceUnit]
    districts: list[SourceUnit]
    communes: list[SourceUnit]
    successors: dict[str, str]  # old province code -> new province code
    links: list[SourceLink]
    new_codes: set[str]  # the communes of the 2025 map the links point into


@dataclass
class LoadResult:
    source: str
    version: str
    provinces: int = 0
    districts: int = 0
    communes: int = 0
    links: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_source: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _data_dir() -> Path:
    # find_spec locates the package without importing it (its import pulls in geopy and shapely: 0.3 s).
    spec = importlib.util.find_spec(SOURCE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"The {SOURCE} package is not installed.")
    return Path(spec.origin).parent / "data"


def dataset_path() -> Path:
    return _data_dir() / "dataset.db"


def converter_path() -> Path:
    return _data_dir() / "converter_2025.json"


def _read(sql: str, path: Path | None = None) -> list[tuple]:
    connection = sqlite3.connect(f"file:{path or dataset_path()}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _province_kind(name: str) -> str:
    return ProvinceKind.CITY if name.startswith("Thành phố") else ProvinceKind.PROVINCE


def read_2025_dataset(path: Path | None = None) -> tuple[list[SourceUnit], list[SourceUnit]]:
    """Provinces and communes of the 34-province map, as the package ships them."""
    rows = _read(
        "SELECT DISTINCT provinceCode, province, provinceShort, wardCode, ward, wardShort, wardType, wardLat, wardLon "
        "FROM admin_units ORDER BY wardCode",
        path,
    )
    provinces: dict[str, SourceUnit] = {}
    communes: list[SourceUnit] = []
    for p_code, p_name, p_short, w_code, w_name, w_short, w_type, lat, lon in rows:
        provinces[p_code] = SourceUnit(p_code, p_name, p_short, _province_kind(p_name))
        communes.append(
            SourceUnit(w_code, w_name, w_short, _COMMUNE_KINDS[w_type], p_code, latitude=lat, longitude=lon)
        )
    return sorted(provinces.values(), key=lambda u: u.code), communes


def read_2024_dataset(path: Path | None = None, converter: Path | None = None) -> OldMap:
    """The 63 provinces, 696 districts and 10,040 communes of the old map, and the 2025 crosswalk.

    The converter names units by keys (province_district_ward), not codes; both tables carry the keys,
    so every link resolves to a pair of codes. The five island districts without communes are the
    commune-level unit of their islands, under their 3-digit district code.
    """
    old_rows = _read(
        "SELECT provinceCode, province, provinceShort, districtCode, district, districtShort, districtType, "
        "wardCode, ward, wardShort, wardType, provinceKey, districtKey, wardKey "
        "FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode",
        path,
    )
    new_rows = _read("SELECT provinceCode, provinceKey, wardCode, wardKey FROM admin_units", path)
    with open(converter or converter_path(), encoding="utf-8") as handle:
        crosswalk = json.load(handle)

    provinces: dict[str, SourceUnit] = {}
    districts: dict[str, SourceUnit] = {}
    communes: list[SourceUnit] = []
    old_by_key: dict[str, str] = {}
    province_by_key: dict[str, str] = {}
    for p_code, p_name, p_short, d_code, d_name, d_short, d_type, w_code, w_name, w_short, w_type, *keys in old_rows:
        p_key, d_key, w_key = keys
        provinces[p_code] = SourceUnit(p_code, p_name, p_short, _province_kind(p_name))
        province_by_key[p_key] = p_code
        districts[d_code] = SourceUnit(d_code, d_name, d_short, _DISTRICT_KINDS[d_type], p_code)
        if w_code is None:
            communes.append(SourceUnit(d_code, d_name, d_short, CommuneKind.ISLAND_DISTRICT, p_code, d_code))
        else:
            communes.append(SourceUnit(w_code, w_name, w_short, _COMMUNE_KINDS[w_type], p_code, d_code))
        old_by_key[f"{p_key}_{d_key}_{w_key or ''}"] = w_code or d_code

    new_by_key = {(p_key, w_key): w_code for _, p_key, w_code, w_key in new_rows}
    new_province_by_key = {p_key: p_code for p_code, p_key, _, _ in new_rows}
    successors = {
        province_by_key[old_key]: new_province_by_key[new_key]
        for new_key, old_keys in crosswalk["DICT_PROVINCE"].items()
        for old_key in old_keys
    }
    links = [
        SourceLink(old_by_key[old_key], new_by_key[(p_key, w_key)], whole=True, is_default=True)
        for p_key, wards in crosswalk["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
        for w_key, old_keys in wards.items()
        for old_key in old_keys
    ]
    links += [
        SourceLink(
            old_by_key[old_key],
            new_by_key[(p_key, part["newWardKey"])],
            whole=False,
            is_default=part["isDefaultNewWard"],
        )
        for p_key, divided in crosswalk["DICT_PROVINCE_WARD_DIVIDED"].items()
        for old_key, parts in divided.items()
        for part in parts
    ]
    return OldMap(
        provinces=sorted(provinces.values(), key=lambda u: u.code),
        districts=sorted(districts.values(), key=lambda u: u.code),
        communes=communes,
        successors=successors,
        links=links,
        new_codes=set(new_by_key.values()),
    )


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


def _place(valid_from: dt.date, units: list[SourceUnit]) -> None:
    """Store where each commune lies, where it changed. Not a change of the map: coverage is not told."""
    wanted = {u.code: (u.latitude, u.longitude) for u in units}
    moved = []
    for commune in Commune.objects.filter(valid_from=valid_from, code__in=list(wanted)).only(
        "id", "code", "latitude", "longitude"
    ):
        if (commune.latitude, commune.longitude) != wanted[commune.code]:
            commune.latitude, commune.longitude = wanted[commune.code]
            moved.append(commune)
    Commune.objects.bulk_update(moved, ["latitude", "longitude"], batch_size=1000)


def _record(result: LoadResult, valid_from: dt.date) -> None:
    already = AreaSource.objects.filter(source=result.source, version=result.version, valid_from=valid_from).exists()
    if result.changed or not already:
        AreaSource.objects.create(
            source=result.source,
            version=result.version,
            valid_from=valid_from,
            provinces=result.provinces,
            districts=result.districts,
            communes=result.communes,
            links=result.links,
            created=result.created,
            updated=result.updated,
        )


@transaction.atomic
def load_2025_map(*, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Upsert the 34 provinces and 3,321 communes valid from 2025-07-01. Idempotent; never deletes."""
    provinces, communes = read_2025_dataset()
    result = LoadResult(SOURCE, metadata.version(SOURCE), provinces=len(provinces), communes=len(communes))
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
    _place(valid_from, communes)
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
    _record(result, valid_from)
    return result


def check_crosswalk(old: OldMap, loaded: set[str]) -> list[str]:
    """What is wrong with the crosswalk as shipped (nothing, for the edition we test against), given the
    codes of the 2025 communes loaded."""
    problems = []
    by_old: dict[str, list[SourceLink]] = {}
    for link in old.links:
        by_old.setdefault(link.old_code, []).append(link)
    old_codes = {u.code for u in old.communes}
    if missing := sorted(old_codes - set(by_old)):
        problems.append(f"{len(missing)} old communes have no successor, e.g. {missing[:3]}")
    for code, links in by_old.items():
        if sum(link.is_default for link in links) != 1:
            problems.append(f"old commune {code} has {sum(link.is_default for link in links)} default successors")
        if any(link.whole for link in links) and len(links) != 1:
            problems.append(f"old commune {code} went whole into one commune but has {len(links)} links")
    if orphans := sorted(old.new_codes - {link.new_code for link in old.links}):
        problems.append(f"{len(orphans)} new communes have no predecessor, e.g. {orphans[:3]}")
    if unloaded := sorted(old.new_codes - loaded):
        problems.append(f"{len(unloaded)} new communes are not loaded (run load_2025_map first), e.g. {unloaded[:3]}")
    return problems


@transaction.atomic
def load_2024_map(*, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Upsert the 63 provinces, 696 districts and 10,040 communes valid up to 2025-06-30, each old province's
    successor and the crosswalk to the 2025 communes (load_2025_map first). Idempotent; never deletes.

    When anything changed, every 2025 commune is marked for coverage: the 2024 map's figures are computed
    from them.
    """
    old = read_2024_dataset()
    new_provinces = dict(Province.objects.filter(valid_from=MAP_2025).values_list("code", "id"))
    new_communes = dict(Commune.objects.filter(valid_from=MAP_2025).values_list("code", "id"))
    problems = check_crosswalk(old, set(new_communes))
    if problems:
        raise ValueError("The crosswalk does not fit the 2025 map: " + "; ".join(problems[:10]))
    result = LoadResult(
        SOURCE,
        metadata.version(SOURCE),
        provinces=len(old.provinces),
        districts=len(old.districts),
        communes=len(old.communes),
        links=len(old.links),
    )
    valid_from, valid_to = MAP_2024, MAP_2025
    dated = {"valid_to": valid_to}

    new_p, changed_p, _ = _upsert(
        Province,
        valid_from,
        {
            u.code: dated
            | {
                "name": u.name,
                "short_name": u.short_name,
                "kind": u.kind,
                "name_key": name_key(u.name),
                "successor_id": new_provinces[old.successors[u.code]],
            }
            for u in old.provinces
        },
    )
    province_ids = dict(Province.objects.filter(valid_from=valid_from).values_list("code", "id"))
    new_d, changed_d, _ = _upsert(
        District,
        valid_from,
        {
            u.code: dated
            | {
                "name": u.name,
                "short_name": u.short_name,
                "kind": u.kind,
                "province_id": province_ids[u.province_code],
                "name_key": name_key(u.name),
            }
            for u in old.districts
        },
    )
    if progress:
        progress(len(old.provinces) + len(old.districts))
    district_ids = dict(District.objects.filter(valid_from=valid_from).values_list("code", "id"))
    new_c, changed_c, existing_c = _upsert(
        Commune,
        valid_from,
        {
            u.code: dated
            | {
                "name": u.name,
                "short_name": u.short_name,
                "kind": u.kind,
                "province_id": province_ids[u.province_code],
                "district_id": district_ids[u.district_code],
                "name_key": name_key(u.name),
                "name_folded": fold(u.name),
            }
            for u in old.communes
        },
    )
    if progress:
        progress(len(old.communes))

    old_communes = dict(Commune.objects.filter(valid_from=valid_from).values_list("code", "id"))
    wanted = {
        (old_communes[link.old_code], new_communes[link.new_code]): (link.whole, link.is_default) for link in old.links
    }
    existing = {(link.old_commune_id, link.new_commune_id): link for link in CommuneLink.objects.select_for_update()}
    new_links = [
        CommuneLink(old_commune_id=o, new_commune_id=n, whole=whole, is_default=default)
        for (o, n), (whole, default) in wanted.items()
        if (o, n) not in existing
    ]
    changed_links = []
    for pair, (whole, default) in wanted.items():
        link = existing.get(pair)
        if link is not None and (link.whole, link.is_default) != (whole, default):
            link.whole, link.is_default = whole, default
            changed_links.append(link)
    CommuneLink.objects.bulk_create(new_links, batch_size=2000)
    CommuneLink.objects.bulk_update(changed_links, ["whole", "is_default"], batch_size=2000)
    if progress:
        progress(len(old.links))

    # Hamlets recorded before the crosswalk was loaded: fill in the old commune where it is certain.
    hamlets_fill_old_commune()
    if new_p or changed_p or new_d or changed_d or new_c or changed_c or new_links or changed_links:
        # The 2024 map's figures are recomputed from the 2025 communes' marks: mark them all.
        communes_changed(new_communes.values())

    result.not_in_source = sorted(set(existing_c) - {u.code for u in old.communes})
    result.created = len(new_p) + len(new_d) + len(new_c) + len(new_links)
    result.updated = len(changed_p) + len(changed_d) + len(changed_c) + len(changed_links)
    result.unchanged = (
        len(old.provinces) + len(old.districts) + len(old.communes) + len(old.links) - result.created - result.updated
    )
    _record(result, valid_from)
    return result


@transaction.atomic
def load_maps(*, progress: Callable[[int], None] | None = None) -> tuple[LoadResult, LoadResult]:
    """Both maps and the crosswalk, in one transaction: the 2025 map, then the old one linked to it."""
    return load_2025_map(progress=progress), load_2024_map(progress=progress)
