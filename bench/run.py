"""The benchmark driver: `python -m bench.run [--quick]` (`make bench`, `make bench-quick`).

It creates its own PostgreSQL database and uses its own Redis database, starts gunicorn (the product and
the bare endpoint, 2 workers each) and a Celery worker, measures the figures of docs/performance.md,
prints a table and writes bench/results/latest.json and latest.md. Whatever happens, it stops what it
started and drops its database (unless --keep-db).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import procs, report
from bench.load import LoadResult, created_items, login, percentile
from bench.load import run as load_run

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent

SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"
PASSWORD = "bench-Password-2026"
MINISTRY_PHONE = "0900000001"
SEED = 1
BATCH = 500


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
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
        "--quiet-wait",
        type=float,
        help="before each measurement, wait up to this many seconds for other processes to leave the cores "
        "(default 120; --quick 0)",
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


# --- The run ------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.env = bench_env(args)
        self.log_dir = Path(tempfile.mkdtemp(prefix="cdt-bench-"))
        self.processes = procs.Processes(self.log_dir)
        self.results: dict = {
            "mode": "quick" if args.quick else "full",
            "machine": procs.machine(),
            "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "settings": {
                "scale": "province 01" if args.quick else "national",
                "activities": args.activities,
                "runs": args.runs,
                "freshness_writes": args.freshness_writes,
                "gunicorn_workers": 2,
                "celery_concurrency": 2,
                "batch": BATCH,
            },
        }
        self.web_url = self.bare_url = ""
        self.database = urlsplit(args.database_url).path.lstrip("/")
        self.other_databases: set[str] = set()
        self.results["cpu"] = {}
        self.results["quiet_waits"] = {}
        self.quiet_budget = 15 * 60.0  # in all: past it, measure without waiting
        # Until the first full recompute, the registry load's marks wait in the outbox (its kick was dropped).
        self.outbox_drains = False

    # Processes -------------------------------------------------------------------------------

    def manage(self, *command: str) -> float:
        started = time.perf_counter()
        with open(self.log_dir / "manage.log", "ab") as log:
            subprocess.run(
                [sys.executable, "manage.py", *command], env=self.env, cwd=ROOT, check=True, stdout=log, stderr=log
            )
        return time.perf_counter() - started

    def start_servers(self) -> None:
        web_port, bare_port = procs.free_port(), procs.free_port()
        gunicorn = [str(BIN / "gunicorn"), "--workers", "2", "--timeout", "300", "--access-logfile", "-"]
        self.processes.start(
            "web", [*gunicorn, "--bind", f"127.0.0.1:{web_port}", "config.wsgi"], env=self.env, cwd=ROOT
        )
        self.processes.start(
            "bare", [*gunicorn, "--bind", f"127.0.0.1:{bare_port}", "bench.bare.wsgi"], env=self.env, cwd=ROOT
        )
        self.web_url, self.bare_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{bare_port}"
        import httpx

        def up(url):
            self.processes.check_alive()
            try:
                return httpx.get(url, timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        procs.wait_for(lambda: up(f"{self.web_url}/health/"), seconds=60, what="gunicorn (product)")
        procs.wait_for(lambda: up(f"{self.bare_url}/bare/ping/"), seconds=60, what="gunicorn (bare)")

    def start_worker(self) -> None:
        argv = [str(BIN / "celery"), "-A", "bench.worker", "worker", "--loglevel", "WARNING", "--concurrency", "2"]
        argv += ["--hostname", f"bench-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
        self.processes.start("worker", argv, env=self.env, cwd=ROOT)
        token = uuid.uuid4().hex
        self.send("bench.ping", token)
        self.wait_result(token, seconds=90, what="the Celery worker")

    def send(self, task: str, *args) -> None:
        from config.celery import app

        app.send_task(task, args=list(args))

    def wait_result(self, token: str, *, seconds: float, what: str) -> dict:
        from django.core.cache import cache

        from bench.worker import RESULT_KEY

        def ready():
            self.processes.check_alive()
            return cache.get(RESULT_KEY.format(token=token))

        return procs.wait_for(ready, seconds=seconds, what=what, interval=0.05)

    def cpu(self) -> dict[str, float]:
        roots = {name: self.processes.pid(name) for name in ("web", "bare", "worker") if name in self.processes.started}
        return procs.cpu_seconds(roots, database=self.database, other_databases=self.other_databases)

    def quiet(self, label: str) -> None:
        """Let other people's processes leave the cores before a measurement (and record how busy they were)."""
        self.settle()
        budget = min(self.args.quiet_wait, self.quiet_budget)
        if budget <= 0:
            return
        waited = procs.wait_quiet(self.cpu, max_seconds=budget)
        self.quiet_budget -= waited["waited_s"]
        self.results["quiet_waits"][label] = waited
        if waited["other_cores"] >= 0.25:
            say(f"{label}: other processes still use {waited['other_cores']:.2f} cores; measuring anyway")

    def settle(self) -> None:
        """Let the worker finish the recomputes that earlier writes asked for, so each measurement starts alike."""
        if not self.outbox_drains:
            return
        from areas.models import DirtyCommune

        def drained():
            return not DirtyCommune.objects.exists()

        try:
            procs.wait_for(drained, seconds=15, what="the outbox to drain", interval=0.2)
        except TimeoutError:
            # Marks no kick will pick up (see docs/performance.md): production's beat sweeps them every minute.
            self.results["stranded_marks_swept"] = self.results.get("stranded_marks_swept", 0) + 1
            say("settle: marks left in the outbox with no recompute queued; sending coverage.sweep as beat would")
            self.send("coverage.sweep")
            procs.wait_for(drained, seconds=300, what="the outbox to drain after a sweep", interval=0.2)

    @contextlib.contextmanager
    def watch(self, label: str):
        """Record the CPU split and wall time of a measured block under results["cpu"][label]."""
        self.quiet(label)
        before, started = self.cpu(), time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.results["cpu"][label] = {"seconds": round(seconds, 2), **procs.cpu_delta(before, self.cpu())}

    # Phases ----------------------------------------------------------------------------------

    def setup(self) -> None:
        say(f"database {urlsplit(self.args.database_url).path.lstrip('/')}, Redis {self.args.redis_url}")
        recreate_database(self.args.database_url)
        flush_redis(self.args.redis_url)
        os.environ.update(self.env)
        import django

        django.setup()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname <> current_database()")
            self.other_databases = {row[0] for row in cursor.fetchall()}
        migrate = self.manage("migrate", "--noinput", "-v", "0")
        areas = self.manage("load_areas")
        self.results["setup"] = {"migrate_s": round(migrate, 2), "load_areas_s": round(areas, 2)}
        say(f"migrated in {migrate:.1f} s, map loaded in {areas:.1f} s")

    def registry(self) -> None:
        """Figure 1: generate and load the demo registry, beside a COPY of the same rows into bare tables."""
        from django.db import connection

        from demo.plan import demo_plan
        from demo.services import demo_generate

        scale, province = ("province", "01") if self.args.quick else ("national", None)
        started = time.perf_counter()
        demo_plan(scale=scale, seed=SEED, province_code=province)
        plan_seconds = time.perf_counter() - started
        say(f"registry: generating the {scale} demo (planning alone took {plan_seconds:.1f} s) ...")
        with self.watch("registry load"):
            started = time.perf_counter()
            summary = demo_generate(scale=scale, seed=SEED, province_code=province)
            seconds = time.perf_counter() - started
        tables = ("areas_hamlet", "teams_team", "members_member")
        with connection.cursor() as cursor:
            counts = {}
            for table in tables:
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
        rows = sum(counts.values())
        say(f"registry: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s); COPY baseline ...")
        with self.watch("registry COPY"):
            copy_runs = [self._copy_baseline(tables) for _ in range(self.args.runs)]
        copy_seconds = median(copy_runs)
        self.results["registry"] = {
            "scale": scale,
            "teams": summary.teams,
            "members": summary.members,
            "hamlets": summary.hamlets,
            "rows": rows,
            "rows_by_table": counts,
            "seconds": round(seconds, 2),
            "plan_seconds": round(plan_seconds, 2),
            "rows_per_second": round(rows / seconds),
            "copy_seconds_runs": [round(s, 3) for s in copy_runs],
            "copy_seconds": round(copy_seconds, 3),
            "copy_rows_per_second": round(rows / copy_seconds),
            "ratio": round(seconds / copy_seconds, 1),
            "runs": 1,
        }
        say(
            f"registry: COPY {copy_seconds:.2f} s ({rows / copy_seconds:,.0f} rows/s), "
            f"ratio {seconds / copy_seconds:.1f}"
        )

    def _copy_baseline(self, tables) -> float:
        """COPY the rows just generated into tables of the same columns, checks and indexes (no FKs), in one commit."""
        from django.db import connection

        connection.ensure_connection()
        raw = connection.connection
        dumps = {}
        with raw.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS bench_bare_{table}")
                cursor.execute(
                    f"CREATE TABLE bench_bare_{table} "
                    f"(LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
                )
                buffer = bytearray()
                with cursor.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                    for chunk in copy:
                        buffer += chunk
                dumps[table] = bytes(buffer)
        started = time.perf_counter()
        with raw.transaction(), raw.cursor() as cursor:
            for table in tables:
                with cursor.copy(f"COPY bench_bare_{table} FROM STDIN (FORMAT binary)") as copy:
                    data = dumps[table]
                    for offset in range(0, len(data), 1 << 20):
                        copy.write(data[offset : offset + (1 << 20)])
        seconds = time.perf_counter() - started
        with raw.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DROP TABLE bench_bare_{table}")
        return seconds

    def activities(self) -> None:
        """Figure 2: load N activities set-based (INSERT ... SELECT generate_series), in committed chunks."""
        from django.db import connection

        n = self.args.activities
        chunk = 500_000
        say(f"activities: loading {n:,} ...")
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_teams AS SELECT row_number() OVER (ORDER BY id) AS n, id, province_id, "
                "commune_id, hamlet_id FROM teams_team WHERE status = 'active'"
            )
            cursor.execute("CREATE UNIQUE INDEX ON bench_teams (n)")
            cursor.execute("SELECT count(*) FROM bench_teams")
            teams = cursor.fetchone()[0]
            cursor.execute("SELECT array_agg(code ORDER BY code) FROM activities_activitytype WHERE active")
            types = cursor.fetchone()[0]
        sql = """
            INSERT INTO activities_activity (
                id, team_id, province_id, commune_id, hamlet_id, type_id, occurred_on, people_helped,
                households_helped, duration_minutes, note, latitude, longitude, recorded_by_id, deleted,
                created_at, updated_at, change_seq
            )
            SELECT gen_random_uuid(), t.id, t.province_id, t.commune_id, t.hamlet_id,
                   (%s::text[])[1 + mod(g, %s)], current_date - mod(g * 7919, 365)::integer, 1 + mod(g, 20)::integer,
                   NULL, 15 + mod(g, 90)::integer, '', NULL, NULL, NULL, mod(g, 100) = 0,
                   now(), now(), pg_current_xact_id()::text::bigint
            FROM generate_series(%s::bigint, %s::bigint) AS g
            JOIN bench_teams AS t ON t.n = 1 + mod(g * 104729, %s)
        """
        with self.watch("activities load"):
            started = time.perf_counter()
            for low in range(0, n, chunk):
                high = min(n, low + chunk) - 1
                with connection.cursor() as cursor:  # autocommit: each chunk is its own transaction
                    cursor.execute(sql, [types, len(types), low, high, teams])
            seconds = time.perf_counter() - started
        say(f"activities: {n:,} in {seconds:.1f} s ({n / seconds:,.0f} rows/s); VACUUM ANALYZE ...")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_teams")
            cursor.execute("VACUUM (ANALYZE)")
        vacuum = time.perf_counter() - started
        self.results["activities_load"] = {
            "activities": n,
            "seconds": round(seconds, 2),
            "rows_per_second": round(n / seconds),
            "method": "INSERT ... SELECT generate_series, 500,000 rows a transaction, into the indexed table",
            "vacuum_analyze_seconds": round(vacuum, 2),
            "runs": 1,
        }

    def recompute(self) -> None:
        """Figure 3: the full recompute in the worker, beside one hand-written SQL query, and the worker's RSS."""
        from django.db import connection
        from django.utils import timezone

        from bench import sql
        from coverage.models import CommuneFigures

        today = timezone.localdate()
        with connection.cursor() as cursor:
            sql.run(cursor, today)  # warm the caches for both sides
        worker_runs, sql_runs, tasks = [], [], []
        for run in range(self.args.runs):
            token = uuid.uuid4().hex
            with self.watch(f"recompute {run + 1}"):
                self.send("bench.recompute_all", token)
                task = self.wait_result(token, seconds=3600, what="the full recompute")
            if task["communes"] is None:
                raise RuntimeError("the full recompute found another recompute holding the lock")
            tasks.append(task)
            worker_runs.append(task["seconds"])
            with self.watch(f"recompute SQL {run + 1}"), connection.cursor() as cursor:
                started = time.perf_counter()
                rows = sql.run(cursor, today)
                sql_runs.append(time.perf_counter() - started)
            say(f"recompute run {run + 1}: worker {worker_runs[-1]:.2f} s, SQL {sql_runs[-1]:.2f} s")
        self.outbox_drains = True
        stored = {row["commune_id"]: row for row in CommuneFigures.objects.values()}
        problems = sql.compare(rows, stored)
        worker_pid = self.processes.pid("worker")
        children = [p for p in procs.tree(worker_pid) if p != worker_pid]
        recompute_s, sql_s = median(worker_runs), median(sql_runs)
        self.results["recompute"] = {
            "communes": tasks[-1]["communes"],
            "seconds_runs": [round(s, 3) for s in worker_runs],
            "seconds": round(recompute_s, 3),
            "sql_seconds_runs": [round(s, 3) for s in sql_runs],
            "sql_seconds": round(sql_s, 3),
            "ratio": round(recompute_s / sql_s, 2),
            "target_ratio": 1.3,
            "met": recompute_s / sql_s <= 1.3,
            "sql_matches_stored_figures": not problems,
            "sql_differences": problems[:20],
            "worker_task_peak_rss_mb": round(max(t["hwm_kb"] for t in tasks) / 1024, 1),
            "worker_task_rss_before_mb": round(tasks[0]["rss_before_kb"] / 1024, 1),
            "worker_peak_rss_mb": round(max(procs.status_kb(p, "VmHWM") for p in [worker_pid, *children]) / 1024, 1),
            "worker_main_rss_mb": round(procs.status_kb(worker_pid, "VmRSS") / 1024, 1),
            "runs": self.args.runs,
        }

    def accounts(self) -> None:
        """The logins the HTTP phases and the freshness writes use: the ministry and one admin per province."""
        from accounts.services import account_upsert
        from areas.models import Province

        account_upsert(
            phone=MINISTRY_PHONE, password=PASSWORD, role="ministry", full_name="Bench", check_password_strength=False
        )
        self.admins = {}
        for index, province in enumerate(Province.objects.current().order_by("code")):
            user, _created = account_upsert(
                phone=f"09001{index:05d}",
                password=PASSWORD,
                role="province_admin",
                province_code=province.code,
                full_name=f"Bench {province.code}",
                check_password_strength=False,
            )
            self.admins[province.pk] = user

    def freshness(self) -> None:
        """Figure 4: commit a write, then time until the national figures show it (a real worker, the real kick)."""
        from django.db import connection
        from django.utils import timezone

        from activities.services import activities_sync
        from areas.models import DirtyCommune
        from members.models import Member, MemberRole
        from members.services import member_leave
        from teams.models import Team

        rng = random.Random(SEED)
        teams = list(Team.objects.filter(status="active").values_list("id", "province_id", "hamlet_id"))
        teams = rng.sample(teams, min(len(teams), 2000))
        members = list(
            Member.objects.filter(active=True, role=MemberRole.MEMBER).values_list("id", "province_id")[:20000]
        )
        members = rng.sample(members, min(len(members), 1000))
        procs.wait_for(lambda: not DirtyCommune.objects.exists(), seconds=120, what="an empty outbox")

        def national():
            with connection.cursor() as cursor:
                cursor.execute("SELECT activities, members_active FROM coverage_nationalfigures WHERE id = 1")
                return cursor.fetchone()

        activities, members_active = national()
        latencies, kinds, missed = [], {"activity": 0, "member_leave": 0}, 0
        self.quiet("freshness")
        cpu_before, watch_started = self.cpu(), time.perf_counter()
        say(f"freshness: {self.args.freshness_writes} writes, each timed from commit to the national figures ...")
        for index in range(self.args.freshness_writes):
            if index % 4 == 3 and members:
                member_id, province_id = members.pop()
                member_leave(actor=self.admins[province_id], member_id=member_id)
                members_active -= 1
                kinds["member_leave"] += 1
            else:
                team_id, province_id, hamlet_id = teams[index % len(teams)]
                values = {
                    "team_id": team_id,
                    "hamlet_id": hamlet_id,
                    "type_id": "vneid",
                    "occurred_on": timezone.localdate(),
                    "people_helped": 1 + index % 7,
                    "households_helped": None,
                    "duration_minutes": 30,
                    "note": "",
                    "latitude": None,
                    "longitude": None,
                    "deleted": False,
                }
                activities_sync(actor=self.admins[province_id], items=[(uuid.uuid4(), values, None)])
                activities += 1
                kinds["activity"] += 1
            committed = time.perf_counter()  # the service's transaction has committed when it returns
            deadline = committed + 30
            while True:
                if national() == (activities, members_active):
                    latencies.append(time.perf_counter() - committed)
                    break
                if time.perf_counter() > deadline:
                    missed += 1
                    latencies.append(time.perf_counter() - committed)
                    activities, members_active = national()
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.05, 0.3))
        self.results["cpu"]["freshness"] = {
            "seconds": round(time.perf_counter() - watch_started, 2),
            **procs.cpu_delta(cpu_before, self.cpu()),
        }
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        self.results["freshness"] = {
            "writes": len(latencies),
            "kinds": kinds,
            "missed_after_30s": missed,
            "p50_s": round(p50, 3),
            "p95_s": round(p95, 3),
            "max_s": round(max(latencies), 3),
            "min_s": round(min(latencies), 3),
            "debounce_s": _setting("COVERAGE_KICK_DEBOUNCE_SECONDS"),
            "target_p95_s": 2.0,
            "met": p95 <= 2.0 and not missed,
        }
        say(f"freshness: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(latencies):.2f} s")

    def _sync_bodies(self, teams: list[tuple[str, int | None]], count: int, rng: random.Random) -> list[bytes]:
        today = dt.date.today()
        bodies = []
        for _ in range(count):
            items = []
            for _i in range(BATCH):
                team_id, hamlet_id = teams[rng.randrange(len(teams))]
                item = {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "team": team_id,
                    "type": "vneid" if rng.random() < 0.5 else "online_public_services",
                    "occurred_on": (today - dt.timedelta(days=rng.randrange(30))).isoformat(),
                    "people_helped": 1 + rng.randrange(20),
                    "note": "Hỗ trợ người dân cài đặt và kích hoạt VNeID mức 2",
                }
                if hamlet_id:
                    item["hamlet"] = hamlet_id
                items.append(item)
            bodies.append(json.dumps({"activities": items}).encode())
        return bodies

    def sync(self) -> None:
        """Figure 5: POST 500-item batches at 1, 8 and 32 clients, to the product and to the bare endpoint."""
        from django.db.models import Count

        from activities.models import ActivityType
        from teams.models import Team

        types = set(ActivityType.objects.values_list("code", flat=True))
        if not {"vneid", "online_public_services"} <= types:
            raise RuntimeError(f"activity types vneid and public_services are expected; found {sorted(types)}")
        top = Team.objects.filter(status="active").values("province_id").annotate(n=Count("id")).order_by("-n").first()
        province_id = top["province_id"]
        admin = self.admins[province_id]
        teams = [
            (str(t), h)
            for t, h in Team.objects.filter(status="active", province_id=province_id).values_list("id", "hamlet_id")
        ]
        rng = random.Random(SEED + 5)
        quick = self.args.quick
        levels = {1: 4, 8: 16, 32: 32} if quick else {1: 20, 8: 80, 32: 160}
        max_seconds = 30 if quick else 150
        say(f"sync: province admin of province id {province_id} ({len(teams):,} teams), batches of {BATCH}")
        out: dict = {"province_teams": len(teams), "levels": {}}
        for concurrency, batches in levels.items():
            runs: dict[str, list] = {"product": [], "bare": []}
            for run in range(self.args.runs):
                token = login(self.web_url, admin.phone, PASSWORD)
                for name, url in (
                    ("product", f"{self.web_url}/api/v1/activities/sync/"),
                    ("bare", f"{self.bare_url}/bare/sync/"),
                ):
                    warm = self._sync_bodies(teams, 2 * 2, rng)
                    load_run("POST", url, concurrency=2, total=len(warm), token=token, bodies=warm)
                    bodies = self._sync_bodies(teams, batches, rng)
                    self.quiet(f"sync {name} {concurrency} run {run + 1}")
                    before = self.cpu()
                    result = load_run(
                        "POST",
                        url,
                        concurrency=concurrency,
                        total=batches,
                        token=token,
                        bodies=bodies,
                        count_items=created_items,
                        max_seconds=max_seconds,
                    )
                    cpu = procs.cpu_delta(before, self.cpu())
                    _check(result, f"sync {name} at {concurrency}")
                    runs[name].append(_summary(result, cpu, items=True))
                    say(
                        f"sync {name:7s} {concurrency:2d} clients run {run + 1}: "
                        f"{result.items_per_second:,.0f} activities/s, p50 {result.percentile(50) * 1000:.0f} ms, "
                        f"p99 {result.percentile(99) * 1000:.0f} ms"
                    )
            product, bare = _median_summary(runs["product"]), _median_summary(runs["bare"])
            ratios = [
                p["items_per_second"] / b["items_per_second"]
                for p, b in zip(runs["product"], runs["bare"], strict=True)
            ]
            out["levels"][str(concurrency)] = {
                "batches": batches,
                "product": product,
                "bare": bare,
                "ratio_to_bare": round(median(ratios), 2),
                "runs": {"product": runs["product"], "bare": runs["bare"]},
            }
        best = max(out["levels"].values(), key=lambda level: level["product"]["items_per_second"])
        out["best_product_items_per_second"] = best["product"]["items_per_second"]
        out["target_items_per_second"] = 20_000
        out["met"] = best["product"]["items_per_second"] >= 20_000
        self.results["sync"] = out

    def reads(self) -> None:
        """Figure 6: the read path at 32 clients (and at 1, for the time one request takes on its own)."""
        token = login(self.web_url, MINISTRY_PHONE, PASSWORD)
        quick = self.args.quick
        endpoints = {
            "coverage_national": (self.web_url, "/api/v1/coverage/national/", 300 if quick else 2000),
            "coverage_provinces": (self.web_url, "/api/v1/coverage/provinces/", 150 if quick else 1000),
            "teams_page": (self.web_url, "/api/v1/teams/", 64 if quick else 320),
            # The floor of the stack: gunicorn, Django's middleware and a DRF view, without auth or a query.
            "floor": (self.bare_url, "/bare/ping/", 300 if quick else 2000),
        }
        max_seconds = 15 if quick else 60
        out = {}
        for name, (base, path, total) in endpoints.items():
            url = base + path
            load_run("GET", url, concurrency=4, total=40, token=token)
            single = load_run(
                "GET", url, concurrency=1, total=max(30, total // 10), token=token, max_seconds=max_seconds
            )
            _check(single, f"{name} at 1 client")
            runs = []
            for run in range(self.args.runs):
                self.quiet(f"read {name} run {run + 1}")
                before = self.cpu()
                result = load_run("GET", url, concurrency=32, total=total, token=token, max_seconds=max_seconds)
                cpu = procs.cpu_delta(before, self.cpu())
                _check(result, f"{name} at 32 clients")
                runs.append(_summary(result, cpu))
            summary = _median_summary(runs)
            out[name] = {
                "path": path,
                "requests": total,
                "at_32": summary,
                "at_1": _summary(single, None),
                "runs": runs,
            }
            say(
                f"read {name}: 32 clients p50 {summary['p50_ms']:.1f} ms p99 {summary['p99_ms']:.1f} ms "
                f"({summary['requests_per_second']:,.0f} req/s); 1 client p50 {out[name]['at_1']['p50_ms']:.1f} ms"
            )
        national = out["coverage_national"]["at_32"]["p99_ms"]
        out["target_national_p99_ms"] = 20
        out["met"] = national <= 20
        self.results["reads"] = out

    # Driver ----------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.perf_counter()
        say(f"cdt bench ({self.results['mode']}); logs in {self.log_dir}")
        m = self.results["machine"]
        say(f"machine: {m['cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB")
        try:
            self.setup()
            self.registry()
            self.activities()
            self.accounts()
            flush_redis(self.args.redis_url)  # the registry load's queued kick: the full recompute covers it
            self.start_worker()
            self.start_servers()
            self.recompute()
            self.freshness()
            self.sync()
            self.reads()
            self.results["postgres"] = _postgres_version()
        finally:
            self.processes.stop_all()
            self._drop()
        self.results["duration_s"] = round(time.perf_counter() - started, 1)
        report.write(self.results, self.args.output)
        print()
        print(report.markdown(self.results))
        say(f"done in {self.results['duration_s']:.0f} s; wrote {self.args.output / 'latest.json'} and latest.md")
        return 0

    def _drop(self) -> None:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:  # Django may not be set up when setup() failed early
            say(f"closing connections: {type(exc).__name__}")
        if not self.args.keep_db:
            recreate_database(self.args.database_url, drop_only=True)


def _setting(name: str):
    from django.conf import settings

    return getattr(settings, name)


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _check(result: LoadResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"{what}: {result.errors} failed requests; first: {result.first_error}")


def _summary(result: LoadResult, cpu: dict | None, *, items: bool = False) -> dict:
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


def _median_summary(runs: list[dict]) -> dict:
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


def main(argv=None) -> int:
    args = parse_args(argv)

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
