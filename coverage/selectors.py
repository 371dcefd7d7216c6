"""Reads of coverage figures (current or from a day's snapshot), scoped to the caller."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import NATION, scope_of
from activities.models import ActivityType
from areas import maps
from areas.models import Commune, DirtyCommune, Hamlet, Province
from config.errors import NotFound, invalid
from coverage.compute import (
    BREAKDOWNS,
    COUNTS,
    activity_type_codes,
    empty_figures,
    figures_outdated,
    map_provinces,
    next_quarter_start,
    previous_quarter_start,
    province_complete,
    quarter_of,
)
from coverage.models import (
    NATION_2024,
    NATION_2025,
    CommuneFigures,
    Level,
    NationalFigures,
    ProvinceFigures,
    ReconcileRun,
    Snapshot,
)
from teams.models import Team, TeamStatus

_COMMON = [*COUNTS, "hamlet_coverage", "quarter", *BREAKDOWNS, "computed_at"]
COMMUNE_FIELDS = ["covered", "fully_covered", *_COMMON]
PROVINCE_FIELDS = [
    "communes_total",
    "communes_covered",
    "communes_covered_max",
    "communes_fully_covered",
    "complete",
    *_COMMON,
]
NATION_FIELDS = [
    "provinces_total",
    "provinces_complete",
    "provinces_complete_max",
    "communes_total",
    "communes_covered",
    "communes_covered_max",
    "communes_fully_covered",
    *_COMMON,
]
_BEFORE_IT_EXISTED = {
    "hamlets_old_commune_missing": "hamlets_total",
    "teams_unattributed": None,
    "communes_covered_max": "communes_covered",
    "provinces_complete_max": "provinces_complete",
}
_NOTHING_COVERED = {"communes_covered": 0, "communes_covered_max": 0, "communes_fully_covered": 0}
# The 2024-map unit a waiting mark (on a 2025 commune) makes stale.
_OLD_COMMUNE_OF_MARK = "commune__predecessor_links__old_commune_id"
_OLD_PROVINCE_OF_MARK = "commune__predecessor_links__old_commune__province_id"


PROVINCE_ORDERINGS = {
    "code",
    "name",
    "communes_covered",
    "communes_fully_covered",
    "hamlet_coverage",
    "teams_active",
    "members_active",
    "activities",
    "people_helped",
}
COMMUNE_ORDERINGS = {
    "code",
    "name",
    "hamlet_coverage",
    "hamlets_covered",
    "hamlets_total",
    "teams_active",
    "members_active",
    "activities",
}


def not_found() -> NotFound:
    return NotFound(_("Not found."))


def _pick(values: dict, fields: list[str]) -> dict:
    picked = {name: values.get(name) for name in fields}
    # A snapshot taken before a figure existed: what it was then (no hamlet recorded its old commune, and
    # nothing was uncertain on the 2025 map).
    for name, then in _BEFORE_IT_EXISTED.items():
        if name in picked and picked[name] is None:
            picked[name] = values.get(then, 0) if then else 0
    if isinstance(picked.get("computed_at"), str):  # a snapshot's JSON holds it as text: a datetime again
        picked["computed_at"] = dt.datetime.fromisoformat(picked["computed_at"])
    return picked


def _check_ordering(ordering: str | None, allowed: set[str]) -> None:
    if ordering and ordering.removeprefix("-") not in allowed:
        raise invalid(ordering=f"{ordering.removeprefix('-')}: {', '.join(sorted(allowed))}")


def _ordered(rows: list[dict], ordering: str | None) -> list[dict]:
    """Rows (already in code order) by one figure, e.g. "-hamlet_coverage"; ties keep code order."""
    if not ordering:
        return rows
    field = ordering.removeprefix("-")
    return sorted(rows, key=lambda r: (r[field] is None, r[field]), reverse=ordering.startswith("-"))


def _snapshots(user, level: str, day: dt.date, on_map: maps.Map) -> QuerySet[Snapshot]:
    return Snapshot.objects.visible_to(user).filter(level=level, day=day, map=on_map.key)


def map_day(on_map: maps.Map, today: dt.date) -> dt.date:
    """The day whose units make up the map: today for the map in force, the last day of an earlier one."""
    return today if on_map is maps.CURRENT else on_map.day()


def marks_of(communes, on_map: maps.Map) -> QuerySet[DirtyCommune]:
    """The waiting marks that make these communes' figures stale: their own, or on the 2024 map, those of
    the 2025 communes they went into (every write marks a 2025 commune)."""
    if on_map is maps.CURRENT:
        return DirtyCommune.objects.filter(commune__in=communes)
    return DirtyCommune.objects.filter(commune__predecessor_links__old_commune__in=communes)


def _missing(types: list[str] | None, quarter: str) -> dict:
    """The figures of a unit that has no stored row yet: zeros, never computed."""
    return {**empty_figures(types if types is not None else activity_type_codes(), quarter), "computed_at": None}


def national(*, user, as_of: dt.date | None = None, on_map: maps.Map = maps.CURRENT) -> dict:
    """The nation's figures on a map. Totals and completeness come from the map (of today, for the map in
    force), whatever is stored.

    Queries: national row, the map's provinces with their communes counted and covered, waiting marks
    (and the activity types when nothing is stored yet).
    """
    if scope_of(user).level != NATION:
        raise not_found()
    head = {"code": "VN", "name": "Việt Nam", "map": on_map.key}
    if as_of:
        snapshot = _snapshots(user, Level.NATION, as_of, on_map).first()
        if snapshot is None:
            raise not_found()
        return {**head, **_pick(snapshot.figures, NATION_FIELDS), "stale": False}
    today = timezone.localdate()
    row = NationalFigures.objects.filter(pk=NATION_2024 if on_map is maps.OLD else NATION_2025).values().first()
    stored_covered = ProvinceFigures.objects.filter(province_id=OuterRef("pk")).values("communes_covered")[:1]
    per_province = map_provinces(map_day(on_map, today)).annotate(covered=Subquery(stored_covered)).order_by()
    totals, covered = {}, {}
    for province_id, communes_on_map, communes_covered in per_province.values_list("id", "communes_on_map", "covered"):
        totals[province_id], covered[province_id] = communes_on_map, communes_covered or 0
    figures = dict(row) if row else _missing(None, quarter_of(today)[0]) | _NOTHING_COVERED
    from_map = {
        "provinces_total": len(totals),
        "communes_total": sum(totals.values()),
        "provinces_complete": sum(province_complete(covered.get(p, 0), n) for p, n in totals.items()),
    }
    stale = (
        row is None
        or row["valid_until"] is None
        or row["valid_until"] <= today
        or any(row[name] != value for name, value in from_map.items())
        or DirtyCommune.objects.exists()
    )
    return {**head, **_pick(figures | from_map, NATION_FIELDS), "stale": stale}


def provinces(
    *,
    user,
    as_of: dt.date | None = None,
    code: str | None = None,
    ordering: str | None = None,
    on_map: maps.Map = maps.CURRENT,
) -> list[dict]:
    """Every current province in scope with its figures, by code (or by `ordering`, one of
    PROVINCE_ORDERINGS, "-" for descending); zeros for one with nothing stored.

    Queries: provinces with their communes counted, their figures, waiting marks, the national row's
    validity (and the activity types when a province has nothing stored yet).
    """
    _check_ordering(ordering, PROVINCE_ORDERINGS)
    return _ordered(_provinces(user=user, as_of=as_of, code=code, on_map=on_map), ordering)


def _provinces(*, user, as_of: dt.date | None, code: str | None, on_map: maps.Map) -> list[dict]:
    today = timezone.localdate()
    units = map_provinces(map_day(on_map, today)).visible_to(user)
    if code:
        units = units.filter(code=code)
    unit_by_id = {p["id"]: p for p in units.values("id", "code", "name", "communes_on_map")}
    if as_of:
        rows = [
            {
                "code": s.code,
                "name": unit_by_id[s.province_id]["name"],
                "map": on_map.key,
                **_pick(s.figures, PROVINCE_FIELDS),
                "stale": False,
            }
            for s in _snapshots(user, Level.PROVINCE, as_of, on_map).filter(province_id__in=list(unit_by_id))
        ]
        return sorted(rows, key=lambda r: r["code"])
    if not unit_by_id:
        return []
    totals = {province_id: unit["communes_on_map"] for province_id, unit in unit_by_id.items()}
    stored = {r["province_id"]: r for r in ProvinceFigures.objects.filter(province_id__in=list(unit_by_id)).values()}
    dirty = set(
        marks_of(Commune.objects.filter(province_id__in=list(unit_by_id)), on_map)
        .values_list("commune__province_id" if on_map is maps.CURRENT else _OLD_PROVINCE_OF_MARK, flat=True)
        .distinct()
    )
    outdated = figures_outdated(today, check_map=False)
    types = None if len(stored) == len(unit_by_id) else activity_type_codes()
    quarter = quarter_of(today)[0]
    rows = []
    for province_id, unit in unit_by_id.items():
        row = stored.get(province_id)
        figures = dict(row) if row else _missing(types, quarter) | _NOTHING_COVERED
        figures["communes_total"] = totals[province_id]
        figures["complete"] = province_complete(figures["communes_covered"], totals[province_id])
        stale = row is None or outdated or province_id in dirty or row["communes_total"] != totals[province_id]
        head = {"code": unit["code"], "name": unit["name"], "map": on_map.key}
        rows.append({**head, **_pick(figures, PROVINCE_FIELDS), "stale": stale})
    return sorted(rows, key=lambda r: r["code"])


def province_communes(
    *,
    user,
    province_code: str,
    as_of: dt.date | None = None,
    covered: bool | None = None,
    fully_covered: bool | None = None,
    ordering: str | None = None,
    on_map: maps.Map = maps.CURRENT,
) -> list[dict]:
    """A current province's communes in scope with their figures, by code (or by `ordering`, one of
    COMMUNE_ORDERINGS), optionally only those (not) covered or (not) fully covered; 404 when the
    province is not current or out of scope.

    Queries: the province in scope, then those of `communes`.
    """
    day = map_day(on_map, timezone.localdate())
    if not Province.objects.current(day).visible_to(user).filter(code=province_code).exists():
        raise not_found()
    _check_ordering(ordering, COMMUNE_ORDERINGS)
    rows = communes(user=user, province_code=province_code, as_of=as_of, on_map=on_map)
    for name, wanted in (("covered", covered), ("fully_covered", fully_covered)):
        if wanted is not None:
            rows = [r for r in rows if r[name] == wanted]
    return _ordered(rows, ordering)


def communes(
    *,
    user,
    province_code: str | None = None,
    as_of: dt.date | None = None,
    code: str | None = None,
    on_map: maps.Map = maps.CURRENT,
) -> list[dict]:
    """Current communes in scope (optionally of one province) with their figures, by code; zeros for one
    with nothing stored.

    Queries: communes with their provinces, their figures, waiting marks, the national row's validity
    (and the activity types when a commune has nothing stored yet).
    """
    today = timezone.localdate()
    units = Commune.objects.current(map_day(on_map, today)).visible_to(user).select_related("province")
    if province_code:
        units = units.filter(province__code=province_code)
    if code:
        units = units.filter(code=code)
    unit_by_id = {c.id: c for c in units}
    if not unit_by_id:
        return []
    if as_of:
        qs = _snapshots(user, Level.COMMUNE, as_of, on_map).filter(commune_id__in=list(unit_by_id))
        found = [(s.commune_id, s.figures, False) for s in qs]
    else:
        stored = {r["commune_id"]: r for r in CommuneFigures.objects.filter(commune_id__in=list(unit_by_id)).values()}
        marks = marks_of(list(unit_by_id), on_map)
        dirty = set(marks.values_list("commune_id" if on_map is maps.CURRENT else _OLD_COMMUNE_OF_MARK, flat=True))
        outdated = figures_outdated(today, check_map=False)
        types = None if len(stored) == len(unit_by_id) else activity_type_codes()
        quarter = quarter_of(today)[0]
        missing = {"covered": False, "fully_covered": False}
        found = [
            (
                commune_id,
                stored[commune_id] if commune_id in stored else _missing(types, quarter) | missing,
                commune_id not in stored or outdated or commune_id in dirty,
            )
            for commune_id in unit_by_id
        ]
    result = [
        {
            "code": unit_by_id[commune_id].code,
            "name": unit_by_id[commune_id].name,
            "kind": unit_by_id[commune_id].kind,
            "province": unit_by_id[commune_id].province.code,
            "map": on_map.key,
            **_pick(figures, COMMUNE_FIELDS),
            "stale": is_stale,
        }
        for commune_id, figures, is_stale in found
    ]
    return sorted(result, key=lambda r: r["code"])


def commune_coverage_flags(*, user) -> dict[str, tuple[bool, bool]]:
    """Every current commune in scope with stored figures: code -> (covered, fully_covered), as stored (a
    commune without a row has no team yet). For the national map: one query, no per-row work."""
    rows = CommuneFigures.objects.visible_to(user).filter(commune__in=Commune.objects.current())
    flags = rows.values_list("commune__code", "covered", "fully_covered")
    return {code: (covered, full) for code, covered, full in flags}


def commune_hamlets(*, user, commune_code: str, on_map: maps.Map = maps.CURRENT) -> list[dict]:
    """The commune's active hamlets and whether each has an active team (live, not from the figures); on the
    2024 map, the hamlets recorded in that old commune."""
    day = map_day(on_map, timezone.localdate())
    commune = Commune.objects.current(day).visible_to(user).filter(code=commune_code).first()
    if commune is None:
        raise not_found()
    active_team = Team.objects.filter(hamlet=OuterRef("pk"), status=TeamStatus.ACTIVE)
    where = {"commune": commune} if on_map is maps.CURRENT else {"old_commune": commune}
    hamlets = (
        Hamlet.objects.filter(active=True, **where)
        .annotate(covered=Exists(active_team))
        .order_by("name_key", "id")
        .values("id", "name", "kind", "covered")
    )
    return list(hamlets)


def quarter_ends(*, user, level: str, code: str, on_map: maps.Map = maps.CURRENT, limit: int = 8) -> list[dict]:
    """A unit's figures at the end of each quarter that has a snapshot (its last snapshot day in the quarter),
    oldest first, the last `limit` quarters: the trend. Each is {"quarter", "day", **figures}.

    Queries: the unit's snapshot days, then the figures of the days kept.
    """
    snapshots = Snapshot.objects.visible_to(user).filter(level=level, code=code, map=on_map.key)
    last_day: dict[str, dt.date] = {}
    for day in snapshots.order_by("day").values_list("day", flat=True):
        last_day[quarter_of(day)[0]] = day
    kept = dict(sorted(last_day.items())[-limit:])
    if not kept:
        return []
    fields = NATION_FIELDS if level == Level.NATION else PROVINCE_FIELDS if level == Level.PROVINCE else COMMUNE_FIELDS
    by_day = dict(snapshots.filter(day__in=list(kept.values())).values_list("day", "figures"))
    return [{**_pick(by_day[day], fields), "quarter": quarter, "day": day} for quarter, day in kept.items()]


# Years of this service: 2000–2099 (a year 0 or 1 has no quarter before it that a date can hold).
QUARTER_PATTERN = re.compile(r"^(20[0-9]{2})-Q([1-4])$")


def quarter_start(label: str) -> dt.date:
    """The first day of a quarter named like "2026-Q3"; a field error on `quarter` otherwise."""
    match = QUARTER_PATTERN.match(label or "")
    if not match:
        raise invalid(quarter=_("Write the quarter as YYYY-Qn, for example 2026-Q3."))
    return dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)


def quarter_report(*, user, quarter: str, province_code: str | None = None) -> dict:
    """A scope's figures for the quarterly report (the nation, or one province), with its units (provinces, or
    the province's communes) and the figures at the end of the quarter before, when kept.

    A closed quarter is read from its last snapshot (the nightly one of its last day, normally); the quarter in
    progress from the current figures. Returns {"quarter", "day" (the snapshot's, or None: current figures),
    "figures", "units", "previous" ({"quarter", "day", "figures"} or None), "first_snapshot"}; "figures" is None
    when no snapshot of that quarter is kept (a quarter before the first snapshot). 404 out of scope; a 400 on
    `quarter` for a quarter not yet begun or a label that is not one.
    """
    start = quarter_start(quarter)
    today = timezone.localdate()
    current_label, current_start = quarter_of(today)
    if start > current_start:
        raise invalid(quarter=_("The quarter %(quarter)s has not begun.") % {"quarter": quarter})
    if province_code is None:
        level, code = Level.NATION, "VN"
        if scope_of(user).level != NATION:
            raise not_found()
    else:
        level, code = Level.PROVINCE, province_code
        if not Province.objects.current().visible_to(user).filter(code=code).exists():
            raise not_found()
    days = Snapshot.objects.visible_to(user).filter(level=level, code=code, map=maps.CURRENT.key)
    first = days.order_by("day").values_list("day", flat=True).first()
    previous_start = previous_quarter_start(start)
    last_of = {}
    for day in days.filter(day__gte=previous_start, day__lt=next_quarter_start(start)).values_list("day", flat=True):
        label = quarter_of(day)[0]
        last_of[label] = max(day, last_of.get(label, day))

    def read(as_of: dt.date | None) -> tuple[dict, list[dict]]:
        if province_code is None:
            return national(user=user, as_of=as_of), provinces(user=user, as_of=as_of)
        return provinces(user=user, as_of=as_of, code=code)[0], communes(user=user, province_code=code, as_of=as_of)

    previous_label = quarter_of(previous_start)[0]
    previous = None
    if previous_label in last_of:
        day = last_of[previous_label]
        previous = {"quarter": previous_label, "day": day, "figures": read(day)[0]}
    report = {"quarter": quarter, "day": None, "figures": None, "units": [], "previous": previous}
    report["first_snapshot"] = first
    if quarter == current_label:
        report["figures"], report["units"] = read(None)
    elif quarter in last_of:
        report["day"] = last_of[quarter]
        report["figures"], report["units"] = read(last_of[quarter])
    return report


def activity_type_names() -> dict[str, str]:
    """Each activity type's Vietnamese name by code: the export's column headers for the by-type figures."""
    return dict(ActivityType.objects.order_by("sort_order", "code").values_list("code", "name_vi"))


def coverage_health() -> dict:
    """For /health/: when the last reconcile ran and how many figures it found wrong, and the marks waiting."""
    run = ReconcileRun.objects.order_by("-started_at").values("finished_at", "differences").first()
    marks = DirtyCommune.objects.aggregate(n=Count("id"), oldest=Min("marked_at"))
    oldest = marks["oldest"]
    return {
        "last_reconcile": run["finished_at"] if run else None,
        "reconcile_differences": run["differences"] if run else None,
        "marks_waiting": marks["n"],
        "oldest_mark_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else None,
    }
