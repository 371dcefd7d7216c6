"""Django's PostgreSQL backend, with two changes for the statements every request runs.

**The health check reads the socket, not the server.** With CONN_HEALTH_CHECKS, Django asks a reused
connection `SELECT 1` before the first query of each request: one round trip on every request, for a
session that is almost always alive. A session PostgreSQL has ended (a restart, `pg_terminate_backend`, a
crash, an idle timeout) has something to read on its socket while it is idle: the server's FATAL message,
or the end of the stream. So `is_usable` answers from the client's side when the session is idle and its
socket has nothing to read, and asks the server, as Django does, in every other case (something to read, a
transaction in an unknown or failed state). A connection that died without a word (a cable cut) is not
caught by either check before the query that needs it.

**Prepared statements, where asked for.** `prepared_cursor()` is a cursor whose statements PostgreSQL plans
once per session and then runs by name (psycopg's server-side binding with `prepare=True`). The statements
config.statements compiles once per process (the login's row, the coverage validators, the team list) use
it: PostgreSQL spends longer planning them than running them. Every other statement keeps Django's
client-side binding and is never prepared. A pooler in transaction mode needs to support protocol-level
prepared statements (PgBouncer 1.21 and later, `max_prepared_statements`); otherwise set
DB_PREPARED_STATEMENTS=false (docs/operations.md).
"""

from __future__ import annotations

import select

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import ConnStatus, Format, TransactionStatus

# create_cursor's name for a prepared cursor (a named cursor is a server-side one in Django).
_PREPARED = object()


def _has_input(fd: int) -> bool:
    """Whether the socket has something to read, or an error or hang-up to report, right now (poll, not
    select: no limit on the descriptor's number). True when that cannot be told: then the server is asked."""
    poller = select.poll()
    try:
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class PreparedCursor(psycopg.Cursor):
    """A server-binding psycopg cursor that prepares every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        # A prepared statement's text is its $n form (or nothing): log it with its values, as Django does for
        # server-side binding, so that captured queries and the debug log read the same either way.
        if isinstance(cursor, PreparedCursor):
            try:
                return self.compose_sql(sql, params)
            except psycopg.errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        idle = connection.pgconn.status == ConnStatus.OK and connection.info.transaction_status in (
            TransactionStatus.IDLE,
            TransactionStatus.INTRANS,
        )
        if idle and not _has_input(connection.fileno()):
            return True
        return super().is_usable()

    def prepares(self) -> bool:
        return bool(settings.DB_PREPARED_STATEMENTS)

    def create_cursor(self, name=None):
        if name is not _PREPARED:
            return super().create_cursor(name)
        cursor = PreparedCursor(self.connection)
        # As Django's create_cursor: the session's time zone when the connection's loader disagrees.
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != loader.timezone:
            register_tzloader(self.timezone, cursor)
        return cursor

    def prepared_cursor(self):
        """A cursor (Django's wrapper: health check, debug log, execute wrappers) whose statements are prepared;
        an ordinary cursor when DB_PREPARED_STATEMENTS is off."""
        if not self.prepares():
            return self.cursor()
        return self._cursor(_PREPARED)
