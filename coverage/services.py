"""Writing coverage figures: the full and incremental recompute, reconcile, and daily snapshots."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, JSONField, Max, Q
from django.utils import timezone

from activities import tallies
from areas import maps
from areas.changes import RECOMPUTE_TASK
from areas.models import Commune, CommuneLink, DirtyCommune, Province
from config.celery import app, enqueue
from coverage import compute
from coverage.models import (
    NATION_2024,
    NATION_2025,
    CommuneFigures,
    Level,
    NationalFigures,
    ProvinceFigures,
    ReconcileRun,
    Snapshot,
)
from teams import counts as team_counts

logger = logging.getLogger(__name__)

# pg advisory lock key: "one recompute at a time" (any value unique to this purpose).
RECOMPUTE_LOCK = 7_261_001
# The least work_mem a recompute's transaction runs with (a server set higher keeps its own).
ROUND_WORK_MEM = "32MB"

_FIGURE_FIELDS = [*compute.COUNTS, *compute.BREAKDOWNS, "hamlet_coverage", "quarter"]
_COMMUNE_COLUMNS = ["commune_id", "province_id", "covered", "fully_covered", *_FIGURE_FIELDS, "computed_at"]
_PROVINCE_COLUMNS = [
    "province_id",
    "communes_total",
    "communes_covered",
    "communes_covered_max",
    "communes_fully_covered",
    "complete",
    *_FIGURE_FIELDS,
    "computed_at",
]
_NATION_COLUMNS = [
    "id",
    "valid_until",
    "communes_total",
    "communes_covered",
    "communes_covered_max",
    "communes_fully_covered",
    "provinces_total",
    "provinces_complete",
    "provinces_complete_max",
    *_FIGURE_FIELDS,
    "computed_at",
]


def _json_default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def _json(value) -> str:
    """A breakdown as JSON text for COPY (orjson: a sixth of the json module's time on 67,000 values)."""
    return orjson.dumps(value).decode()


def _upsert(model, columns: list[str], key: str, rows: Iterable[dict]) -> None:
    """Insert or replace rows, whatever their number, in a fixed number of statements.

    `rows` may be a generator: on PostgreSQL each row is written to COPY as it comes, so that a full
    recompute never holds a second copy of 13,000 communes' figures (the worker's peak memory).

    PostgreSQL: COPY into the session's loading table, then INSERT … SELECT … ON CONFLICT. COPY parses each JSON
    value once; a single JSON document of every row (jsonb_to_recordset) took four times as long for the
    10,040 communes of the 2024 map (docs/performance.md). The loading table is created once per database
    session and emptied at each commit (ON COMMIT DELETE ROWS), so a recompute adds nothing to the catalog.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = chain([first], rows)
    if connection.vendor == "postgresql":
        assert connection.in_atomic_block, "the loading table empties at each commit: upsert inside a transaction"
        table = model._meta.db_table
        loading = f"loading_{table}"
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
        with connection.cursor() as cursor:
            shape = f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            _copy_to_loading(cursor, model, loading, shape, columns, rows)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {loading} "
                f"ON CONFLICT ({key}) DO UPDATE SET {updates}; TRUNCATE {loading}"
            )
        return
    objects = [model(**{c: row[c] for c in columns}) for row in rows]
    model.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=[key],
        update_fields=[c for c in columns if c != key],
        batch_size=500,
    )


def _copy_to_loading(cursor, model, loading: str, shape: str, columns: list[str], rows: Iterable[dict]) -> None:
    """COPY the rows' columns into the session's loading table, created once (`shape`: what follows its name in
    the CREATE, which makes it empty at each commit); a JSON field's value is written as JSON text."""
    as_json = {c for c in columns if isinstance(model._meta.get_field(_field_name(model, c)), JSONField)}
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {loading} {shape}")
    with cursor.cursor.copy(f"COPY {loading} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_json(row[c]) if c in as_json else row[c] for c in columns])


def _field_name(model, column: str) -> str:
    """The field behind a column name ("commune_id" is the field "commune")."""
    for field in model._meta.concrete_fields:
        if field.attname == column:
            return field.name
    raise LookupError(column)


@dataclass
class RecomputeResult:
    communes: int
    provinces: int


class RecomputeBusy(Exception):
    """Another recompute holds the lock; try again shortly."""


def _store_communes(figures: dict[int, dict], now) -> None:
    rows = ({"commune_id": commune_id, **values, "computed_at": now} for commune_id, values in figures.items())
    _upsert(CommuneFigures, _COMMUNE_COLUMNS, "commune_id", rows)


def _roll_up(
    province_ids,
    now,
    today: dt.date,
    types: list[str],
    on_map: maps.Map = maps.CURRENT,
    communes: dict[int, dict] | None = None,
    nation: bool = True,
) -> int:
    """Recompute these provinces (every one of the map when None) from their commune figures, then (unless
    `nation` is false) the nation from every province of the map.

    The full path passes `communes`, the figures of every commune of the map it has just computed (or, in a
    round of the 2024 map, every commune of `province_ids`), and nothing is read back; otherwise the provinces'
    stored commune figures are read. Totals come from the map (on `today` for the current one): on the
    incremental path a province with no stored figures yet is rolled up too, so the nation always counts every
    province and commune of the map. Returns the provinces written.
    """
    quarter, _ = compute.quarter_of(today)
    day = today if on_map is maps.CURRENT else on_map.day()
    totals = compute.map_totals(day)
    if province_ids is None:
        targets = set(totals)
    elif communes is not None:  # a round of a full recompute: every province gets its own round
        targets = set(province_ids) & totals.keys()
    else:
        stored = ProvinceFigures.objects.filter(province_id__in=list(totals)).values_list("province_id", flat=True)
        targets = (set(province_ids) | (totals.keys() - set(stored))) & totals.keys()
    if communes is not None:
        commune_rows = [row for row in communes.values() if row["province_id"] in targets]
    else:
        commune_rows = list(
            CommuneFigures.objects.filter(
                province_id__in=targets, commune_id__in=Commune.objects.current(day).values("id")
            ).values()
        )
    unplaced = nation_unplaced = None
    if on_map is maps.OLD:
        unplaced, nation_unplaced = compute.unplaced_on_2024(targets)
    provinces = compute.roll_up_provinces(
        commune_rows, {p: totals[p] for p in targets}, quarter, types, unplaced=unplaced
    )
    _upsert(
        ProvinceFigures,
        _PROVINCE_COLUMNS,
        "province_id",
        [{"province_id": pid, **values, "computed_at": now} for pid, values in provinces.items()],
    )
    if not nation:
        return len(provinces)
    if targets == totals.keys():
        province_rows = list(provinces.values())
    else:
        province_rows = list(ProvinceFigures.objects.filter(province_id__in=list(totals)).values())
    figures = compute.roll_up_nation(province_rows, quarter, types, unplaced=nation_unplaced)
    figures["valid_until"] = compute.valid_until(today)
    pk = NATION_2024 if on_map is maps.OLD else NATION_2025
    _upsert(NationalFigures, _NATION_COLUMNS, "id", [{"id": pk, **figures, "computed_at": now}])
    return len(provinces)


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
        # With the lock, no JIT for the rest of the transaction: compiling a recompute's queries took longer
        # than running them (docs/performance.md), and the incremental round runs every second under load.
        # And at least ROUND_WORK_MEM for its sorts and hashes (compose.yaml's setting; PostgreSQL's default of
        # 4MB sent a round's aggregate of the activity tallies to disk: 70 against 48 ms for 168 communes).
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s), set_config('jit', 'off', true), "
            "CASE WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s) "
            "THEN set_config('work_mem', %s, true) END",
            [RECOMPUTE_LOCK, ROUND_WORK_MEM, ROUND_WORK_MEM],
        )
        return cursor.fetchone()[0]


