"""Celery tasks of members: the registry import job."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from members.registry_import import import_job_run


@shared_task(
    name="members.run_import",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=5,
)
def run_import(job_id: str) -> None:
    """Run one registry import job by id; a job already finished is not run again."""
    import_job_run(job_id=job_id)
