"""The changed-commune outbox: writers call commune_changed() inside their transaction.

Coverage consumes the rows; nothing here imports coverage. Because the mark is a
row written in the writer's own transaction, it is remembered even while Redis
is down; the kick to the worker is only a hint sent after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from areas.models import Commune, DirtyCommune

logger = logging.getLogger(__name__)

RECOMPUTE_TASK = "coverage.recompute_dirty"


def communes_changed(commune_ids: Iterable[int], *, activities_only: bool = False) -> None:
    """Mark communes dirty in the current transaction (one INSERT), and kick the recompute after commit.

    activities_only: only their activities changed (nothing else the figures are made of), so that the round
    re-reads only the activity figures of these communes (coverage.services)."""
    ids = sorted({int(i) for i in commune_ids if i is not None})
    if not ids:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement from one array: a sync batch from a province's office marks some 150 communes, and
        # building a model instance for each cost more than the INSERT.
        table = DirtyCommune._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (commune_id, marked_at, activities_only) SELECT unnest(%s::bigint[]), %s, %s",
                [ids, now, activities_only],
            )
    else:
        DirtyCommune.objects.bulk_create(
            [DirtyCommune(commune_id=i, marked_at=now, activities_only=activities_only) for i in ids]
        )
    transaction.on_commit(kick)


def commune_changed(commune_id: int) -> None:
    communes_changed([commune_id])


def outbox_clear() -> None:
    """Forget every pending mark (one DELETE): for a reset that marks what it touched again in its transaction."""
    DirtyCommune.objects.all().delete()


def all_communes_changed(on=None) -> None:
    """Mark every commune current on a day (today by default): for a change that touches every figure."""
    communes_changed(Commune.objects.current(on).values_list("id", flat=True))


def kick() -> None:
    """Ask for the recompute soon: in-process now in the embedded mode, else at most once per debounce window.

    Best effort: if Redis is down this logs and returns; the mark is committed and the beat sweep
    picks it up. In the embedded mode a failed recompute leaves its marks for the next write or read.
    """
    from django.conf import settings
    from django.core.cache import cache

    from config.celery import app, enqueue, registered_task

    registered_task(RECOMPUTE_TASK)  # an unknown name is a bug: raise it here, never swallow it below
    if app.conf.task_always_eager:
        try:
            enqueue(RECOMPUTE_TASK)
        except Exception as exc:  # the write is committed; its mark waits for the next kick
            logger.error("embedded coverage recompute failed: %s", type(exc).__name__)
        return
    try:
        window = settings.COVERAGE_KICK_DEBOUNCE_SECONDS
        if window and not cache.add("coverage:kick", 1, timeout=window):
            return  # a recompute is already queued for this window; it will read our mark
        enqueue(RECOMPUTE_TASK, countdown=window)
    except Exception as exc:  # Redis down: the mark is committed and the sweep will find it
        logger.warning("could not enqueue coverage recompute: %s", type(exc).__name__)