def recompute(*, commune_ids=None, today: dt.date | None = None, activities_only=()) -> RecomputeResult:
    """Recompute communes (all when None), their provinces and the nation. Caller holds the transaction.

    activities_only: more marked communes, where only activities changed since their figures were stored
    (areas.changes): their ACTIVITY_FIGURES, and those of the 2024 map's communes around them, are read again and
    the rest of their stored figures kept. One also in commune_ids is recomputed whole.

    A marked commune that is no longer current (or moved) still names its provinces, so that they drop it.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    types = compute.activity_type_codes()
    if commune_ids is None:
        return _recompute_everything(now, today, types)
    return _recompute_marked(
        sorted(set(commune_ids)), sorted(set(activities_only) - set(commune_ids)), now, today, types
    )


def _recompute_everything(now, today: dt.date, types: list[str]) -> RecomputeResult:
    """Both maps from one read of all the sources; provinces and the nation rolled up in memory."""
    sources = compute.read_sources(quarter_start=compute.quarter_of(today)[1])
    figures = compute.compute_communes(None, today=today, type_codes=types, sources=sources)
    _store_communes(figures, now)
    written = _roll_up(None, now, today, types, communes=figures)
    communes = len(figures)
    del figures  # stored: the 2024 map reads what it needs of them back (less memory at the peak)
    _recompute_2024_map_in_rounds(now, today, types, sources)
    return RecomputeResult(communes=communes, provinces=written)


def _recompute_marked(whole: list[int], partial: list[int], now, today: dt.date, types: list[str]) -> RecomputeResult:
    """The incremental path. `whole` communes are computed from the sources of every 2025 commune sharing an old
    commune with them (what the 2024 map's communes around them are made of), read once for both maps;
    `partial` ones (activities only) have their activity figures written over their stored ones."""
    quarter_start = compute.quarter_of(today)[1]
    activity, activity_old = {}, {}
    if partial:
        found = _activity_figures(partial, today, types, quarter_start)
        if found is None:  # figures never stored for one of them: recompute them whole
            whole, partial = sorted({*whole, *partial}), []
        else:
            activity, activity_old = found
    marked = whole + partial
    was = CommuneFigures.objects.filter(commune_id__in=marked).values_list("province_id").order_by()
    now_in = Commune.objects.filter(pk__in=marked).values_list("province_id", flat=True).order_by()
    province_ids = set(now_in.union(was, all=True))
    figures, old_ids, sources = {}, set(), None
    if whole:
        old_ids, around = _links_around(whole)
        sources = compute.read_sources(set(whole) | around, quarter_start=quarter_start)
        figures = compute.compute_communes(whole, today=today, type_codes=types, sources=sources)
        _store_communes(figures, now)
    _store_activity_figures(activity, now)
    written = _roll_up(province_ids, now, today, types)
    # The 2024 map after the 2025 map's figures are stored (its unplaced counts are read from them). An old
    # commune around a whole one is computed whole.
    activity_old = {commune_id: row for commune_id, row in activity_old.items() if commune_id not in old_ids}
    old = {}
    if old_ids:
        old = compute.compute_old_communes(old_ids, today=today, type_codes=types, sources=sources)
        _store_communes(old, now)
    _store_activity_figures(activity_old, now)
    if old or activity_old:
        provinces = {f["province_id"] for f in old.values()} | {f["province_id"] for f in activity_old.values()}
        _roll_up(provinces, now, today, types, maps.OLD)
    return RecomputeResult(communes=len(figures) + len(activity), provinces=written)


def _activity_figures(
    partial: list[int], today: dt.date, types: list[str], quarter_start: dt.date
) -> tuple[dict[int, dict], dict[int, dict]] | None:
    """The figures of these 2025 communes and of the 2024 map's communes they were made of, right in their
    activity figures only (compute.ACTIVITY_FIGURES): computed from the activities of every 2025 commune around
    them (one query). None when one of them has no stored figures to write those over (never computed since it
    appeared, or lost)."""
    old_ids, around = _links_around(partial)
    sources = compute.read_sources(set(partial) | around, quarter_start=quarter_start, activities_only=True)
    fresh = compute.compute_communes(partial, today=today, type_codes=types, sources=sources)
    fresh_old = compute.compute_old_communes(old_ids, today=today, type_codes=types, sources=sources) if old_ids else {}
    ids = [*fresh, *fresh_old]
    if CommuneFigures.objects.filter(commune_id__in=ids).count() < len(ids):
        return None
    return fresh, fresh_old


_ACTIVITY_COLUMNS = ["commune_id", *compute.ACTIVITY_FIGURES, "computed_at"]


def _store_activity_figures(figures: dict[int, dict], now) -> None:
    """Write these communes' activity figures over their stored rows, leaving every other figure as stored.

    PostgreSQL: COPY into the session's loading table of those columns, then one UPDATE … FROM it (the rows'
    other figures, three of them JSON, are neither read nor written again)."""
    if not figures:
        return
    rows = [
        {"commune_id": commune_id, **{name: values[name] for name in compute.ACTIVITY_FIGURES}, "computed_at": now}
        for commune_id, values in figures.items()
    ]
    table = CommuneFigures._meta.db_table
    if connection.vendor != "postgresql":
        objects = [CommuneFigures(**row) for row in rows]
        CommuneFigures.objects.bulk_update(objects, _ACTIVITY_COLUMNS[1:], batch_size=500)
        return
    assert connection.in_atomic_block, "the loading table empties at each commit: write inside a transaction"
    loading = f"loading_activities_{table}"
    updates = ", ".join(f"{c} = l.{c}" for c in _ACTIVITY_COLUMNS[1:])
    # Its columns: those of the figures' table it writes (a table LIKE the figures' would want every NOT NULL one).
    shape = f"ON COMMIT DELETE ROWS AS SELECT {', '.join(_ACTIVITY_COLUMNS)} FROM {table} WITH NO DATA"
    with connection.cursor() as cursor:
        _copy_to_loading(cursor, CommuneFigures, loading, shape, _ACTIVITY_COLUMNS, rows)
        cursor.execute(
            f"UPDATE {table} AS f SET {updates} FROM {loading} AS l WHERE f.commune_id = l.commune_id; "
            f"TRUNCATE {loading}"
        )


def _links_around(commune_ids: list[int]) -> tuple[set[int], set[int]]:
    """The old communes these 2025 communes were made of, and every 2025 commune made (in part) of those. One
    query; both empty when the 2024 map is not loaded."""
    olds = CommuneLink.objects.filter(new_commune_id__in=commune_ids).values("old_commune_id")
    links = CommuneLink.objects.filter(old_commune_id__in=olds).values_list("old_commune_id", "new_commune_id")
    old_ids: set[int] = set()
    new_ids: set[int] = set()
    for old_id, new_id in links:
        old_ids.add(old_id)
        new_ids.add(new_id)
    return old_ids, new_ids


# Provinces of the 2024 map per round of its full recompute: the figures of its 10,040 communes at once took
# 80 MB of the worker's peak memory (issue 16); a round of 16 provinces holds about a quarter of them.
OLD_MAP_PROVINCES_PER_ROUND = 16


def _recompute_2024_map_in_rounds(now, today: dt.date, types: list[str], sources=None) -> None:
    """Every commune of the 2024 map, OLD_MAP_PROVINCES_PER_ROUND provinces at a time: each round computes
    its communes (from `sources`, which cover the whole country), stores them and rolls its provinces up
    from them in memory; the last round rolls the nation up from every stored province."""
    day = maps.OLD.day()
    provinces = sorted(compute.map_totals(day))
    rounds = [
        provinces[start : start + OLD_MAP_PROVINCES_PER_ROUND]
        for start in range(0, len(provinces), OLD_MAP_PROVINCES_PER_ROUND)
    ]
    for number, group in enumerate(rounds, start=1):
        ids = Commune.objects.current(day).filter(province_id__in=group).values_list("id", flat=True)
        figures = compute.compute_old_communes(list(ids), today=today, type_codes=types, sources=sources)
        _store_communes(figures, now)
        _roll_up(group, now, today, types, maps.OLD, communes=figures, nation=number == len(rounds))
        del figures  # stored and rolled up: the next round's take their place
    if sources is not None:
        sources.release()


def _recompute_all_locked(*, province_code: str | None = None) -> RecomputeResult:
    """The full path inside the caller's locked transaction; clears the marks it covered."""
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


