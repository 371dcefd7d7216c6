"""The two maps of Vietnam a unit can be on, by name: "2024" (63 provinces, before 2025-07-01) and "2025" (34).

A code means a unit only together with its map: old 00004 (Phường Trúc Bạch) and new 00004 (Phường Ba
Đình) are different units. The API names a map with `?map=`; the database tells them apart by their
validity dates (areas.models.MAP_2024 and MAP_2025).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from areas.models import MAP_2024, MAP_2025


@dataclass(frozen=True)
class Map:
    key: str
    # The first day of the map, and the day (exclusive) it ended on; None while it is the map in force.
    starts: dt.date
    ends: dt.date | None

    def day(self) -> dt.date:
        """A day on which this map's units are valid: its last day, or today for the map in force."""
        return self.ends - dt.timedelta(days=1) if self.ends else timezone.localdate()

    def holds(self, day: dt.date) -> bool:
        return self.starts <= day and (self.ends is None or day < self.ends)


OLD = Map("2024", MAP_2024, MAP_2025)
CURRENT = Map("2025", MAP_2025, None)
MAPS = {m.key: m for m in (OLD, CURRENT)}
DEFAULT = CURRENT


def map_of(unit) -> str:
    """The key of the map a loaded unit belongs to (a unit of the new map stays on it after it retires)."""
    return map_of_start(unit.valid_from)


def map_of_start(valid_from: dt.date) -> str:
    return OLD.key if valid_from < MAP_2025 else CURRENT.key
