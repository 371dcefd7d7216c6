"""Shared helpers for the teams API tests: the teams URL and a valid create body."""

from __future__ import annotations

URL = "/api/v1/teams/"


def body(world, **extra):
    return {"commune": "00001", "name": "Tổ CNSCĐ Phường Hoà Bình", "established_on": "2025-08-01"} | extra
