"""The Celery application. Configuration comes from Django settings (CELERY_* names); the beat schedule is here.

Code that starts a task by name goes through enqueue(): it works the same in both modes, so that nothing
depends on a task module having been imported by chance.
"""

import os
import threading

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cdt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_connections(task=None, **kwargs) -> None:
    """Around each task in a worker, what Django does around each request: close a connection that is broken
    or older than CONN_MAX_AGE, and health-check the rest on their next use.

    Celery's Django fix-up would close every connection before and after every task instead, so that each task
    paid a new PostgreSQL session (a process, its authentication, its catalog caches): with kicks every second
    under load, a core's fifth went to sessions that lived for one task (docs/performance.md). Settings'
    CELERY_DB_REUSE_MAX keeps the fix-up to a recycle every so many tasks. The recompute's lock is a
    transaction's (pg_try_advisory_xact_lock), so a kept session never holds it past its task. In-process
    (eager) tasks run inside a request's transaction: they are left alone.
    """
    from django.db import close_old_connections

    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


# Times are Asia/Ho_Chi_Minh (CELERY_TIMEZONE). Each entry names a task by its registered name.
app.conf.beat_schedule = {
    "coverage-sweep": {"task": "coverage.sweep", "schedule": 60.0},
    "coverage-snapshot": {"task": "coverage.snapshot", "schedule": crontab(hour=23, minute=55)},
    "coverage-reconcile": {"task": "coverage.reconcile", "schedule": crontab(hour=2, minute=0)},
    "purge-expired-tokens": {
        "task": "accounts.purge_expired_tokens",
        "schedule": crontab(hour=3, minute=10),
    },
    "purge-old-login-failures": {
        "task": "accounts.purge_old_login_failures",
        "schedule": crontab(hour=3, minute=20),
    },
    # Import jobs still pending or running past CELERY_TASK_TIME_LIMIT (+ IMPORT_STUCK_MARGIN_SECONDS) fail.
    "fail-stuck-imports": {"task": "members.fail_stuck_imports", "schedule": 600.0},
}


_tasks_imported = False
_tasks_importing = threading.Lock()  # threads of one process (gthread, tests) import once, and wait for it


def registered_task(name: str):
    """The task registered under this name, after importing every app's tasks module as a worker does.

    Raises KeyError for an unknown name: a typo must fail, not silently do nothing.
    """
    global _tasks_imported
    if not _tasks_imported:
        # autodiscover_tasks() is lazy: it imports the apps' tasks modules only when a worker starts,
        # or here. A web process would otherwise see only the tasks that some import pulled in. Without the
        # lock a second thread saw the flag unset, found the modules half imported and the task missing.
        with _tasks_importing:
            if not _tasks_imported:
                app.loader.import_default_modules()
                _tasks_imported = True
    return app.tasks[name]


def enqueue(name: str, *, countdown: float | None = None, kwargs: dict | None = None) -> None:
    """Start a task by its registered name: in-process now in the embedded mode, else through the broker.

    In the embedded mode (task_always_eager, no Redis) the task runs before this returns and its
    errors propagate; with a broker the message is sent, to run after `countdown` seconds.
    """
    task = registered_task(name)
    if app.conf.task_always_eager:
        task.apply(kwargs=kwargs or {})
    else:
        app.send_task(name, kwargs=kwargs or {}, countdown=countdown)
