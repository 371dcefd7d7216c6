"""The one set-based computation of coverage figures, used by the full and the incremental path alike.

compute_communes() reads the source rows with a fixed number of GROUP BY queries, whatever the
number of communes; the filter is the only difference between a full and an incremental run.
Province and national figures are rolled up from the stored commune figures, over the units that the
map holds on the day (map_totals): a commune without stored figures counts as zero, never as absent.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from activities.models import Activity
from activities.selectors import activity_type_codes
from areas.models import Commune, Hamlet, Province, valid_on
from coverage.models import NationalFigures
from members.models import Background, Member, MemberRole
from teams.models import SizeStatus, Team, TeamStatus

COUNTS = (
    "hamlets_total",
    "hamlets_covered",
    "teams_active",
    "teams_commune_level",
    "teams_hamlet_level",
    "members_active",
    "activities",
    "people_helped",
    "activities_quarter",
    "people_helped_quarter",
    "hamlets_old_commune_missing",
)
BREAKDOWNS = (
    "teams_by_size_status",
    "members_by_role",
    "members_by_background",
    "activities_by_type",
    "activities_by_type_quarter",
)


def quarter_of(day: dt.date) -> tuple[str, dt.date]:
    """("2026-Q4", 2026-10-01) for any day of that quarter."""
    index = (day.month - 1) // 3
    return f"{day.year}-Q{index + 1}", dt.date(day.year, index * 3 + 1, 1)


def next_quarter_start(day: dt.date) -> dt.date:
    _, start = quarter_of(day)
    return dt.date(start.year + 1, 1, 1) if start.month == 10 else dt.date(start.year, start.month + 3, 1)


def province_complete(communes_covered: int, communes_total: int) -> bool:
    """A province is complete (at commune level) when every current commune in it is covered."""
    return communes_total > 0 and communes_covered == communes_total


def map_provinces(today: dt.date):
    """Provinces current on the day, each annotated with `communes_on_map`: its communes current that day."""
    return Province.objects.current(today).annotate(
        communes_on_map=Count("communes", filter=valid_on(today, "communes__"))
    )


def map_totals(today: dt.date) -> dict[int, int]:
    """{province id: number of its communes} for every province current on the day (zero-commune ones too)."""
    return dict(map_provinces(today).values_list("id", "communes_on_map").order_by())


def valid_until(today: dt.date) -> dt.date:
    """The first day after `today` on which figures computed today stop being true without any write:
    a new quarter starts, or a province or commune starts or stops being valid."""
    bounds = [next_quarter_start(today)]
    for model in (Province, Commune):
        found = model.objects.aggregate(
            starts=Min("valid_from", filter=Q(valid_from__gt=today)),
            ends=Min("valid_to", filter=Q(valid_to__gt=today)),
        )
        bounds += [day for day in found.values() if day is not None]
    return min(bounds)


def figures_outdated(today: dt.date | None = None, *, check_map: bool = True) -> bool:
    """True when the stored figures no longer hold without any write: never computed, or computed before
    the quarter changed or a unit became valid or retired (NationalFigures.valid_until), or (check_map)
    the map's unit counts differ from the stored ones: a map edit that marked nothing still shows there."""
    today = today or timezone.localdate()
    row = NationalFigures.objects.filter(pk=1).values("valid_until", "provinces_total", "communes_total").first()
    if row is None or row["valid_until"] is None or row["valid_until"] <= today:
        return True
    if not check_map:
        return False
    on_map = (Province.objects.current(today).count(), Commune.objects.current(today).count())
    return (row["provinces_total"], row["communes_total"]) != on_map


def empty_figures(type_codes: list[str], quarter: str) -> dict:
    """The figures of a unit where nothing is recorded: every count zero, every breakdown key present."""
    return _finish(_empty(type_codes) | {"quarter": quarter})


def _empty(type_codes: list[str]) -> dict:
    figures: dict = dict.fromkeys(COUNTS, 0)
    figures["teams_by_size_status"] = dict.fromkeys(SizeStatus.values, 0)
    figures["members_by_role"] = dict.fromkeys(MemberRole.values, 0)
    figures["members_by_background"] = dict.fromkeys(Background.values, 0)
    figures["activities_by_type"] = {code: {"activities": 0, "people_helped": 0} for code in type_codes}
    figures["activities_by_type_quarter"] = {code: {"activities": 0, "people_helped": 0} for code in type_codes}
    return figures


def _finish(figures: dict) -> dict:
    total = figures["hamlets_total"]
    figures["hamlet_coverage"] = round(figures["hamlets_covered"] / total, 6) if total else 0.0
    return figures