def recompute_all(*, province_code: str | None = None) -> RecomputeResult | None:
    """The full path: every commune (or one province's), in one transaction. None if another run holds the lock."""
    with transaction.atomic():
        if not _begin_exclusive():
            return None
        return _recompute_all_locked(province_code=province_code)


def marks_waiting() -> bool:
    return DirtyCommune.objects.exists()


def refresh_if_waiting() -> int | None:
    """Recompute now if marks wait or the figures are outdated (the embedded mode's stand-in for the beat sweep)."""
    if marks_waiting() or compute.figures_outdated():
        return recompute_dirty()
    return 0


def _recompute_marked_locked(*, check_map: bool = True) -> int | None:
    """One round inside the caller's locked transaction: the marked communes, or everything when the
    stored figures are outdated. Returns the communes recomputed, or None when no mark was waiting."""
    if compute.figures_outdated(check_map=check_map):
        return _recompute_all_locked().communes
    marks = list(
        DirtyCommune.objects.values("commune_id")
        .annotate(last=Max("id"), whole=Count("id", filter=Q(activities_only=False)))
        .order_by()
    )
    if not marks:
        return None
    ids = [m["commune_id"] for m in marks]
    last = max(m["last"] for m in marks)
    recompute(
        commune_ids=[m["commune_id"] for m in marks if m["whole"]],
        activities_only=[m["commune_id"] for m in marks if not m["whole"]],
    )
    DirtyCommune.objects.filter(pk__lte=last, commune_id__in=ids).delete()
    return len(ids)


