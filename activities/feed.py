"""The changes feed's ordering key and cursor.

Each write stamps its rows with `change_seq`: on PostgreSQL the writing transaction's id
(pg_current_xact_id). A reader returns only rows whose transaction id is below the oldest
transaction of this database that was still running when it looked (the horizon): every
transaction below that line has finished, so no row can later appear behind a cursor that has
passed it. A slow transaction that commits late is therefore delivered late, never skipped.

Transactions of other databases on the same cluster cannot write our rows, so they do not hold
the horizon back. Any long transaction in this database does: keep transactions short
(idle_in_transaction_session_timeout, statement_timeout), see docs/operations.md.

On SQLite (the embedded default) writers are serialized, so a counter is enough.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from config.errors import invalid

TABLE = "activities_activity"


def change_seq_sql() -> str:
    """The SQL expression that stamps a row written now."""
    if connection.vendor == "postgresql":
        return "pg_current_xact_id()::text::bigint"
    return f"(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM {TABLE})"


def change_seq_expression() -> RawSQL:
    return RawSQL(change_seq_sql(), [])


def visible_horizon() -> int | None:
    """Rows with change_seq below this are final; None means every committed row is (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL)
        return cursor.fetchone()[0]


# The smallest transaction id running at this snapshot, leaving out those still running in other
# databases (pg_stat_activity's backend_xid is the 32-bit form of the snapshot's 64-bit xid8).
_HORIZON_SQL = """
SELECT COALESCE(
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snap) AS x
     WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_activity a
        WHERE a.datname IS DISTINCT FROM current_database()
          AND a.backend_xid IS NOT NULL
          AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
    pg_snapshot_xmax(s.snap)::text::bigint)
FROM (SELECT pg_current_snapshot() AS snap) AS s
"""


def encode_cursor(seq: int, row_id: uuid.UUID) -> str:
    raw = f"{seq}:{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        seq_text, id_text = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
        return int(seq_text), uuid.UUID(id_text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid(since=_("This is not a cursor this server gave out.")) from None


def after(qs: QuerySet, position: tuple[int, uuid.UUID] | None) -> QuerySet:
    """Rows strictly after a cursor position, in feed order."""
    if position is not None:
        seq, row_id = position
        qs = qs.filter(Q(change_seq__gt=seq) | Q(change_seq=seq, id__gt=row_id))
    return qs.order_by("change_seq", "id")
