"""GET /health/: the state of the database and of Redis (503 when either is down), and of the coverage figures."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.timestamps import TimestampField


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to talk to the database is "down"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "embedded"}
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:  # connection refused, timeout, auth: all mean "down"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def coverage_status() -> dict:
    """The last nightly reconcile (an alarm when differences > 0) and the marks waiting for a recompute."""
    from coverage.selectors import coverage_health

    try:
        return coverage_health()
    except Exception as exc:  # the database check above reports the outage; keep the answer
        return {"error": type(exc).__name__}


class CheckOutput(serializers.Serializer):
    schema_optional_fields = ("ms", "mode", "error")

    ok = serializers.BooleanField()
    ms = serializers.FloatField(help_text="Round trip, when it answered")
    mode = serializers.CharField(help_text='"embedded": no Redis configured (SQLite and in-process tasks)')
    error = serializers.CharField(help_text="The failure's class name, when it did not answer")


class ChecksOutput(serializers.Serializer):
    database = CheckOutput()
    redis = CheckOutput()


class CoverageHealthOutput(serializers.Serializer):
    # When the database is down, only `error` is there.
    schema_optional_fields = (
        "last_reconcile",
        "reconcile_differences",
        "marks_waiting",
        "oldest_mark_seconds",
        "error",
    )

    last_reconcile = TimestampField(allow_null=True)
    reconcile_differences = serializers.IntegerField(allow_null=True)
    marks_waiting = serializers.IntegerField()
    oldest_mark_seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField()


class HealthOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    checks = ChecksOutput()
    coverage = CoverageHealthOutput()


class HealthApi(APIView):
    """Liveness and readiness: 200 when the database and Redis answer, 503 otherwise."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthOutput, 503: HealthOutput})
    def get(self, request):
        checks = {"database": check_database(), "redis": check_redis()}
        ok = all(c["ok"] for c in checks.values())
        body = {"status": "ok" if ok else "unavailable", "checks": checks, "coverage": coverage_status()}
        return Response(body, status=200 if ok else 503)
