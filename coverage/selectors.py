"""Reads of coverage figures (current or from a day's snapshot), scoped to the caller."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts.scoping import NATION, scope_of
from areas.models import Commune, DirtyCommune, Hamlet, Province
from config.errors import NotFound
from coverage.compute import BREAKDOWNS, COUNTS
from coverage.models import CommuneFigures, Level, NationalFigures, ProvinceFigures, Snapshot
from teams.models import Team, TeamStatus

_COMMON = [*COUNTS, "hamlet_coverage", "quarter", *BREAKDOWNS, "computed_at"]
COMMUNE_FIELDS = ["covered", "fully_covered", *_COMMON]
PROVINCE_FIELDS = ["communes_total", "communes_covered", "communes_fully_covered", "complete", *_COMMON]
NATION_FIELDS = [
    "provinces_total",
    "provinces_complete",
    "communes_total",
    "communes_covered",
    "communes_fully_covered",
    *_COMMON,
]


def not_found() -> NotFound:
    return NotFound(_("Not found."))


def _pick(values: dict, fields: list[str]) -> dict:
    return {name: values.get(name) for name in fields}


def _snapshots(user, level: str, day: dt.date) -> QuerySet[Snapshot]:
    return Snapshot.objects.visible_to(user).filter(level=level, day=day)


def stale(*, commune_filter: dict | None = None) -> bool:
    marks = DirtyCommune.objects.all()
    if commune_filter:
        marks = marks.filter(**commune_filter)
    return marks.exists()


def national(*, user, as_of: dt.date | None = None) -> dict:
    if scope_of(user).level != NATION:
        raise not_found()
    if as_of:
        snapshot = _snapshots(user, Level.NATION, as_of).first()
        if snapshot is None:
            raise not_found()
        return {"code": "VN", "name": "Việt Nam", **_pick(snapshot.figures, NATION_FIELDS), "stale": False}
    row = NationalFigures.objects.filter(pk=1).values().first()
    if row is None:
        raise not_found()
    return {"code": "VN", "name": "Việt Nam", **_pick(row, NATION_FIELDS), "stale": stale()}


def provinces(*, user, as_of: dt.date | None = None, code: str | None = None) -> list[dict]:
    """Every province in scope with its figures, by code."""
    names = dict(Province.objects.visible_to(user).values_list("id", "name"))
    codes = dict(Province.objects.visible_to(user).values_list("id", "code"))
    if as_of:
        qs = _snapshots(user, Level.PROVINCE, as_of)
        if code:
            qs = qs.filter(code=code)
        rows = [
            {"code": s.code, "name": names.get(s.province_id, ""), **_pick(s.figures, PROVINCE_FIELDS), "stale": False}
            for s in qs
        ]
    else:
        qs = ProvinceFigures.objects.visible_to(user).filter(province__valid_to__isnull=True)
        if code:
            qs = qs.filter(province__code=code)
        dirty = set(
            DirtyCommune.objects.filter(commune__province_id__in=list(codes)).values_list(
                "commune__province_id", flat=True
            )
        )
        rows = [
            {
                "code": codes[r["province_id"]],
                "name": names[r["province_id"]],
                **_pick(r, PROVINCE_FIELDS),
                "stale": r["province_id"] in dirty,
            }
            for r in qs.values()
            if r["province_id"] in codes
        ]
    return sorted(rows, key=lambda r: r["code"])


def communes(
    *, user, province_code: str | None = None, as_of: dt.date | None = None, code: str | None = None
) -> list[dict]:
    """Communes in scope (optionally of one province) with their figures, by code."""
    units = Commune.objects.visible_to(user).select_related("province")
    if province_code:
        units = units.filter(province__code=province_code)
    if code:
        units = units.filter(code=code)
    unit_by_id = {c.id: c for c in units}
    if as_of:
        qs = _snapshots(user, Level.COMMUNE, as_of).filter(commune_id__in=list(unit_by_id))
        rows = [(s.commune_id, s.figures, False) for s in qs]
    else:
        qs = CommuneFigures.objects.visible_to(user).filter(commune_id__in=list(unit_by_id))
        dirty = set(DirtyCommune.objects.filter(commune_id__in=list(unit_by_id)).values_list("commune_id", flat=True))
        rows = [(r["commune_id"], r, r["commune_id"] in dirty) for r in qs.values()]
    result = [
        {
            "code": unit_by_id[commune_id].code,
            "name": unit_by_id[commune_id].name,
            "kind": unit_by_id[commune_id].kind,
            "province": unit_by_id[commune_id].province.code,
            **_pick(figures, COMMUNE_FIELDS),
            "stale": is_stale,
        }
        for commune_id, figures, is_stale in rows
    ]
    return sorted(result, key=lambda r: r["code"])


def commune_hamlets(*, user, commune_code: str) -> list[dict]:
    """The commune's active hamlets and whether each has an active team (live, not from the figures)."""
    commune = Commune.objects.visible_to(user).filter(code=commune_code).first()
    if commune is None:
        raise not_found()
    active_team = Team.objects.filter(hamlet=OuterRef("pk"), status=TeamStatus.ACTIVE)
    hamlets = (
        Hamlet.objects.filter(commune=commune, active=True)
        .annotate(covered=Exists(active_team))
        .order_by("name_key", "id")
        .values("id", "name", "kind", "covered")
    )
    return list(hamlets)
