"""Celery tasks for coverage: thin wrappers that take no model instances and call coverage.services."""

import logging

from celery import shared_task
from django.db import OperationalError

from areas.changes import kick
from coverage import services

logger = logging.getLogger(__name__)


@shared_task(
    name="coverage.recompute_dirty",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def recompute_dirty() -> int | None:
    """Recompute the communes marked dirty (kicked after each write, debounced).

    If another recompute held the lock, or marks are still waiting after the last round, ask again
    (debounced), so that marks never wait for the minute sweep after a burst of writes.
    """
    done = services.recompute_dirty()
    if not recompute_dirty.app.conf.task_always_eager and (done is None or services.marks_waiting()):
        kick()
    return done


@shared_task(name="coverage.sweep", ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def sweep() -> int | None:
    """Every minute: pick up marks whose kick was lost (Redis down, worker killed)."""
    return services.recompute_dirty()


@shared_task(name="coverage.reconcile", ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def reconcile() -> int:
    """Nightly: recompute everything and record how many figures the incremental path got wrong (expected 0)."""
    return services.reconcile().differences


@shared_task(name="coverage.snapshot", ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def snapshot() -> int:
    """Daily: keep a copy of every unit's figures for ?as_of= history."""
    return services.snapshot_take()
