"""What a coverage answer depends on, read in one query: the validator of its conditional GET (config.conditional).

A coverage body changes only when:
- its figures are recomputed (their computed_at);
- a write marks one of its communes in the outbox (hamlets, teams, members, activities, activity types and
  map loads all do), which makes it stale until the recompute;
- the stored figures expire (the nation's valid_until against today: a new quarter, a unit's validity);
- the map is loaded again (the AreaSource log: a province renamed marks no commune);
- for ?as_of=, that day's snapshots are taken.
Each function reads those for the units the answer covers, in the caller's scope, and raises the same 404
as the answer would (so that If-None-Match never turns a 404 into a 304).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from accounts.scoping import NATION, scope_of
from areas import maps
from areas.models import AreaSource, Commune, DirtyCommune, Province
from config.conditional import scalar, scalars, scalars_once
from coverage.models import NATION_2024, NATION_2025, CommuneFigures, Level, NationalFigures, ProvinceFigures, Snapshot
from coverage.selectors import map_day, marks_of, not_found


def _common() -> dict[str, QuerySet]:
    return {
        "valid_until": NationalFigures.objects.filter(pk=NATION_2025).values("valid_until"),
        "map": scalar(AreaSource.objects.all(), Max("id")),
    }


def _marks(marks: QuerySet) -> dict[str, QuerySet]:
    return {"marks": scalar(marks, Count("id")), "last_mark": scalar(marks, Max("id"))}


def _figures(figures: QuerySet) -> dict[str, QuerySet]:
    return {"figures": scalar(figures, Count("pk")), "computed_at": scalar(figures, Max("computed_at"))}


def _snapshots(snapshots: QuerySet) -> dict[str, QuerySet]:
    return {"snapshots": scalar(snapshots, Count("id")), "taken_at": scalar(snapshots, Max("taken_at"))}


def national(*, user, as_of: dt.date | None = None, on_map: maps.Map = maps.CURRENT) -> tuple:
    """The nation's answer on a map: its row, every mark, and that day's snapshot for ?as_of=."""
    if scope_of(user).level != NATION:
        raise not_found()
    today = timezone.localdate()

    def parts() -> dict[str, QuerySet]:
        return {
            "computed_at": NationalFigures.objects.filter(pk=NATION_2024 if on_map is maps.OLD else NATION_2025).values(
                "computed_at"
            ),
            **_marks(DirtyCommune.objects.all()),
            **_common(),
        }

    if not as_of:  # the most read answer: the same statement for every ministry user, every day
        state = scalars_once(("coverage.national", on_map.key), parts)
        return today, tuple(state.items())
    snapshots = Snapshot.objects.visible_to(user).filter(level=Level.NATION, day=as_of, map=on_map.key)
    state = scalars(**parts(), **_snapshots(snapshots))
    if not state["snapshots"]:
        raise not_found()
    return today, tuple(state.items())


def provinces(*, user, as_of: dt.date | None = None, code: str | None = None, on_map: maps.Map = maps.CURRENT) -> tuple:
    """The provinces in scope on a map (or the one with `code`, 404 if it is not there)."""
    today = timezone.localdate()
    units = Province.objects.current(map_day(on_map, today)).visible_to(user)
    if code:
        units = units.filter(code=code)
    parts = {
        "units": scalar(units, Count("id")),
        **_figures(ProvinceFigures.objects.filter(province__in=units.values("id"))),
        **_marks(marks_of(Commune.objects.filter(province__in=units.values("id")), on_map)),
        **_common(),
    }
    if as_of:
        snapshots = Snapshot.objects.visible_to(user).filter(level=Level.PROVINCE, day=as_of, map=on_map.key)
        parts |= _snapshots(snapshots.filter(province__in=units.values("id")))
    state = scalars(**parts)
    if code and not (state["snapshots"] if as_of else state["units"]):
        raise not_found()
    return today, tuple(state.items())


def communes(
    *,
    user,
    as_of: dt.date | None = None,
    province_code: str | None = None,
    code: str | None = None,
    on_map: maps.Map = maps.CURRENT,
) -> tuple:
    """A province's communes in scope on a map (404 if the province is not), or the commune with `code` (404
    if it is not there); a commune's answer also lists its hamlets, whose every write marks it (on the 2024
    map: marks a commune it went into)."""
    today = timezone.localdate()
    day = map_day(on_map, today)
    units = Commune.objects.current(day).visible_to(user)
    parts: dict[str, QuerySet] = {}
    if province_code:
        units = units.filter(province__code=province_code)
        province = Province.objects.current(day).visible_to(user).filter(code=province_code)
        parts["province"] = scalar(province, Count("id"))
    if code:
        units = units.filter(code=code)
    parts |= {
        "units": scalar(units, Count("id")),
        **_figures(CommuneFigures.objects.filter(commune__in=units.values("id"))),
        **_marks(marks_of(units.values("id"), on_map)),
        **_common(),
    }
    if as_of:
        snapshots = Snapshot.objects.visible_to(user).filter(level=Level.COMMUNE, day=as_of, map=on_map.key)
        parts |= _snapshots(snapshots.filter(commune__in=units.values("id")))
    state = scalars(**parts)
    if province_code and not state["province"]:
        raise not_found()
    if code and not (state["snapshots"] if as_of else state["units"]):
        raise not_found()
    return today, tuple(state.items())
