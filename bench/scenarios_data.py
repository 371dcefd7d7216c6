"""The data-side figures: the registry and activity loads, the full recompute beside hand-written SQL, accounts."""

from __future__ import annotations

import time
import uuid

from bench import procs
from bench.common import MINISTRY_PHONE, PASSWORD, SEED, median, say


class DataScenarios:
    """Figures measured in-process against the bench database (mixed into bench.run.Bench)."""

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
        with connection.cursor() as cursor:  # what history costs on disk, per index (docs/scaling.md)
            cursor.execute(
                "SELECT pg_relation_size('activities_activity'), "
                "json_object_agg(i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)) "
                "FROM pg_index AS i WHERE i.indrelid = 'activities_activity'::regclass"
            )
            heap, indexes = cursor.fetchone()
        self.results["activities_load"] = {
            "heap_bytes": heap,
            "index_bytes": indexes,
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

        from areas import maps
        from areas.models import Commune
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
        # Every commune of both maps: the yardstick computes both, as the recompute does.
        on_maps = Commune.objects.current(today).values("id")
        on_maps = on_maps.union(Commune.objects.current(maps.OLD.day()).values("id"))
        stored = {row["commune_id"]: row for row in CommuneFigures.objects.filter(commune_id__in=on_maps).values()}
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
                province=province,
                full_name=f"Bench {province.code}",
                check_password_strength=False,
            )
            self.admins[province.pk] = user

    def _maintenance(self, statement: str, key: str, when: str, phase: str) -> None:
        """Run one maintenance statement between phases, untimed; record its seconds under results[key]."""
        from django.db import connection

        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement)
        seconds = round(time.perf_counter() - started, 1)
        self.results.setdefault(key, {})[f"{phase} (pass {self.measure_pass})"] = seconds
        say(f"{statement} {when} {phase}: {seconds} s (untimed)")

    def checkpoint(self, phase: str) -> None:
        """CHECKPOINT, untimed, so that a phase does not pay for the earlier phases' writes.

        The load and its VACUUM leave gigabytes of dirty pages at 10 M; the sync's first runs should not be
        the ones that wait for the checkpointer to write them out.
        """
        self._maintenance("CHECKPOINT", "checkpoints", "before", phase)

    def vacuum_after(self, phase: str) -> None:
        """VACUUM (ANALYZE) the database, untimed, as autovacuum would have done by the next phase.

        A write phase leaves dead rows behind: the coverage outbox (a row per commune a write marks, deleted by
        the recompute) held 137,000 after the sync at 2 M, and a read of the freshness validator scanned them
        all. Production runs autovacuum; this machine's PostgreSQL may not (the settings table records it).
        """
        self._maintenance("VACUUM (ANALYZE)", "vacuums", "after", phase)
