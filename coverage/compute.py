"""The one set-based computation of coverage figures, used by the full and the incremental path alike.

read_sources() reads the source rows with four GROUP BY queries, whatever the number of communes, each group
carrying its place on the 2024 map, so that one read serves both maps; compute_communes() and
compute_old_communes() turn them into figures. The filter is the only difference between a full and an
incremental run. Province and national figures are rolled up from the commune figures (in memory on the
full path, stored on the incremental one), over the units that the map holds on the day (map_totals): a
commune without figures counts as zero, never as absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from activities.models import LifetimeTally, QuarterTally
from activities.selectors import activity_type_codes
from areas import maps
from areas.models import Commune, CommuneLink, Hamlet, Province, valid_on
from areas.services import sole_predecessors
from coverage.models import CommuneFigures, NationalFigures
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
    "teams_unattributed",
)
# The figures made of activities alone: all that an activity's sync, edit or deletion can change.
ACTIVITY_FIGURES = (
    "activities",
    "people_helped",
    "activities_quarter",
    "people_helped_quarter",
    "activities_by_type",
    "activities_by_type_quarter",
)
BREAKDOWNS = (
    "teams_by_size_status",
    "members_by_role",
    "members_by_background",
    "activities_by_type",
    "activities_by_type_quarter",
)


# A team whose place on the 2024 map is not recorded: a hamlet-level team whose hamlet has no old
# commune, or a commune-level team without one (unless its commune was made of one old commune).
UNPLACED = Q(hamlet__isnull=False, hamlet__old_commune__isnull=True) | Q(hamlet__isnull=True, old_commune__isnull=True)


def quarter_of(day: dt.date) -> tuple[str, dt.date]:
    """("2026-Q4", 2026-10-01) for any day of that quarter."""
    index = (day.month - 1) // 3
    return f"{day.year}-Q{index + 1}", dt.date(day.year, index * 3 + 1, 1)


def next_quarter_start(day: dt.date) -> dt.date:
    _, start = quarter_of(day)
    return dt.date(start.year + 1, 1, 1) if start.month == 10 else dt.date(start.year, start.month + 3, 1)


def previous_quarter_start(day: dt.date) -> dt.date:
    """The first day of the quarter before the one `day` is in."""
    _, start = quarter_of(day)
    return dt.date(start.year - 1, 10, 1) if start.month == 1 else dt.date(start.year, start.month - 3, 1)


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


# The breakdowns' keys, read once: an enum's .values builds a new list on every call, and a full recompute
# builds empty figures for some 13,000 communes of both maps.
_SIZE_STATUSES = tuple(SizeStatus.values)
_ROLES = tuple(MemberRole.values)
_BACKGROUNDS = tuple(Background.values)


def _empty(type_codes: list[str]) -> dict:
    figures: dict = dict.fromkeys(COUNTS, 0)
    figures["teams_by_size_status"] = dict.fromkeys(_SIZE_STATUSES, 0)
    figures["members_by_role"] = dict.fromkeys(_ROLES, 0)
    figures["members_by_background"] = dict.fromkeys(_BACKGROUNDS, 0)
    figures["activities_by_type"] = {code: {"activities": 0, "people_helped": 0} for code in type_codes}
    figures["activities_by_type_quarter"] = {code: {"activities": 0, "people_helped": 0} for code in type_codes}
    return figures


def _finish(figures: dict) -> dict:
    total = figures["hamlets_total"]
    figures["hamlet_coverage"] = round(figures["hamlets_covered"] / total, 6) if total else 0.0
    return figures


@dataclass
class Sources:
    """The source rows of some 2025 communes (all when `commune_ids` is None), grouped; each group carries its
    place on the 2024 map (`placed`: the hamlet's old commune, else a commune-level team's own; None when not
    recorded), so that one read serves both maps. Tuples, in these orders:

    hamlets (commune_id, old_commune_id, total, covered, old_missing); teams (commune_id, placed, size_status, n,
    at_hamlet, unplaced); members (commune_id, placed, role, background, n); activities (commune_id, placed,
    type_id, n, people, n_quarter, people_quarter).
    """

    commune_ids: frozenset[int] | None
    hamlets: list[tuple]
    teams: list[tuple]
    members: list[tuple]
    activities: list[tuple]

    def covers(self, commune_ids) -> bool:
        return self.commune_ids is None or self.commune_ids.issuperset(commune_ids)

    def release(self) -> None:
        """Drop the rows once the last map has read them: a full recompute's peak memory is these rows and a
        map's figures, so the 2024 map's figures are stored and rolled up without them."""
        for rows in (self.hamlets, self.teams, self.members, self.activities):
            rows.clear()


# A row's place on the 2024 map through its team (members, activities) or as a team.
_TEAM_PLACE = Coalesce("hamlet__old_commune_id", "old_commune_id")
_PLACE_BY_TEAM = Coalesce("team__hamlet__old_commune_id", "team__old_commune_id")


def read_sources(commune_ids=None, *, quarter_start: dt.date, activities_only: bool = False) -> Sources:
    """Four GROUP BY queries over the source tables, whatever the number of communes.

    Activities come from their tallies (activities.models.TallyBase: not deleted, per commune, team and type),
    joined to the teams and their hamlets for the place; a tombstone counts nowhere.

    activities_only: the activities' query alone, the other rows left empty. Figures computed from such sources
    are right in ACTIVITY_FIGURES only (for communes whose other figures are stored: coverage.services).
    """
    ids = None if commune_ids is None else frozenset(commune_ids)
    scope = Q() if ids is None else Q(commune_id__in=sorted(ids))
    shared: dict = {}
    if activities_only:
        activities = _compact(_activities_placed(scope, quarter_start), 3, shared)
        return Sources(commune_ids=ids, hamlets=[], teams=[], members=[], activities=activities)
    hamlets = (
        Hamlet.objects.filter(scope, active=True)
        .order_by()
        .values("commune_id", "old_commune_id")
        .annotate(
            total=Count("id", distinct=True),
            covered=Count("id", filter=Q(teams__status="active"), distinct=True),
            old_missing=Count("id", filter=Q(old_commune__isnull=True), distinct=True),
        )
        .values_list("commune_id", "old_commune_id", "total", "covered", "old_missing")
    )
    teams = (
        Team.objects.filter(scope, status=TeamStatus.ACTIVE)
        .order_by()
        .values("commune_id", "size_status", placed=_TEAM_PLACE)
        .annotate(
            n=Count("id"), at_hamlet=Count("id", filter=Q(hamlet__isnull=False)), unplaced=Count("id", filter=UNPLACED)
        )
        .values_list("commune_id", "placed", "size_status", "n", "at_hamlet", "unplaced")
    )
    members = (
        Member.objects.filter(scope, active=True)
        .order_by()
        .values("commune_id", "role", "background", placed=_PLACE_BY_TEAM)
        .annotate(n=Count("id"))
        .values_list("commune_id", "placed", "role", "background", "n")
    )
    return Sources(
        commune_ids=ids,
        hamlets=_compact(hamlets, 2, shared),
        teams=_compact(teams, 3, shared),
        members=_compact(members, 4, shared),
        activities=_compact(_activities_placed(scope, quarter_start), 3, shared),
    )


def _compact(rows, keys: int, shared: dict) -> list[tuple]:
    """The rows, each of their first `keys` values (ids and codes, a few thousand distinct ones repeated over
    some 100,000 rows on a full recompute) shared between rows instead of one object per row: the full
    recompute's peak memory is these rows and a map's figures."""
    share = shared.setdefault
    return [tuple(map(share, row[:keys], row[:keys])) + tuple(row[keys:]) for row in rows]


def _activities_placed(scope: Q, quarter_start: dt.date) -> list[tuple]:
    """From the tallies the activity triggers keep: all time per (commune, team, type), and the quarters from
    `quarter_start` on; never a scan of the activities themselves, so the cost does not grow with history.

    Rows: (commune, the team's place on the 2024 map, type, activities, people helped, the same two this quarter).
    """
    columns = ("commune_id", "team_id", "type_id", "activities", "people_helped")
    lifetime = LifetimeTally.objects.filter(scope, activities__gt=0).order_by().values(*columns)
    quarter = QuarterTally.objects.filter(scope, quarter_start__gte=quarter_start, activities__gt=0)
    quarter = quarter.order_by().values(*columns)
    try:
        lifetime_sql, lifetime_params = lifetime.query.sql_with_params()
        quarter_sql, quarter_params = quarter.query.sql_with_params()
    except EmptyResultSet:
        return []
    team, hamlet = Team._meta.db_table, Hamlet._meta.db_table
    place = "COALESCE(h.old_commune_id, t.old_commune_id)"
    # Some communes: look up only their tallies' teams. Joined as they were, PostgreSQL read every team and
    # hamlet of the country into hashes for a round's 168 communes (a sync's round: 102 against 74 ms).
    # Every tally's team is in the list, so the LEFT JOIN's rows are the same. (PostgreSQL's arrays; the embedded
    # SQLite database is small.)
    only_theirs, only_params = "", []
    if scope and connection.vendor == "postgresql":
        only_theirs, only_params = (
            f" AND t.id = ANY(ARRAY(SELECT DISTINCT s.team_id FROM ({lifetime_sql}) AS s))",
            [*lifetime_params],
        )
    # Both tallies in one stream, each in its own pair of columns, summed per group, rather than the quarter's rows
    # joined to the lifetime's on their three-column key: for a round of 168 communes, 87 → 70 ms with 4MB of
    # work_mem, 73 → 48 ms with the round's 32MB (coverage.services.ROUND_WORK_MEM). A quarter's key is always a
    # lifetime key too (the triggers count an activity in both), so the groups are the lifetime's.
    # Integers, not numerics: a full recompute holds some 100,000 of these rows at once, and a Decimal takes
    # four times the memory of an int (the worker's peak RSS).
    sql = (
        f"SELECT x.commune_id, {place}, x.type_id, CAST(SUM(x.n) AS bigint), CAST(SUM(x.people) AS bigint), "
        "CAST(SUM(x.n_quarter) AS bigint), CAST(SUM(x.people_quarter) AS bigint) FROM ("
        "SELECT a.commune_id, a.team_id, a.type_id, a.activities AS n, a.people_helped AS people, "
        f"0 AS n_quarter, 0 AS people_quarter FROM ({lifetime_sql}) AS a UNION ALL "
        f"SELECT q.commune_id, q.team_id, q.type_id, 0, 0, q.activities, q.people_helped FROM ({quarter_sql}) AS q"
        f") AS x LEFT JOIN {team} AS t ON t.id = x.team_id{only_theirs} LEFT JOIN {hamlet} AS h ON h.id = t.hamlet_id "
        f"GROUP BY x.commune_id, {place}, x.type_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*lifetime_params, *quarter_params, *only_params])
        return cursor.fetchall()


def compute_communes(
    commune_ids=None,
    *,
    today: dt.date | None = None,
    type_codes: list[str] | None = None,
    sources: Sources | None = None,
) -> dict[int, dict]:
    """Figures of these communes (every current commune when None), keyed by commune id.

    Queries: communes, activity types (unless given), the communes made of one old commune (where a team's
    place on the 2024 map is certain), and read_sources' four unless `sources` (covering these) are given.
    """
    today = today or timezone.localdate()
    quarter, quarter_start = quarter_of(today)
    communes = Commune.objects.current(today)
    ids = None
    if commune_ids is not None:
        ids = sorted(set(commune_ids))
        communes = communes.filter(pk__in=ids)
    type_codes = activity_type_codes() if type_codes is None else type_codes
    result: dict[int, dict] = {}
    for commune_id, province_id in communes.values_list("id", "province_id"):
        figures = _empty(type_codes)
        figures["province_id"] = province_id
        figures["quarter"] = quarter
        result[commune_id] = figures
    if sources is None or (ids is not None and not sources.covers(ids)):
        sources = read_sources(ids, quarter_start=quarter_start)

    for commune_id, _old, total, covered, old_missing in sources.hamlets:
        figures = result.get(commune_id)
        if figures is not None:
            figures["hamlets_total"] += total
            figures["hamlets_covered"] += covered
            figures["hamlets_old_commune_missing"] += old_missing

    sole = sole_predecessors(ids)
    for commune_id, _placed, size_status, n, at_hamlet, unplaced in sources.teams:
        figures = result.get(commune_id)
        if figures is not None:
            if commune_id not in sole:
                figures["teams_unattributed"] += unplaced
            _add_teams(figures, size_status, n, at_hamlet)

    for commune_id, _placed, role, background, n in sources.members:
        figures = result.get(commune_id)
        if figures is not None:
            _add_members(figures, role, background, n)

    for commune_id, _placed, *counts in sources.activities:
        figures = result.get(commune_id)
        if figures is not None:
            _add_activities(figures, *counts)

    for figures in result.values():
        _finish(figures)
        figures["covered"] = figures["teams_active"] > 0
        figures["fully_covered"] = figures["covered"] and figures["hamlets_covered"] == figures["hamlets_total"]
    return result


def _placed(explicit, commune_id: int, sole: dict[int, int]) -> int | None:
    """A row's commune on the 2024 map: recorded, or the only commune its 2025 commune was made of."""
    return explicit if explicit is not None else sole.get(commune_id)


def compute_old_communes(
    old_ids=None, *, today: dt.date | None = None, type_codes: list[str] | None = None, sources: Sources | None = None
) -> dict[int, dict]:
    """Figures of these communes of the 2024 map (all when None), from the rows placed in them, keyed by id.

    A row is placed by its hamlet's old commune, a commune-level team's own, or the only commune its 2025
    commune was made of (docs/coverage.md). Rows are read from the 2025 communes the old ones went into
    (`sources` when they cover those), so the cost follows those. teams_unattributed and
    hamlets_old_commune_missing count what those 2025 communes could not place, from their stored figures
    (compute and store the 2025 map first).

    Queries: the old communes, the crosswalk around them, read_sources' four (unless given), activity types
    (unless given), and the stored figures of their 2025 communes.
    """
    today = today or timezone.localdate()
    quarter, quarter_start = quarter_of(today)
    old = Commune.objects.current(maps.OLD.day())
    if old_ids is not None:
        old = old.filter(pk__in=sorted(set(old_ids)))
    result: dict[int, dict] = {}
    type_codes = activity_type_codes() if type_codes is None else type_codes
    for commune_id, province_id in old.values_list("id", "province_id"):
        result[commune_id] = _empty(type_codes) | {"province_id": province_id, "quarter": quarter}
    if not result:
        return result
    # Every link of the 2025 communes these went into: their successors, and which are made of one.
    around = CommuneLink.objects.filter(
        new_commune_id__in=CommuneLink.objects.filter(old_commune_id__in=list(result)).values("new_commune_id")
    ).values_list("old_commune_id", "new_commune_id")
    predecessors: dict[int, list[int]] = {}
    successors: dict[int, list[int]] = {}
    for old_id, new_id in around:
        predecessors.setdefault(new_id, []).append(old_id)
        successors.setdefault(old_id, []).append(new_id)
    sole = {new_id: olds[0] for new_id, olds in predecessors.items() if len(olds) == 1}
    if sources is None or not sources.covers(predecessors):
        sources = read_sources(list(predecessors), quarter_start=quarter_start)

    def place(placed, commune_id: int) -> dict | None:
        # A row of a 2025 commune outside the crosswalk around these is never theirs.
        if commune_id not in predecessors:
            return None
        return result.get(_placed(placed, commune_id, sole))

    for commune_id, old_commune_id, total, covered, _missing in sources.hamlets:
        figures = place(old_commune_id, commune_id)
        if figures is not None:
            figures["hamlets_total"] += total
            figures["hamlets_covered"] += covered

    for commune_id, placed, size_status, n, at_hamlet, _unplaced in sources.teams:
        figures = place(placed, commune_id)
        if figures is not None:
            _add_teams(figures, size_status, n, at_hamlet)

    for commune_id, placed, role, background, n in sources.members:
        figures = place(placed, commune_id)
        if figures is not None:
            _add_members(figures, role, background, n)

    for commune_id, placed, *counts in sources.activities:
        figures = place(placed, commune_id)
        if figures is not None:
            _add_activities(figures, *counts)

    stored = {
        commune_id: (teams, hamlets)
        for commune_id, teams, hamlets in CommuneFigures.objects.filter(commune_id__in=list(predecessors)).values_list(
            "commune_id", "teams_unattributed", "hamlets_old_commune_missing"
        )
    }
    for commune_id, figures in result.items():
        around_it = successors.get(commune_id, [])
        figures["teams_unattributed"] = sum(stored.get(n, (0, 0))[0] for n in around_it)
        figures["hamlets_old_commune_missing"] = sum(stored.get(n, (0, 0))[1] for n in around_it if n not in sole)
        _finish(figures)
        figures["covered"] = figures["teams_active"] > 0
        figures["fully_covered"] = figures["covered"] and figures["hamlets_covered"] == figures["hamlets_total"]
    return result


def _add_teams(figures: dict, size_status: str, n: int, at_hamlet: int) -> None:
    """Add one GROUP BY row of active teams (by size status) to a unit's figures."""
    figures["teams_active"] += n
    figures["teams_hamlet_level"] += at_hamlet
    figures["teams_commune_level"] += n - at_hamlet
    figures["teams_by_size_status"][size_status] += n


def _add_members(figures: dict, role: str, background: str, n: int) -> None:
    """Add one GROUP BY row of members (by role and background) to a unit's figures."""
    figures["members_active"] += n
    figures["members_by_role"][role] += n
    figures["members_by_background"][background] += n


def _add_activities(figures: dict, type_id: str, n: int, people, n_quarter: int, people_quarter) -> None:
    """Add one GROUP BY row of activities (by type: all time, and in the quarter) to a unit's figures."""
    people, people_quarter = int(people or 0), int(people_quarter or 0)
    n, n_quarter = int(n), int(n_quarter)
    figures["activities"] += n
    figures["people_helped"] += people
    figures["activities_quarter"] += n_quarter
    figures["people_helped_quarter"] += people_quarter
    by_type = figures["activities_by_type"].setdefault(type_id, {"activities": 0, "people_helped": 0})
    by_type["activities"] += n
    by_type["people_helped"] += people
    by_quarter = figures["activities_by_type_quarter"].setdefault(type_id, {"activities": 0, "people_helped": 0})
    by_quarter["activities"] += n_quarter
    by_quarter["people_helped"] += people_quarter


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


# Counts that a 2024-map province or the nation cannot sum from its communes: a team that could not be
# placed may belong to any of the old communes its 2025 commune was made of, so each counts it.
NOT_SUMMED_ON_2024 = ("teams_unattributed", "hamlets_old_commune_missing")


def roll_up_provinces(
    commune_rows: list[dict],
    totals: dict[int, int],
    quarter: str,
    type_codes: list[str],
    unplaced: dict[int, dict] | None = None,
) -> dict[int, dict]:
    """Figures of the provinces in `totals` ({province id: its communes on the map}) from their current
    communes' figures. communes_total comes from the map: a commune with no figures row is uncovered.

    unplaced (the 2024 map only): {province id: {teams_unattributed, hamlets_old_commune_missing}} over the
    distinct 2025 communes its communes went into; a commune that is uncovered but may hold one of those
    teams counts in communes_covered_max.
    """
    result = {}
    for province_id, communes_total in totals.items():
        figures = _empty(type_codes)
        figures.update(
            quarter=quarter,
            communes_total=communes_total,
            communes_covered=0,
            communes_covered_max=0,
            communes_fully_covered=0,
        )
        result[province_id] = figures
    for row in commune_rows:
        figures = result.get(row["province_id"])
        if figures is None:
            continue
        _add(figures, row)
        figures["communes_covered"] += int(row["covered"])
        maybe = unplaced is not None and row["teams_unattributed"] > 0
        figures["communes_covered_max"] += int(row["covered"] or maybe)
        figures["communes_fully_covered"] += int(row["fully_covered"])
    for province_id, figures in result.items():
        if unplaced is not None:
            figures.update(dict.fromkeys(NOT_SUMMED_ON_2024, 0) | unplaced.get(province_id, {}))
        _finish(figures)
        figures["complete"] = province_complete(figures["communes_covered"], figures["communes_total"])
    return result


def roll_up_nation(
    province_rows: list[dict], quarter: str, type_codes: list[str], unplaced: dict | None = None
) -> dict:
    """National figures from the figures of every current province (the caller passes them all).

    unplaced (the 2024 map only): the nation's {teams_unattributed, hamlets_old_commune_missing}.
    """
    figures = _empty(type_codes)
    figures.update(
        quarter=quarter,
        communes_total=0,
        communes_covered=0,
        communes_covered_max=0,
        communes_fully_covered=0,
        provinces_total=len(province_rows),
        provinces_complete=0,
        provinces_complete_max=0,
    )
    for row in province_rows:
        _add(figures, row)
        for name in ("communes_total", "communes_covered", "communes_covered_max", "communes_fully_covered"):
            figures[name] += row[name]
        figures["provinces_complete"] += int(province_complete(row["communes_covered"], row["communes_total"]))
        figures["provinces_complete_max"] += int(province_complete(row["communes_covered_max"], row["communes_total"]))
    if unplaced is not None:
        figures.update(unplaced)
    return _finish(figures)


def unplaced_on_2024(province_ids=None) -> tuple[dict[int, dict], dict]:
    """What the 2025 communes could not place on the 2024 map, from their stored figures: per 2024-map
    province in province_ids (all when None), over the distinct 2025 communes its communes went into, and
    for the nation. A 2025 commune made of one old commune places everything.

    One query, summed in the database: read into Python, the stored figures of every 2025 commune took a
    third of a sync's recompute round (220 of 680 ms at national scale)."""
    link, figures, commune = CommuneLink._meta.db_table, CommuneFigures._meta.db_table, Commune._meta.db_table
    stored = (
        "SELECT f.commune_id, f.teams_unattributed AS teams, "
        "CASE WHEN m.several THEN f.hamlets_old_commune_missing ELSE 0 END AS hamlets "
        f"FROM {figures} AS f JOIN (SELECT new_commune_id, COUNT(*) > 1 AS several FROM {link} "
        "GROUP BY new_commune_id) AS m ON m.new_commune_id = f.commune_id"
    )
    where, params = "", []
    if province_ids is not None:
        params = sorted(set(province_ids))
        if not params:
            params = [None]  # no province: the nation's row alone
        where = f" WHERE c.province_id IN ({', '.join(['%s'] * len(params))})"
    sql = (
        "SELECT p.province_id, COALESCE(SUM(s.teams), 0), COALESCE(SUM(s.hamlets), 0) "
        f"FROM (SELECT DISTINCT c.province_id, l.new_commune_id FROM {link} AS l "
        f"JOIN {commune} AS c ON c.id = l.old_commune_id{where}) AS p "
        f"LEFT JOIN ({stored}) AS s ON s.commune_id = p.new_commune_id GROUP BY p.province_id "
        f"UNION ALL SELECT NULL, COALESCE(SUM(teams), 0), COALESCE(SUM(hamlets), 0) FROM ({stored}) AS n"
    )
    per_province: dict[int, dict] = {}
    nation: dict = dict.fromkeys(NOT_SUMMED_ON_2024, 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for province_id, teams, hamlets in cursor.fetchall():
            slot = {"teams_unattributed": int(teams), "hamlets_old_commune_missing": int(hamlets)}
            if province_id is None:
                nation = slot
            else:
                per_province[province_id] = slot
    return per_province, nation
