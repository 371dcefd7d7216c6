"""Writing coverage figures: the full and incremental recompute, reconcile, and daily snapshots."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from activities.models import ActivityType
from areas.models import Commune, DirtyCommune, Province
from coverage import compute
from coverage.models import CommuneFigures, Level, NationalFigures, ProvinceFigures, ReconcileRun, Snapshot

logger = logging.getLogger(__name__)

# pg advisory lock key: "one recompute at a time" (any value unique to this purpose).
RECOMPUTE_LOCK = 7_261_001

_FIGURE_FIELDS = [*compute.COUNTS, *compute.BREAKDOWNS, "hamlet_coverage", "quarter"]
_COMMUNE_COLUMNS = ["commune_id", "province_id", "covered", "fully_covered", *_FIGURE_FIELDS, "computed_at"]
_PROVINCE_COLUMNS = [
    "province_id",
    "communes_total",
    "communes_covered",
    "communes_fully_covered",
    "complete",
    *_FIGURE_FIELDS,
    "computed_at",
]
_NATION_COLUMNS = [
    "id",
    "communes_total",
    "communes_covered",
    "communes_fully_covered",
    "provinces_total",
    "provinces_complete",
    *_FIGURE_FIELDS,
    "computed_at",
]


def _json_default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def _upsert(model, columns: list[str], key: str, rows: list[dict]) -> None:
    """Insert or replace rows in one statement (PostgreSQL: jsonb_to_recordset), whatever their number."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        fields = {f.attname: f for f in model._meta.concrete_fields}
        types = ", ".join(f"{c} {fields[c].db_type(connection).replace('serial', 'int')}" for c in columns)
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
        sql = (
            f"INSERT INTO {model._meta.db_table} ({names}) "
            f"SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({types}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )
        payload = json.dumps([{c: row[c] for c in columns} for row in rows], default=_json_default)
        with connection.cursor() as cursor:
            cursor.execute(sql, [payload])
        return
    objects = [model(**{c: row[c] for c in columns}) for row in rows]
    model.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=[key],
        update_fields=[c for c in columns if c != key],
        batch_size=500,
    )


@dataclass
class RecomputeResult:
    communes: int
    provinces: int
    differences: int = 0


def _type_codes() -> list[str]:
    return list(ActivityType.objects.order_by("sort_order", "code").values_list("code", flat=True))


def _store_communes(figures: dict[int, dict], now) -> None:
    rows = [{"commune_id": commune_id, **values, "computed_at": now} for commune_id, values in figures.items()]
    _upsert(CommuneFigures, _COMMUNE_COLUMNS, "commune_id", rows)


def _roll_up(province_ids, now, today: dt.date) -> None:
    """Recompute these provinces from their stored commune figures, then the nation from all provinces."""
    quarter, _ = compute.quarter_of(today)
    types = _type_codes()
    current_communes = Commune.objects.current(today).values("id")
    commune_rows = list(
        CommuneFigures.objects.filter(province_id__in=province_ids, commune_id__in=current_communes).values()
    )
    provinces = compute.roll_up_provinces(commune_rows, province_ids, quarter, types)
    _upsert(
        ProvinceFigures,
        _PROVINCE_COLUMNS,
        "province_id",
        [{"province_id": pid, **values, "computed_at": now} for pid, values in provinces.items()],
    )
    province_rows = list(
        ProvinceFigures.objects.filter(province_id__in=Province.objects.current(today).values("id")).values()
    )
    nation = compute.roll_up_nation(province_rows, quarter, types)
    _upsert(NationalFigures, _NATION_COLUMNS, "id", [{"id": 1, **nation, "computed_at": now}])


