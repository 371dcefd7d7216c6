"""Hand-written SQL that computes every commune's figures from the source rows, on both maps: the recompute's
yardstick.

COMMUNE_FIGURES_SQL returns what coverage.compute.compute_communes returns (counts and breakdowns per current
commune), OLD_COMMUNE_FIGURES_SQL what compute_old_communes returns for every commune of the 2024 map (placed
by hamlet, commune-level team or sole predecessor, as docs/coverage.md says). `run` executes both, as the full
recompute computes both maps; `compare` checks them against the stored figures, so the timing compares equal
work.
"""

from __future__ import annotations

import datetime as dt
import json

from areas import maps
from coverage import compute

COMMUNE_FIGURES_SQL = """
WITH communes AS (
    SELECT id, province_id FROM areas_commune
    WHERE valid_from <= %(today)s AND (valid_to IS NULL OR valid_to > %(today)s)
),
covered_hamlets AS (
    SELECT DISTINCT hamlet_id FROM teams_team WHERE status = 'active' AND hamlet_id IS NOT NULL
),
hamlets AS (
    SELECT h.commune_id, count(*) AS total, count(c.hamlet_id) AS covered,
           count(*) FILTER (WHERE h.old_commune_id IS NULL) AS old_missing
    FROM areas_hamlet AS h LEFT JOIN covered_hamlets AS c ON c.hamlet_id = h.id
    WHERE h.active
    GROUP BY h.commune_id
),
team_groups AS (
    SELECT t.commune_id, t.size_status, count(*) AS n, count(t.hamlet_id) AS at_hamlet,
           count(*) FILTER (WHERE COALESCE(h.old_commune_id, t.old_commune_id) IS NULL) AS unplaced
    FROM teams_team AS t LEFT JOIN areas_hamlet AS h ON h.id = t.hamlet_id
    WHERE t.status = 'active'
    GROUP BY t.commune_id, t.size_status
),
made_of_one AS (
    SELECT new_commune_id FROM areas_communelink GROUP BY new_commune_id HAVING count(*) = 1
),
teams AS (
    SELECT commune_id, sum(n) AS active, sum(at_hamlet) AS at_hamlet, jsonb_object_agg(size_status, n) AS by_size,
           sum(unplaced) AS unplaced
    FROM team_groups GROUP BY commune_id
),
member_groups AS (
    SELECT commune_id, role, background, count(*) AS n
    FROM members_member WHERE active
    GROUP BY GROUPING SETS ((commune_id, role), (commune_id, background))
),
members AS (
    SELECT commune_id,
           sum(n) FILTER (WHERE role IS NOT NULL) AS active,
           jsonb_object_agg(role, n) FILTER (WHERE role IS NOT NULL) AS by_role,
           jsonb_object_agg(background, n) FILTER (WHERE background IS NOT NULL) AS by_background
    FROM member_groups GROUP BY commune_id
),
activity_groups AS (
    SELECT commune_id, type_id,
           count(*) AS n, sum(people_helped) AS people,
           count(*) FILTER (WHERE occurred_on >= %(quarter_start)s) AS n_quarter,
           coalesce(sum(people_helped) FILTER (WHERE occurred_on >= %(quarter_start)s), 0) AS people_quarter
    FROM activities_activity WHERE NOT deleted
    GROUP BY commune_id, type_id
),
activities AS (
    SELECT commune_id, sum(n) AS n, sum(people) AS people, sum(n_quarter) AS n_quarter,
           sum(people_quarter) AS people_quarter,
           jsonb_object_agg(type_id, jsonb_build_object('activities', n, 'people_helped', people)) AS by_type,
           jsonb_object_agg(
               type_id, jsonb_build_object('activities', n_quarter, 'people_helped', people_quarter)
           ) AS by_type_quarter
    FROM activity_groups GROUP BY commune_id
)
SELECT c.id, c.province_id,
       coalesce(h.total, 0), coalesce(h.covered, 0),
       coalesce(t.active, 0), coalesce(t.active - t.at_hamlet, 0), coalesce(t.at_hamlet, 0),
       coalesce(m.active, 0),
       coalesce(a.n, 0), coalesce(a.people, 0), coalesce(a.n_quarter, 0), coalesce(a.people_quarter, 0),
       coalesce(h.old_missing, 0),
       CASE WHEN c.id IN (SELECT new_commune_id FROM made_of_one) THEN 0 ELSE coalesce(t.unplaced, 0) END,
       coalesce(t.by_size, '{}'), coalesce(m.by_role, '{}'), coalesce(m.by_background, '{}'),
       coalesce(a.by_type, '{}'), coalesce(a.by_type_quarter, '{}')
FROM communes AS c
LEFT JOIN hamlets AS h ON h.commune_id = c.id
LEFT JOIN teams AS t ON t.commune_id = c.id
LEFT JOIN members AS m ON m.commune_id = c.id
LEFT JOIN activities AS a ON a.commune_id = c.id
"""

