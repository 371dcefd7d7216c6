"""The benchmark's settings, database and Redis set-up, and the small helpers every phase uses."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.load import LoadResult

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent

SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"
PASSWORD = "bench-Password-2026"
MINISTRY_PHONE = "0900000001"
SEED = 1
BATCH = 500


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="The benchmark driver (make bench, make bench-quick)."
    )
    parser.add_argument("--quick", action="store_true", help="small scale (one province, 20,000 activities), ~1 min")
    parser.add_argument("--activities", type=int, help="activities to load (default 2,000,000; --quick 20,000)")
    parser.add_argument("--ten-million", action="store_true", help="load 10,000,000 activities")
    parser.add_argument("--runs", type=int, help="runs per figure where that is cheap (default 3; --quick 1)")
    parser.add_argument("--freshness-writes", type=int, help="committed writes timed (default 120; --quick 12)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cdt_bench"),
        help="the bench's own database: dropped and created by the run",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database in place at the end")
    parser.add_argument(
        "--compare-settings",
        action="store_true",
        help="run on a private PostgreSQL cluster (bench/cluster.py) with PostgreSQL's defaults, then restart it "
        "with compose.yaml's recommended settings and measure the recompute, the sync and the reads again",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each measurement, wait up to this many seconds for other processes to leave the cores "
        "(default 120; --quick 0)",
    )
    parser.add_argument(
        "--client-ids",
        choices=("v7", "v4"),
        default="v7",
        help="the ids the sync's client gives new activities: time-ordered UUIDv7, as docs/api.md asks of the "
        "mobile app (default), or random UUIDv4, as a client that ignores that advice sends",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where latest.json and latest.md go")
    args = parser.parse_args(argv)
    if args.ten_million:
        args.activities = 10_000_000
    if args.activities is None:
        args.activities = 20_000 if args.quick else 2_000_000
    args.runs = args.runs or (1 if args.quick else 3)
    args.freshness_writes = args.freshness_writes or (12 if args.quick else 120)
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.quick else 120.0
    database = urlsplit(args.database_url).path.lstrip("/")
    if not database.startswith(("cdt_bench", "bench")):
        parser.error("the bench drops its database: give it one whose name starts with cdt_bench or bench")
    return args


def bench_env(args) -> dict[str, str]:
    """The environment of every process of the run: production settings on the bench's database and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "DJANGO_", "CELERY_", "COVERAGE_", "WRITE_", "LOGIN_"))
    }
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        # One login sends every batch here; the per-user write limit (300/min) is for people, not for the bench.
        WRITE_THROTTLE_RATE="1000000/min",
    )
    return env


def _maintenance_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), name


def recreate_database(database_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    url, name = _maintenance_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.0f} s] {message}", flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def django_setting(name: str):
    from django.conf import settings

    return getattr(settings, name)


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# The server settings that shape the figures (docs/operations.md, "PostgreSQL settings").
POSTGRES_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "min_wal_size",
    "wal_compression",
    "checkpoint_completion_target",
    "synchronous_commit",
    "autovacuum",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_analyze_scale_factor",
    "jit",
    "max_parallel_workers_per_gather",
)


def postgres_settings() -> dict[str, str]:
    """What the server ran with, as SHOW prints each setting."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            [list(POSTGRES_SETTINGS)],
        )
        return dict(cursor.fetchall())


def check_load(result: LoadResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"{what}: {result.errors} failed requests; first: {result.first_error}")


def load_summary(result: LoadResult, cpu: dict | None, *, items: bool = False) -> dict:
    summary = {
        "concurrency": result.concurrency,
        "requests": result.requests,
        "seconds": round(result.seconds, 3),
        "requests_per_second": round(result.requests_per_second, 1),
        "p50_ms": round(result.percentile(50) * 1000, 2),
        "p95_ms": round(result.percentile(95) * 1000, 2),
        "p99_ms": round(result.percentile(99) * 1000, 2),
        "max_ms": round(max(result.latencies) * 1000, 2),
    }
    if items:
        summary["items"] = result.items
        summary["items_per_second"] = round(result.items_per_second)
    if cpu is not None:
        summary["cpu_seconds"] = cpu
    return summary


def median_summary(runs: list[dict]) -> dict:
    """Each figure's median over the runs (the CPU split is the median run's, by throughput)."""
    out = {}
    for key, value in runs[0].items():
        if isinstance(value, int | float):
            out[key] = round(median([r[key] for r in runs]), 2)
    key = "items_per_second" if "items_per_second" in runs[0] else "requests_per_second"
    middle = sorted(runs, key=lambda r: r[key])[len(runs) // 2]
    if "cpu_seconds" in middle:
        out["cpu_seconds"] = middle["cpu_seconds"]
    return out
