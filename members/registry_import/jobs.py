"""The registry import's jobs: an upload stored and enqueued, run once by the Celery task, failed when stuck."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scoping import Role, scope_of
from config.celery import enqueue
from config.errors import DomainError, invalid
from config.spreadsheets import RowError, SheetError, SheetLimits, check_upload
from members.models import ImportJob, ImportStatus
from members.registry_import.parsing import read_registry_rows
from members.registry_import.writing import registry_import

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 10 * 1024 * 1024
# members/tasks.py registers it; started by name so that this package does not import the tasks that import it.
RUN_IMPORT_TASK = "members.run_import"
IMPORT_SUFFIXES = (".csv", ".xlsx")


def _progress_key(job_id) -> str:
    return f"members:import:{job_id}:processed"


def import_job_processed(job: ImportJob) -> int:
    """Rows checked so far: live from the cache while the job runs, from the job once it is done."""
    if job.status != ImportStatus.RUNNING:
        return job.processed
    try:
        return int(cache.get(_progress_key(job.pk), job.processed))
    except Exception:  # the cache is a nicety; a Redis outage must not break the status page
        return job.processed


def _record_progress(job_id, done: int) -> None:
    try:
        cache.set(_progress_key(job_id), done, timeout=settings.CELERY_TASK_TIME_LIMIT)
    except Exception as exc:  # best effort, as above
        logger.warning("could not record import progress: %s", type(exc).__name__)


@transaction.atomic
def import_job_create(*, actor, upload, accept_default_successor: bool = False) -> tuple[ImportJob, bool]:
    """Store an uploaded registry file as a pending job and enqueue it; the same file (with the same option)
    again returns its job."""
    scope = scope_of(actor)
    if scope.role != Role.PROVINCE_ADMIN or scope.is_empty:
        raise DomainError(_("Only a province admin imports the registry."), code="forbidden", status_code=403)
    filename = Path(upload.name or "").name
    if not filename.lower().endswith(IMPORT_SUFFIXES):
        raise invalid(file=_("Upload a .csv or .xlsx file."))
    if upload.size > IMPORT_MAX_BYTES:
        message = _("The file may be at most %(mb)d MB.") % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)}
        raise DomainError(fields={"file": [message]}, code="too_large", status_code=413)
    content = upload.read()
    # What can be checked cheaply is refused here, before anything is stored: the type, the encoding,
    # and for XLSX the zip's directory (part count, unpacked sizes) and that it names a worksheet.
    check_upload(content, filename, SheetLimits.from_settings())
    checksum = hashlib.sha256(content).hexdigest()
    # One upload at a time per user, so that a double-clicked upload cannot create two jobs.
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
    existing = (
        ImportJob.objects.filter(created_by=actor, checksum=checksum, accept_default_successor=accept_default_successor)
        .exclude(status=ImportStatus.FAILED)
        .defer("content")
        .first()
    )
    if existing is not None:
        return existing, False
    job = ImportJob.objects.create(
        province_id=scope.province_id,
        created_by=actor,
        filename=filename[-255:],
        checksum=checksum,
        content=content,
        accept_default_successor=accept_default_successor,
    )
    transaction.on_commit(lambda: enqueue(RUN_IMPORT_TASK, kwargs={"job_id": str(job.pk)}))
    return job, True


@contextmanager
def _job_lock(job_id: uuid.UUID) -> Iterator[bool]:
    """A session lock on the job, so that a duplicate delivery does not run it while it runs."""
    if connection.vendor != "postgresql":
        yield True  # the embedded run executes tasks in-process, one at a time
        return
    key = job_id.int >> 65  # 63 bits: a positive bigint
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


_UNFINISHED = (ImportStatus.PENDING, ImportStatus.RUNNING)


class _JobTaken(Exception):
    """The job was finished elsewhere (failed as stuck) while this run worked on it."""


def _finish(
    job: ImportJob, status: str, errors: list[RowError], summary: dict | None = None, warnings: list | None = None
) -> bool:
    """Record the outcome unless the job is already finished; False when it was (nothing is changed)."""
    updated = ImportJob.objects.filter(pk=job.pk, status__in=_UNFINISHED).update(
        status=status,
        errors=[e.as_dict() for e in errors],
        warnings=[w.as_dict() for w in warnings or []],
        summary=summary or {},
        processed=job.total,
        finished_at=timezone.now(),
    )
    return updated == 1


def _general_errors(exc: DomainError) -> list[RowError]:
    if isinstance(exc, SheetError):
        return [exc.as_row_error()]
    errors = [RowError(0, "file", str(m)) for messages in exc.fields.values() for m in messages]
    return errors or [RowError(0, "file", str(exc.message or exc.code))]


def import_job_run(*, job_id: str) -> ImportJob | None:
    """Run a registry import job; a job that is finished, missing or running elsewhere is left alone.

    The outcome is written only while the job is unfinished, in the transaction of the import's writes:
    a job that import_jobs_fail_stuck failed meanwhile keeps its failure, and the writes roll back.
    """
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:
        return None
    with _job_lock(job_uuid) as locked:
        if not locked:
            return None
        job = ImportJob.objects.filter(pk=job_uuid).first()
        if job is None or job.status not in _UNFINISHED:
            return job
        try:
            _run(job)
        except (OperationalError, InterfaceError):
            raise  # transient: the task retries, and the job is still not finished
        except _JobTaken:
            logger.warning("import job %s was finished elsewhere; its run was rolled back", job.pk)
        except Exception as exc:
            # Not re-raised: the job records the failure, and in the embedded mode the task runs inside
            # the upload's request, which must not become a 500.
            logger.exception("import job %s failed: %s", job.pk, type(exc).__name__)
            _finish(job, ImportStatus.FAILED, [RowError(0, "file", _("The import failed; nothing was written."))])
        return ImportJob.objects.defer("content").get(pk=job.pk)


def _run(job: ImportJob) -> None:
    job.started_at = timezone.now()
    try:
        _, reader = read_registry_rows(bytes(job.content), job.filename, limits=SheetLimits.from_settings())
        rows = list(reader)
    except DomainError as exc:
        _finish(job, ImportStatus.FAILED, _general_errors(exc))
        return
    job.total = len(rows)
    started = ImportJob.objects.filter(pk=job.pk, status__in=_UNFINISHED).update(
        status=ImportStatus.RUNNING, started_at=job.started_at, total=job.total, processed=0
    )
    if not started:
        raise _JobTaken
    try:
        with transaction.atomic():
            result = registry_import(
                rows=rows,
                province_id=job.province_id,
                progress=lambda done, _total: _record_progress(job.pk, done),
                actor=job.created_by,
                accept_default=job.accept_default_successor,
            )
            status = ImportStatus.SUCCEEDED if result.ok else ImportStatus.FAILED
            if not _finish(job, status, result.errors, result.summary(), result.warnings):
                raise _JobTaken  # rolls the import's writes back with it
    except DomainError as exc:
        _finish(job, ImportStatus.FAILED, _general_errors(exc))


# --- Stuck jobs (the members.fail_stuck_imports beat task) ---------------------------------------


def import_jobs_fail_stuck(*, now: dt.datetime | None = None) -> int:
    """Fail the jobs still pending or running past the task's hard time limit plus a margin, in one UPDATE.

    No worker can still be running them (Celery killed it at the hard limit), so they would otherwise
    wait forever. A run that is somehow still alive finds the job failed and rolls its writes back.
    Returns how many jobs were failed.
    """
    now = now or timezone.now()
    age = settings.CELERY_TASK_TIME_LIMIT + settings.IMPORT_STUCK_MARGIN_SECONDS
    cutoff = now - dt.timedelta(seconds=age)
    message = _(
        "The import stopped without finishing within %(minutes)d minutes; nothing was written. Upload the file again."
    ) % {"minutes": math.ceil(age / 60)}
    return (
        ImportJob.objects.filter(status__in=_UNFINISHED)
        .filter(Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff))
        .update(status=ImportStatus.FAILED, errors=[RowError(0, "file", message).as_dict()], finished_at=now)
    )