OLD_COMMUNE_FIGURES_SQL = """
WITH old_communes AS (
    SELECT id, province_id FROM areas_commune
    WHERE valid_from <= %(old_day)s AND (valid_to IS NULL OR valid_to > %(old_day)s)
),
made_of AS (
    SELECT new_commune_id, count(*) AS n, min(old_commune_id) AS only_old
    FROM areas_communelink GROUP BY new_commune_id
),
sole AS (SELECT new_commune_id, only_old FROM made_of WHERE n = 1),
team_place AS (
    SELECT t.id, t.commune_id, t.status, t.size_status, t.hamlet_id,
           COALESCE(h.old_commune_id, t.old_commune_id) AS placed,
           CASE WHEN t.hamlet_id IS NOT NULL THEN h.old_commune_id IS NULL ELSE t.old_commune_id IS NULL END
               AS unplaced
    FROM teams_team AS t LEFT JOIN areas_hamlet AS h ON h.id = t.hamlet_id
),
covered_hamlets AS (
    SELECT DISTINCT hamlet_id FROM teams_team WHERE status = 'active' AND hamlet_id IS NOT NULL
),
hamlets AS (
    SELECT COALESCE(h.old_commune_id, s.only_old) AS place, count(*) AS total, count(c.hamlet_id) AS covered
    FROM areas_hamlet AS h
    LEFT JOIN covered_hamlets AS c ON c.hamlet_id = h.id
    LEFT JOIN sole AS s ON s.new_commune_id = h.commune_id
    WHERE h.active
    GROUP BY 1
),
team_groups AS (
    SELECT COALESCE(tp.placed, s.only_old) AS place, tp.size_status, count(*) AS n, count(tp.hamlet_id) AS at_hamlet
    FROM team_place AS tp LEFT JOIN sole AS s ON s.new_commune_id = tp.commune_id
    WHERE tp.status = 'active'
    GROUP BY 1, 2
),
teams AS (
    SELECT place, sum(n) AS active, sum(at_hamlet) AS at_hamlet, jsonb_object_agg(size_status, n) AS by_size
    FROM team_groups GROUP BY place
),
member_groups AS (
    SELECT COALESCE(tp.placed, s.only_old) AS place, m.role, m.background, count(*) AS n
    FROM members_member AS m
    JOIN team_place AS tp ON tp.id = m.team_id
    LEFT JOIN sole AS s ON s.new_commune_id = m.commune_id
    WHERE m.active
    GROUP BY GROUPING SETS ((1, m.role), (1, m.background))
),
members AS (
    SELECT place,
           sum(n) FILTER (WHERE role IS NOT NULL) AS active,
           jsonb_object_agg(role, n) FILTER (WHERE role IS NOT NULL) AS by_role,
           jsonb_object_agg(background, n) FILTER (WHERE background IS NOT NULL) AS by_background
    FROM member_groups GROUP BY place
),
per_team AS (
    SELECT commune_id, team_id, type_id,
           count(*) AS n, sum(people_helped) AS people,
           count(*) FILTER (WHERE occurred_on >= %(quarter_start)s) AS n_quarter,
           coalesce(sum(people_helped) FILTER (WHERE occurred_on >= %(quarter_start)s), 0) AS people_quarter
    FROM activities_activity WHERE NOT deleted
    GROUP BY commune_id, team_id, type_id
),
activity_groups AS (
    SELECT COALESCE(tp.placed, s.only_old) AS place, a.type_id, sum(a.n) AS n, sum(a.people) AS people,
           sum(a.n_quarter) AS n_quarter, sum(a.people_quarter) AS people_quarter
    FROM per_team AS a
    LEFT JOIN team_place AS tp ON tp.id = a.team_id
    LEFT JOIN sole AS s ON s.new_commune_id = a.commune_id
    GROUP BY 1, 2
),
activities AS (
    SELECT place, sum(n) AS n, sum(people) AS people, sum(n_quarter) AS n_quarter,
           sum(people_quarter) AS people_quarter,
           jsonb_object_agg(type_id, jsonb_build_object('activities', n, 'people_helped', people)) AS by_type,
           jsonb_object_agg(
               type_id, jsonb_build_object('activities', n_quarter, 'people_helped', people_quarter)
           ) AS by_type_quarter
    FROM activity_groups GROUP BY place
),
new_unplaced AS (
    SELECT t.commune_id, count(*) AS teams
    FROM team_place AS t
    WHERE t.status = 'active' AND t.unplaced AND t.commune_id NOT IN (SELECT new_commune_id FROM sole)
    GROUP BY t.commune_id
),
new_missing AS (
    SELECT commune_id, count(*) AS hamlets FROM areas_hamlet
    WHERE active AND old_commune_id IS NULL AND commune_id NOT IN (SELECT new_commune_id FROM sole)
    GROUP BY commune_id
),
uncertain AS (
    SELECT l.old_commune_id AS place, coalesce(sum(u.teams), 0) AS teams, coalesce(sum(m.hamlets), 0) AS hamlets
    FROM areas_communelink AS l
    LEFT JOIN new_unplaced AS u ON u.commune_id = l.new_commune_id
    LEFT JOIN new_missing AS m ON m.commune_id = l.new_commune_id
    GROUP BY l.old_commune_id
)
SELECT c.id, c.province_id,
       coalesce(h.total, 0), coalesce(h.covered, 0),
       coalesce(t.active, 0), coalesce(t.active - t.at_hamlet, 0), coalesce(t.at_hamlet, 0),
       coalesce(m.active, 0),
       coalesce(a.n, 0), coalesce(a.people, 0), coalesce(a.n_quarter, 0), coalesce(a.people_quarter, 0),
       coalesce(u.hamlets, 0), coalesce(u.teams, 0),
       coalesce(t.by_size, '{}'), coalesce(m.by_role, '{}'), coalesce(m.by_background, '{}'),
       coalesce(a.by_type, '{}'), coalesce(a.by_type_quarter, '{}')
FROM old_communes AS c
LEFT JOIN hamlets AS h ON h.place = c.id
LEFT JOIN teams AS t ON t.place = c.id
LEFT JOIN members AS m ON m.place = c.id
LEFT JOIN activities AS a ON a.place = c.id
LEFT JOIN uncertain AS u ON u.place = c.id
"""