def _begin_exclusive() -> bool:
    """Start the recompute's transaction: one snapshot for every read, and one recompute at a time.

    REPEATABLE READ makes all aggregation queries see the same rows, and makes the final DELETE of
    the outbox remove only marks that this snapshot saw (a mark committed later survives).
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if len(connection.atomic_blocks) == 1:
            # Only the outermost block can choose the isolation (inside tests' transactions it cannot).
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RECOMPUTE_LOCK])
        return cursor.fetchone()[0]


def recompute(*, commune_ids=None, today: dt.date | None = None) -> RecomputeResult:
    """Recompute communes (all when None), their provinces and the nation. Caller holds the transaction."""
    today = today or timezone.localdate()
    now = timezone.now()
    figures = compute.compute_communes(commune_ids, today=today)
    _store_communes(figures, now)
    province_ids = (
        compute.current_province_ids(today)
        if commune_ids is None
        else sorted({f["province_id"] for f in figures.values()})
    )
    _roll_up(province_ids, now, today)
    return RecomputeResult(communes=len(figures), provinces=len(province_ids))


def recompute_all(*, province_code: str | None = None) -> RecomputeResult | None:
    """The full path: every commune (or one province's), in one transaction. None if another run holds the lock."""
    with transaction.atomic():
        if not _begin_exclusive():
            return None
        ids = None
        if province_code:
            ids = list(Commune.objects.current().filter(province__code=province_code).values_list("id", flat=True))
        max_mark = DirtyCommune.objects.aggregate(m=Max("id"))["m"]
        result = recompute(commune_ids=ids)
        if max_mark is not None:
            marks = DirtyCommune.objects.filter(pk__lte=max_mark)
            if ids is not None:
                marks = marks.filter(commune_id__in=ids)
            marks.delete()
        return result


def _fault_pause() -> None:
    """Fault injection for the kill tests: hold the recompute open (COVERAGE_FAULT_PAUSE_SECONDS, default 0)."""
    seconds = settings.COVERAGE_FAULT_PAUSE_SECONDS
    if seconds:
        from django.core.cache import cache

        cache.set("coverage:fault-paused", timezone.now().isoformat(), timeout=seconds + 60)
        time.sleep(seconds)


def marks_waiting() -> bool:
    return DirtyCommune.objects.exists()


def recompute_dirty(*, max_rounds: int = 5) -> int | None:
    """The incremental path: recompute the communes marked dirty, then clear only the marks it read.

    Returns the number of communes recomputed, or None when another recompute holds the lock
    (it will see the new marks: it loops until the outbox is empty).
    """
    done = 0
    for _ in range(max_rounds):
        with transaction.atomic():
            if not _begin_exclusive():
                return None if done == 0 else done
            marks = list(DirtyCommune.objects.values("commune_id").annotate(last=Max("id")))
            if not marks:
                return done
            _fault_pause()
            ids = [m["commune_id"] for m in marks]
            last = max(m["last"] for m in marks)
            recompute(commune_ids=ids)
            DirtyCommune.objects.filter(pk__lte=last, commune_id__in=ids).delete()
            done += len(ids)
    return done


def reconcile() -> ReconcileRun:
    """Nightly: recompute everything, count the figures that differ from the incremental ones, store the fresh ones."""
    started = timezone.now()
    fields = [*compute.COUNTS, *compute.BREAKDOWNS, "covered", "fully_covered"]
    with transaction.atomic():
        if not _begin_exclusive():
            raise RuntimeError("another recompute is running")
        fresh = compute.compute_communes(None)
        stored = {row["commune_id"]: row for row in CommuneFigures.objects.values("commune_id", *fields)}
        codes = dict(Commune.objects.filter(pk__in=list(fresh)).values_list("id", "code"))
        differences, examples = 0, []
        for commune_id, figures in fresh.items():
            old = stored.get(commune_id)
            for name in fields:
                old_value = None if old is None else old[name]
                if old_value != figures[name]:
                    differences += 1
                    if len(examples) < 50:
                        examples.append(
                            {
                                "commune": codes[commune_id],
                                "field": name,
                                "stored": old_value,
                                "recomputed": figures[name],
                            }
                        )
        now = timezone.now()
        _store_communes(fresh, now)
        _roll_up(compute.current_province_ids(), now, timezone.localdate())
        run = ReconcileRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            communes=len(fresh),
            differences=differences,
            examples=examples,
        )
    if differences:
        logger.error("coverage reconcile: %d figures differed from the incremental ones", differences)
    else:
        logger.info("coverage reconcile: 0 differences over %d communes", len(fresh))
    return run


def snapshot_take(*, day: dt.date | None = None) -> int:
    """Copy every unit's current figures into that day's snapshot (replacing an earlier copy of the day)."""
    day = day or timezone.localdate()
    now = timezone.now()
    commune_codes = dict(Commune.objects.values_list("id", "code"))
    province_codes = dict(Province.objects.values_list("id", "code"))
    snapshots = [
        Snapshot(
            day=day,
            level=Level.COMMUNE,
            code=commune_codes[f["commune_id"]],
            province_id=f["province_id"],
            commune_id=f["commune_id"],
            figures=_plain(f),
            taken_at=now,
        )
        for f in CommuneFigures.objects.values()
    ]
    snapshots += [
        Snapshot(
            day=day,
            level=Level.PROVINCE,
            code=province_codes[f["province_id"]],
            province_id=f["province_id"],
            figures=_plain(f),
            taken_at=now,
        )
        for f in ProvinceFigures.objects.values()
    ]
    snapshots += [
        Snapshot(day=day, level=Level.NATION, code="VN", figures=_plain(f), taken_at=now)
        for f in NationalFigures.objects.values()
    ]
    with transaction.atomic():
        Snapshot.objects.filter(day=day).delete()
        Snapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)


def _plain(figures: dict) -> dict:
    return json.loads(json.dumps(figures, default=_json_default))