def recompute_dirty(*, max_rounds: int = 5) -> int | None:
    """The incremental path: recompute the communes marked dirty, then clear only the marks it read.

    When the stored figures are outdated (never computed, a new quarter, a unit valid from or retired
    on a day since) the round recomputes everything instead. Returns the number of communes
    recomputed, or None when another recompute holds the lock.
    """
    done = 0
    for _ in range(max_rounds):
        with transaction.atomic():
            if not _begin_exclusive():
                return None if done == 0 else done
            count = _recompute_marked_locked()
            if count is None:
                return done
            done += count
    return done


# When the worker's last round ended (time.time()) and how long it took, in the cache: the next kicked round rests
# a debounce window, or as long as that round took if longer, after it.
ROUND_ENDED_KEY = "coverage:round-ended"
# A rest never exceeds this many windows, whatever the cache holds.
_MAX_REST_WINDOWS = 10


def recompute_dirty_and_follow_up() -> int | None:
    """The worker's recompute after a kick: one round, then another run asked for when it could not finish.

    If another recompute held the lock, or marks are still waiting after the round, the task runs again
    after the debounce window, so that marks never wait for the minute sweep. The request goes straight to
    the broker: the kick's debounce key may still be set by the kick that started this run. In the embedded
    mode (no broker) the next write or read recomputes what waits instead.

    Rounds rest: a run that comes within the debounce window of the last round's end, or within as long as
    that round took when it took longer, asks again for when the rest is over instead of starting a round.
    Under sustained writes, rounds ran back to back and took 0.7 of the machine's 2 cores (the worker and
    PostgreSQL) beside the sync they followed; now rounds take at most half the time, and at most a round in
    a window when they are short (docs/decisions.md, "Recompute rounds rest a debounce window"). A write after
    a quiet spell still waits only the window: its kick's run comes a window after it.
    """
    window = settings.COVERAGE_KICK_DEBOUNCE_SECONDS
    eager = app.conf.task_always_eager
    if not eager and window:
        rest = _rest_left(window)
        if rest > 0:
            enqueue(RECOMPUTE_TASK, countdown=rest)
            return None
    started = time.monotonic()
    done = recompute_dirty(max_rounds=5 if eager or not window else 1)
    if not eager:
        if done:
            _round_ended(window, took=time.monotonic() - started)
        if done is None or marks_waiting():
            enqueue(RECOMPUTE_TASK, countdown=window)
    return done


