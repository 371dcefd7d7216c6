"""Shared helpers for the members API tests: the members URL and a valid create body."""

from __future__ import annotations

URL = "/api/v1/members/"


def body(world, **extra):
    return {"team": str(world.teams.a1.pk), "full_name": "Lê Thị Hoa", "phone": "0987654321"} | extra
