"""Per-user rate limits on writes, failing open when the cache (Redis) is down.

A throttle must never turn a Redis outage into a 500 or a refused write: the write path
is designed to succeed while Redis is down (the coverage outbox is a table).
"""

from __future__ import annotations

import logging

from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class _FailOpen:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend is down: let the request through
            logger.warning("rate limit skipped, cache unavailable: %s", type(exc).__name__)
            return True


class WriteRateThrottle(_FailOpen, UserRateThrottle):
    """Writes per user (WRITE_THROTTLE_RATE, e.g. 300/min); reads are not limited here."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class LoginRateThrottle(_FailOpen, ScopedRateThrottle):
    """Login attempts per client address, on top of the per-phone lockout."""
