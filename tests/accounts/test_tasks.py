"""Login housekeeping tasks."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.tasks import purge_expired_tokens, purge_old_login_failures

pytestmark = pytest.mark.django_db


def test_expired_refresh_tokens_are_purged(world):
    now = timezone.now()
    old = OutstandingToken.objects.create(user=world.lan, jti="old", token="t1", expires_at=now - dt.timedelta(days=1))
    fresh = OutstandingToken.objects.create(
        user=world.lan, jti="new", token="t2", expires_at=now + dt.timedelta(days=1)
    )
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == {old.pk, fresh.pk}
    purge_expired_tokens.apply()
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == {fresh.pk}


def test_only_stale_failure_counters_are_purged(db):
    stale = AccessAttempt.objects.create(username="a", failures_since_start=3, ip_address="127.0.0.1", user_agent="")
    AccessAttempt.objects.filter(pk=stale.pk).update(attempt_time=timezone.now() - dt.timedelta(days=2))
    recent = AccessAttempt.objects.create(username="b", failures_since_start=3, ip_address="127.0.0.1", user_agent="")
    assert purge_old_login_failures.apply().result == 1
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [recent.pk]
