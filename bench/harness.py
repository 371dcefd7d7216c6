"""The benchmark's processes and measurement plumbing: gunicorn, the Celery worker, CPU accounting, quiet waits."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from bench import procs
from bench.common import BATCH, BIN, ROOT, bench_env, flush_redis, recreate_database, say


class Harness:
    """Starts and watches what the bench runs; the phases (bench.scenarios_*) measure through it."""

    def __init__(self, args):
        self.args = args
        self.cluster = None
        self.measure_pass = 0  # --compare-settings measures twice
        if args.compare_settings:
            from bench.cluster import PrivateCluster

            self.cluster = PrivateCluster()
            args.database_url = self.cluster.url
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
                "client_ids": args.client_ids,
                "postgres_cluster": "private, defaults then recommended" if args.compare_settings else "the machine's",
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
        if self.cluster:
            self.cluster.create()
            self.cluster.start({})  # PostgreSQL's defaults (initdb's postgresql.conf)
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
