"""Housekeeping for logins: expired refresh tokens and stale failed-login counters."""

from axes.models import AccessAttempt
from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone


@shared_task(name="accounts.purge_expired_tokens", ignore_result=True)
def purge_expired_tokens() -> None:
    """Drop outstanding and blacklisted refresh tokens that have expired anyway."""
    call_command("flushexpiredtokens", verbosity=0)


@shared_task(name="accounts.purge_old_login_failures", ignore_result=True)
def purge_old_login_failures() -> int:
    """Forget failure counters older than the lockout window; they no longer lock anyone out."""
    cutoff = timezone.now() - settings.AXES_COOLOFF_TIME
    deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    return deleted
