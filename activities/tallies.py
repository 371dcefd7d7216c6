"""The check of the activity tallies against the activities themselves, and their repair (the nightly reconcile).

The triggers of activities/migrations/0004 keep the tallies in the writing transaction; nothing should ever
make them differ. This is the proof, and the way back if something did (a bulk load with the triggers
disabled, a restore of one table without the other): one statement compares every key, and only if a key
differs are both tallies counted again from the activities, with activity writes held off meanwhile.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction

from activities.models import Activity, LifetimeTally, QuarterTally

logger = logging.getLogger(__name__)

_KEY = ["commune_id", "team_id", "type_id"]


def _quarter_sql() -> str:
    """The first day of an activity's quarter, as the triggers compute it."""
    if connection.vendor == "postgresql":
        return "date_trunc('quarter', a.occurred_on)::date"
    day = "a.occurred_on"
    return (
        f"substr({day}, 1, 5) || CASE WHEN substr({day}, 6, 2) < '04' THEN '01' WHEN substr({day}, 6, 2) < '07' "
        f"THEN '04' WHEN substr({day}, 6, 2) < '10' THEN '07' ELSE '10' END || '-01'"
    )


def _tables() -> list[tuple[str, list[str], list[str]]]:
    """(tally table, its key, the expressions of that key over the activities `a`)."""
    return [
        (LifetimeTally._meta.db_table, _KEY, [f"a.{c}" for c in _KEY]),
        (QuarterTally._meta.db_table, ["quarter_start", *_KEY], [_quarter_sql(), *(f"a.{c}" for c in _KEY)]),
    ]


def _counted(key: list[str], expressions: list[str]) -> str:
    selected = ", ".join(f"{e} AS {k}" for e, k in zip(expressions, key, strict=True))
    return (
        f"SELECT {selected}, COUNT(*) AS activities, SUM(a.people_helped) AS people_helped "
        f"FROM {Activity._meta.db_table} AS a WHERE NOT a.deleted GROUP BY {', '.join(expressions)}"
    )


def differences() -> int:
    """Keys whose tally differs from the count of their activities (a zero tally equals no activities)."""
    found = 0
    with connection.cursor() as cursor:
        for table, key, expressions in _tables():
            on = " AND ".join(f"c.{k} = t.{k}" for k in key)
            cursor.execute(
                f"SELECT COUNT(*) FROM ({_counted(key, expressions)}) AS c FULL OUTER JOIN {table} AS t ON {on} "
                "WHERE COALESCE(c.activities, 0) <> COALESCE(t.activities, 0) "
                "OR COALESCE(c.people_helped, 0) <> COALESCE(t.people_helped, 0)"
            )
            found += cursor.fetchone()[0]
    return found


@transaction.atomic
def recount() -> None:
    """Count both tallies again from the activities, holding off activity writes (not reads) until commit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {Activity._meta.db_table} IN SHARE MODE")
        for table, key, expressions in _tables():
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(key)}, activities, people_helped) {_counted(key, expressions)}"
            )


def check_and_repair() -> int:
    """The number of keys that differed (expected 0); when any did, the tallies are counted again."""
    found = differences()
    if found:
        logger.error("activity tallies: %d keys differed from the activities; counting them again", found)
        recount()
    return found
