"""Celery tasks for coverage: thin wrappers that take no model instances and call coverage.services."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

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
    """Recompute the communes marked dirty (kicked after each write, debounced); the service asks again if needed."""
    return services.recompute_dirty_and_follow_up()


@shared_task(name="coverage.sweep", ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def sweep() -> int | None:
    """Every minute: pick up marks whose kick was lost (Redis down, worker killed), and recompute
    everything once the figures are outdated (a new quarter, a unit valid from or retired today)."""
    return services.recompute_dirty()


@shared_task(
    bind=True,
    name="coverage.reconcile",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_kwargs={"max_retries": 3},
    max_retries=None,  # only for the lock below; a database error still gives up after 3 tries
)
def reconcile(self) -> int:
    """Nightly: recompute everything and record how many figures the incremental path got wrong (expected 0).

    A reconcile that finds another recompute running retries until it runs: the nightly check is never lost.
    """
    try:
        return services.reconcile().differences
    except services.RecomputeBusy as exc:
        wait = settings.COVERAGE_RECONCILE_RETRY_SECONDS
        logger.info("coverage reconcile: another recompute holds the lock; retrying in %d s", wait)
        raise self.retry(exc=exc, countdown=wait) from None


@shared_task(name="coverage.snapshot", ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def snapshot() -> int:
    """Daily: keep a copy of every unit's figures for ?as_of= history."""
    return services.snapshot_take()
