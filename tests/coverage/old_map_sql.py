"""An independent count of the 2024 map's figures: one hand-written SQL per level, from the definitions in
docs/coverage.md, sharing nothing with coverage.compute.

A row's place on the 2024 map: its hamlet's old commune, else a commune-level team's own, else the only
old commune its 2025 commune was made of.
"""

from __future__ import annotations

from django.db import connection

from areas.models import MAP_2025

PLACES = """
WITH made_of AS (
    SELECT new_commune_id, count(*) AS n, min(old_commune_id) AS only_old
    FROM areas_communelink GROUP BY new_commune_id
),
team_place AS (
    SELECT t.id AS team_id, t.commune_id,
           COALESCE(h.old_commune_id, t.old_commune_id, CASE WHEN m.n = 1 THEN m.only_old END) AS old_id
    FROM teams_team t
    LEFT JOIN areas_hamlet h ON h.id = t.hamlet_id
    LEFT JOIN made_of m ON m.new_commune_id = t.commune_id
    WHERE t.status = 'active'
),
hamlet_place AS (
    SELECT h.id AS hamlet_id,
           COALESCE(h.old_commune_id, CASE WHEN m.n = 1 THEN m.only_old END) AS old_id,
           EXISTS (SELECT 1 FROM teams_team t WHERE t.hamlet_id = h.id AND t.status = 'active') AS covered
    FROM areas_hamlet h
    LEFT JOIN made_of m ON m.new_commune_id = h.commune_id
    WHERE h.active
),
old_communes AS (
    SELECT id, code, province_id FROM areas_commune WHERE valid_from < %(start)s AND valid_to = %(start)s
)
"""

COMMUNES = (
    PLACES
    + """
SELECT c.code,
       (SELECT count(*) FROM team_place tp WHERE tp.old_id = c.id) AS teams_active,
       (SELECT count(*) FROM hamlet_place hp WHERE hp.old_id = c.id) AS hamlets_total,
       (SELECT count(*) FROM hamlet_place hp WHERE hp.old_id = c.id AND hp.covered) AS hamlets_covered,
       (SELECT count(*) FROM members_member mm JOIN team_place tp ON tp.team_id = mm.team_id
        WHERE mm.active AND tp.old_id = c.id) AS members_active,
       (SELECT count(*) FROM activities_activity a JOIN team_place tp ON tp.team_id = a.team_id
        WHERE NOT a.deleted AND tp.old_id = c.id) AS activities
FROM old_communes c
"""
)

NATION = (
    PLACES
    + """
SELECT (SELECT count(*) FROM old_communes) AS communes_total,
       (SELECT count(DISTINCT tp.old_id) FROM team_place tp JOIN old_communes c ON c.id = tp.old_id)
           AS communes_covered,
       (SELECT count(*) FROM team_place WHERE old_id IS NOT NULL) AS teams_active,
       (SELECT count(*) FROM team_place WHERE old_id IS NULL) AS teams_unattributed,
       (SELECT count(*) FROM old_communes oc2 WHERE oc2.province_id IN (
            SELECT p.id FROM areas_province p WHERE p.valid_to = %(start)s
        )) AS communes_on_provinces,
       (SELECT count(*) FROM areas_province p WHERE p.valid_to = %(start)s AND NOT EXISTS (
            SELECT 1 FROM old_communes c WHERE c.province_id = p.id
            AND NOT EXISTS (SELECT 1 FROM team_place tp WHERE tp.old_id = c.id)
        ) AND EXISTS (SELECT 1 FROM old_communes c WHERE c.province_id = p.id)) AS provinces_complete
"""
)


def _rows(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": MAP_2025})
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def expected_communes() -> dict[str, dict]:
    """{old commune code: its placed counts}."""
    return {row.pop("code"): row for row in _rows(COMMUNES)}


def expected_nation() -> dict:
    row = _rows(NATION)[0]
    row.pop("communes_on_provinces")
    return row
