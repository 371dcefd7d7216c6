"""Fixtures of the coverage tests: `figures`, the world with its figures computed."""

from __future__ import annotations

import pytest

from coverage import services
from tests.factories import CommuneFactory


@pytest.fixture
def figures(world):
    CommuneFactory(code="00009", province=world.b, name="Xã Chưa Có Tổ")
    services.recompute_all()
    return world