def _rest_left(window: int) -> float:
    """Seconds until the last round's rest is over (0 if it is, or the cache cannot say): a window, or as long
    as the round took if longer, from its end; never more than _MAX_REST_WINDOWS windows."""
    from django.core.cache import cache

    try:
        last = cache.get(ROUND_ENDED_KEY)
    except Exception as exc:  # the cache is down: no rest rather than no round
        logger.warning("coverage: cannot read when the last round ended: %s", type(exc).__name__)
        return 0.0
    if not isinstance(last, dict):
        return 0.0
    rest = min(max(float(window), last["took"]), float(window * _MAX_REST_WINDOWS))
    return max(0.0, min(rest, last["ended"] + rest - time.time()))


def _round_ended(window: int, *, took: float) -> None:
    from django.core.cache import cache

    try:
        timeout = max(2 * window * _MAX_REST_WINDOWS, 1)
        cache.set(ROUND_ENDED_KEY, {"ended": time.time(), "took": took}, timeout=timeout)
    except Exception as exc:
        logger.warning("coverage: cannot record the round's end: %s", type(exc).__name__)


_COMPARED = {
    CommuneFigures: [*compute.COUNTS, *compute.BREAKDOWNS, "hamlet_coverage", "quarter", "covered", "fully_covered"],
    ProvinceFigures: [
        *compute.COUNTS,
        *compute.BREAKDOWNS,
        "hamlet_coverage",
        "quarter",
        "communes_total",
        "communes_covered",
        "communes_covered_max",
        "communes_fully_covered",
        "complete",
    ],
    NationalFigures: [
        *compute.COUNTS,
        *compute.BREAKDOWNS,
        "hamlet_coverage",
        "quarter",
        "communes_total",
        "communes_covered",
        "communes_covered_max",
        "communes_fully_covered",
        "provinces_total",
        "provinces_complete",
        "provinces_complete_max",
    ],
}
_LEVEL_OF = {CommuneFigures: Level.COMMUNE, ProvinceFigures: Level.PROVINCE, NationalFigures: Level.NATION}


