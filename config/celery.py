"""The Celery application. Configuration comes from Django settings (CELERY_* names); the beat schedule is here."""

import os

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
}
