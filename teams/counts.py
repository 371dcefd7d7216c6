"""The check of the team counts (teams.models.TeamCount) against the teams, and their repair (the nightly reconcile).

The triggers of teams/migrations/0005 keep the counts in the writing statement; nothing should ever make them
differ. This is the proof, and the way back if something did (a load with the triggers disabled, a restore of
one table without the other): one statement compares every key, and only if one differs are the counts made
again from the teams, with team writes held off meanwhile.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction

from teams.models import Team, TeamCount

logger = logging.getLogger(__name__)

_KEY = "commune_id, province_id"


def _counted() -> str:
    return f"SELECT {_KEY}, COUNT(*) AS teams FROM {Team._meta.db_table} GROUP BY {_KEY}"


def differences() -> int:
    """Keys whose stored count differs from the count of their teams (a zero count equals no teams)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({_counted()}) AS c FULL OUTER JOIN {TeamCount._meta.db_table} AS t "
            "ON c.commune_id = t.commune_id AND c.province_id = t.province_id "
            "WHERE COALESCE(c.teams, 0) <> COALESCE(t.teams, 0)"
        )
        return cursor.fetchone()[0]


@transaction.atomic
def recount() -> None:
    """Count again from the teams, holding off team writes (not reads) until commit."""
    table = TeamCount._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {Team._meta.db_table} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} ({_KEY}, teams) {_counted()}")


def check_and_repair() -> int:
    """The number of keys that differed (expected 0); when any did, the counts are made again."""
    found = differences()
    if found:
        logger.error("team counts: %d keys differed from the teams; counting them again", found)
        recount()
    return found