def _current_figures(today: dt.date) -> dict:
    """{(map, level, unit code): {field: value}} of the stored figures of every unit of both maps."""
    communes, provinces = {}, {}
    for on_map, day in ((maps.CURRENT, today), (maps.OLD, maps.OLD.day())):
        communes |= {pk: (on_map.key, code) for pk, code in Commune.objects.current(day).values_list("id", "code")}
        provinces |= {pk: (on_map.key, code) for pk, code in Province.objects.current(day).values_list("id", "code")}
    nations = {NATION_2025: (maps.CURRENT.key, "VN"), NATION_2024: (maps.OLD.key, "VN")}
    found: dict = {}
    for model, fields in _COMPARED.items():
        key = model._meta.pk.attname
        codes = {CommuneFigures: communes, ProvinceFigures: provinces, NationalFigures: nations}[model]
        for row in model.objects.filter(**{f"{key}__in": list(codes)}).values(key, *fields):
            on_map, code = codes[row[key]]
            found[(on_map, _LEVEL_OF[model], code)] = {name: row[name] for name in fields}
    return found


def reconcile() -> ReconcileRun:
    """Nightly: bring the incremental figures up to date, recompute everything, and count the figures of
    every commune, province and the nation that differ (expected 0). Raises RecomputeBusy if locked."""
    started = timezone.now()
    with transaction.atomic():
        if not _begin_exclusive():
            raise RecomputeBusy()
        # The tallies the figures read, against the activities themselves, and the team list's counts against
        # the teams (each repaired if it ever differs).
        tally_differences = tallies.check_and_repair() + team_counts.check_and_repair()
        # First what the incremental path would do with the marks committed before our snapshot (and a
        # new quarter or a unit's start or end date); an unmarked change stays for the comparison to find.
        for _ in range(5):
            if _recompute_marked_locked(check_map=False) is None:
                break
        today = timezone.localdate()
        incremental = _current_figures(today)
        result = _recompute_all_locked()
        fresh = _current_figures(today)
        differences, examples = 0, []
        for (on_map, level, code), figures in sorted(fresh.items()):
            old = incremental.get((on_map, level, code), {})
            for name, value in figures.items():
                if old.get(name) != value:
                    differences += 1
                    if len(examples) < 50:
                        examples.append(
                            {
                                "map": on_map,
                                "level": level,
                                "code": code,
                                "field": name,
                                "stored": old.get(name),
                                "recomputed": value,
                            }
                        )
        run = ReconcileRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            communes=result.communes,
            differences=differences,
            examples=examples,
            tally_differences=tally_differences,
        )
    if differences:
        logger.error("coverage reconcile: %d figures differed from the incremental ones", differences)
    else:
        logger.info("coverage reconcile: 0 differences over %d communes", result.communes)
    return run


def snapshot_take(*, day: dt.date | None = None) -> int:
    """Copy every unit's current figures, on both maps, into that day's snapshot (replacing an earlier copy
    of the day). Each row names its map: codes collide between the maps."""
    day = day or timezone.localdate()
    now = timezone.now()
    communes = {
        pk: (code, maps.map_of_start(start))
        for pk, code, start in Commune.objects.values_list("id", "code", "valid_from")
    }
    provinces = {
        pk: (code, maps.map_of_start(start))
        for pk, code, start in Province.objects.values_list("id", "code", "valid_from")
    }
    snapshots = [
        Snapshot(
            day=day,
            map=communes[f["commune_id"]][1],
            level=Level.COMMUNE,
            code=communes[f["commune_id"]][0],
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
            map=provinces[f["province_id"]][1],
            level=Level.PROVINCE,
            code=provinces[f["province_id"]][0],
            province_id=f["province_id"],
            figures=_plain(f),
            taken_at=now,
        )
        for f in ProvinceFigures.objects.values()
    ]
    snapshots += [
        Snapshot(
            day=day,
            map=maps.OLD.key if f["id"] == NATION_2024 else maps.CURRENT.key,
            level=Level.NATION,
            code="VN",
            figures=_plain(f),
            taken_at=now,
        )
        for f in NationalFigures.objects.values()
    ]
    with transaction.atomic():
        Snapshot.objects.filter(day=day).delete()
        Snapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)


def _plain(figures: dict) -> dict:
    return json.loads(json.dumps(figures, default=_json_default))
