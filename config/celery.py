"""The Celery application. Configuration comes from Django settings (CELERY_* names); the beat schedule is here.

Code that starts a task by name goes through enqueue(): it works the same in both modes, so that nothing
depends on a task module having been imported by chance.
"""

import os
import threading

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cdt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