# The query's columns after (id, province_id), in this order: the recompute's own names, so that `compare` checks
# the same figures the recompute stores. The SQL above is the hand-written yardstick and stays written out.
COUNT_COLUMNS = compute.COUNTS
BREAKDOWN_COLUMNS = compute.BREAKDOWNS


def quarter_start(day: dt.date) -> dt.date:
    return compute.quarter_of(day)[1]


def run(cursor, today: dt.date) -> list[tuple]:
    """Execute both queries and fetch every row (the client receives the figures, as the recompute does): the
    2025 map's communes, then the 2024 map's (none when the old map is not loaded)."""
    params = {"today": today, "quarter_start": quarter_start(today), "old_day": maps.OLD.day()}
    cursor.execute(COMMUNE_FIGURES_SQL, params)
    rows = cursor.fetchall()
    cursor.execute(OLD_COMMUNE_FIGURES_SQL, params)
    return rows + cursor.fetchall()


def _plain(value):
    """A breakdown without its zero entries, so that {"a": 0} and {} compare equal."""
    if isinstance(value, str):
        value = json.loads(value)
    out = {}
    for key, item in value.items():
        if isinstance(item, dict):
            if any(item.values()):
                out[key] = {k: int(v) for k, v in item.items()}
        elif item:
            out[key] = int(item)
    return out


def compare(rows: list[tuple], stored: dict[int, dict]) -> list[str]:
    """Differences between the query's rows and the stored commune figures (empty when they agree)."""
    problems = []
    if len(rows) != len(stored):
        problems.append(f"{len(rows)} communes from SQL, {len(stored)} stored")
    for row in rows:
        commune_id, values = row[0], row[2:]
        figures = stored.get(commune_id)
        if figures is None:
            problems.append(f"commune {commune_id} not stored")
            continue
        for name, value in zip(COUNT_COLUMNS, values[: len(COUNT_COLUMNS)], strict=True):
            if int(value) != int(figures[name]):
                problems.append(f"commune {commune_id} {name}: sql {value}, stored {figures[name]}")
        for name, value in zip(BREAKDOWN_COLUMNS, values[len(COUNT_COLUMNS) :], strict=True):
            if _plain(value) != _plain(figures[name]):
                problems.append(f"commune {commune_id} {name} differs")
    return problems