def compute_communes(
    commune_ids=None, *, today: dt.date | None = None, type_codes: list[str] | None = None
) -> dict[int, dict]:
    """Figures of these communes (every current commune when None), keyed by commune id.

    Six queries: communes, activity types (unless given), hamlets, teams, members, activities.
    """
    today = today or timezone.localdate()
    quarter, quarter_start = quarter_of(today)
    communes = Commune.objects.current(today)
    scope = Q()
    if commune_ids is not None:
        ids = sorted(set(commune_ids))
        communes = communes.filter(pk__in=ids)
        scope = Q(commune_id__in=ids)
    type_codes = activity_type_codes() if type_codes is None else type_codes
    result: dict[int, dict] = {}
    for commune_id, province_id in communes.values_list("id", "province_id"):
        figures = _empty(type_codes)
        figures["province_id"] = province_id
        figures["quarter"] = quarter
        result[commune_id] = figures

    hamlets = (
        Hamlet.objects.filter(scope, active=True)
        .values("commune_id")
        .annotate(
            total=Count("id", distinct=True),
            covered=Count("id", filter=Q(teams__status="active"), distinct=True),
            old_missing=Count("id", filter=Q(old_commune__isnull=True), distinct=True),
        )
    )
    for row in hamlets:
        figures = result.get(row["commune_id"])
        if figures is not None:
            figures["hamlets_total"] = row["total"]
            figures["hamlets_covered"] = row["covered"]
            figures["hamlets_old_commune_missing"] = row["old_missing"]

    teams = (
        Team.objects.filter(scope, status=TeamStatus.ACTIVE)
        .values("commune_id", "size_status")
        .annotate(n=Count("id"), at_hamlet=Count("id", filter=Q(hamlet__isnull=False)))
    )
    for row in teams:
        figures = result.get(row["commune_id"])
        if figures is not None:
            figures["teams_active"] += row["n"]
            figures["teams_hamlet_level"] += row["at_hamlet"]
            figures["teams_commune_level"] += row["n"] - row["at_hamlet"]
            figures["teams_by_size_status"][row["size_status"]] += row["n"]

    members = (
        Member.objects.filter(scope, active=True).values("commune_id", "role", "background").annotate(n=Count("id"))
    )
    for row in members:
        figures = result.get(row["commune_id"])
        if figures is not None:
            figures["members_active"] += row["n"]
            figures["members_by_role"][row["role"]] += row["n"]
            figures["members_by_background"][row["background"]] += row["n"]

    in_quarter = Q(occurred_on__gte=quarter_start)
    activities = (
        Activity.objects.filter(scope, deleted=False)
        .values("commune_id", "type_id")
        .annotate(
            n=Count("id"),
            people=Sum("people_helped"),
            n_quarter=Count("id", filter=in_quarter),
            people_quarter=Sum("people_helped", filter=in_quarter),
        )
    )
    for row in activities:
        figures = result.get(row["commune_id"])
        if figures is None:
            continue
        people, people_quarter = row["people"] or 0, row["people_quarter"] or 0
        figures["activities"] += row["n"]
        figures["people_helped"] += people
        figures["activities_quarter"] += row["n_quarter"]
        figures["people_helped_quarter"] += people_quarter
        by_type = figures["activities_by_type"].setdefault(row["type_id"], {"activities": 0, "people_helped": 0})
        by_type["activities"] += row["n"]
        by_type["people_helped"] += people
        by_quarter = figures["activities_by_type_quarter"].setdefault(
            row["type_id"], {"activities": 0, "people_helped": 0}
        )
        by_quarter["activities"] += row["n_quarter"]
        by_quarter["people_helped"] += people_quarter

    for figures in result.values():
        _finish(figures)
        figures["covered"] = figures["teams_active"] > 0
        figures["fully_covered"] = figures["covered"] and figures["hamlets_covered"] == figures["hamlets_total"]
    return result


def _add(total: dict, part: dict) -> None:
    for name in COUNTS:
        total[name] += part[name]
    for name in ("teams_by_size_status", "members_by_role", "members_by_background"):
        for key, value in part[name].items():
            total[name][key] = total[name].get(key, 0) + value
    for name in ("activities_by_type", "activities_by_type_quarter"):
        for key, value in part[name].items():
            slot = total[name].setdefault(key, {"activities": 0, "people_helped": 0})
            slot["activities"] += value["activities"]
            slot["people_helped"] += value["people_helped"]


def roll_up_provinces(
    commune_rows: list[dict], totals: dict[int, int], quarter: str, type_codes: list[str]
) -> dict[int, dict]:
    """Figures of the provinces in `totals` ({province id: its communes on the map}) from their current
    communes' figures. communes_total comes from the map: a commune with no figures row is uncovered."""
    result = {}
    for province_id, communes_total in totals.items():
        figures = _empty(type_codes)
        figures.update(quarter=quarter, communes_total=communes_total, communes_covered=0, communes_fully_covered=0)
        result[province_id] = figures
    for row in commune_rows:
        figures = result.get(row["province_id"])
        if figures is None:
            continue
        _add(figures, row)
        figures["communes_covered"] += int(row["covered"])
        figures["communes_fully_covered"] += int(row["fully_covered"])
    for figures in result.values():
        _finish(figures)
        figures["complete"] = province_complete(figures["communes_covered"], figures["communes_total"])
    return result


def roll_up_nation(province_rows: list[dict], quarter: str, type_codes: list[str]) -> dict:
    """National figures from the figures of every current province (the caller passes them all)."""
    figures = _empty(type_codes)
    figures.update(
        quarter=quarter,
        communes_total=0,
        communes_covered=0,
        communes_fully_covered=0,
        provinces_total=len(province_rows),
        provinces_complete=0,
    )
    for row in province_rows:
        _add(figures, row)
        for name in ("communes_total", "communes_covered", "communes_fully_covered"):
            figures[name] += row[name]
        figures["provinces_complete"] += int(province_complete(row["communes_covered"], row["communes_total"]))
    return _finish(figures)
