"""Celery tasks of members: the registry import job, and the beat task that fails stuck jobs."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from members.registry_import.jobs import import_job_run, import_jobs_fail_stuck


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


@shared_task(
    name="members.fail_stuck_imports",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=3,
)
def fail_stuck_imports() -> int:
    """Fail the import jobs still pending or running past the hard time limit (beat, every 10 minutes)."""
    return import_jobs_fail_stuck()
