"""Read routing: coverage reads may go to a streaming replica, while every read-your-own-write stays on the primary.

With `DATABASE_REPLICA_URL` set, settings add the database alias "replica" and this router. Nothing is read
from the replica unless a view asks for it with `reading(user)` (the coverage reads do, after authentication):
- the login and its token version are always read on the primary, so a revoked token never passes on a
  replica that lags;
- a write request that succeeds records the primary's WAL position for its user (`RememberWrites`, a
  middleware); that user's reads stay on the primary until the replica has replayed past it, so they always
  see their own write (and the stale marker it set);
- inside a transaction on the primary (a write, a recompute), every read stays there;
- the replica is read in one REPEATABLE READ, READ ONLY transaction, so the freshness validator and the body
  it keys (config.conditional) come from the same snapshot;
- if the replica cannot be reached, the read goes to the primary and a warning is logged.
Writes and migrations only ever go to the primary.
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

REPLICA = "replica"
# How long a user's last write position is remembered: a replica further behind than this is not waited for.
WRITE_MEMORY_SECONDS = 3600

_reading: ContextVar[str | None] = ContextVar("reading", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The database that reads go to here and now: the replica inside `reading()`, else the primary."""
    alias = _reading.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


class ReplicaRouter:
    """Sends reads to the alias `reading()` chose; everything else to the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _key(user) -> str:
    return f"replica:wal:{user.pk}"


def remember_write(user) -> None:
    """Record the primary's WAL position after `user`'s committed write (best effort: without the cache, the
    next read of theirs may lag, never fail)."""
    if not configured() or not getattr(user, "is_authenticated", False):
        return
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            cache.set(_key(user), cursor.fetchone()[0], timeout=WRITE_MEMORY_SECONDS)
    except Exception as exc:
        logger.warning("could not remember a write for the replica: %s", type(exc).__name__)


def choose(user) -> str:
    """The replica when it is configured and has replayed `user`'s last write (if any), else the primary."""
    if not configured():
        return DEFAULT_DB_ALIAS
    try:
        position = cache.get(_key(user))
    except Exception:
        position = None
    try:
        with connections[REPLICA].cursor() as cursor:
            if position is None:
                cursor.execute("SELECT pg_is_in_recovery()")
            else:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
            caught_up = cursor.fetchone()[0]
    except Exception as exc:  # unreachable, misconfigured, not a standby: the primary answers
        logger.warning("replica unavailable, reading from the primary: %s", type(exc).__name__)
        connections[REPLICA].close()
        return DEFAULT_DB_ALIAS
    return REPLICA if caught_up or position is None else DEFAULT_DB_ALIAS


@contextlib.contextmanager
def reading(user):
    """Route this block's reads as `choose(user)` says, in one consistent snapshot on the replica."""
    alias = choose(user)
    if alias == DEFAULT_DB_ALIAS:
        yield alias
        return
    token = _reading.set(alias)
    try:
        with transaction.atomic(using=alias):
            with connections[alias].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield alias
    finally:
        _reading.reset(token)


class RememberWrites:
    """Middleware: after a successful write request, remember the primary's WAL position for its user."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in self.SAFE and response.status_code < 400 and configured():
            remember_write(getattr(request, "user", None))
        return response
