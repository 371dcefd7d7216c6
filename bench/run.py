"""The benchmark driver: `python -m bench.run [--quick]` (`make bench`, `make bench-quick`).

It creates its own PostgreSQL database and uses its own Redis database, starts gunicorn (the product and
the bare endpoint, 2 workers each) and a Celery worker, measures the figures of docs/performance.md,
prints a table and writes bench/results/latest.json and latest.md. Whatever happens, it stops what it
started and drops its database (unless --keep-db).
"""

from __future__ import annotations

import signal
import sys
import time

from bench import report
from bench.common import flush_redis, parse_args, postgres_settings, postgres_version, recreate_database, say
from bench.harness import Harness
from bench.scenarios_api import ApiScenarios
from bench.scenarios_data import DataScenarios
from bench.scenarios_web import WebScenarios


class Bench(Harness, DataScenarios, ApiScenarios, WebScenarios):
    """One bench run: the harness starts and measures, the scenarios hold the figures, run() orders them."""

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
            self.vacuum_after("the sync")
            self.reads()
            self.pages()
            self.results["postgres"] = postgres_version()
            self.results["postgres_settings"] = postgres_settings()
            if self.cluster:
                self.with_recommended_settings()
        finally:
            self.processes.stop_all()
            self._drop()
            if self.cluster:
                self.cluster.stop()
        self.results["duration_s"] = round(time.perf_counter() - started, 1)
        report.write(self.results, self.args.output)
        print()
        print(report.markdown(self.results))
        say(f"done in {self.results['duration_s']:.0f} s; wrote {self.args.output / 'latest.json'} and latest.md")
        return 0

    def with_recommended_settings(self) -> None:
        """--compare-settings: restart the private cluster with compose.yaml's settings and measure again.

        The same data, the same processes' code, minutes apart. The second pass's table holds the first pass's
        sync batches too (about a fifth more rows at 2 M), which works against the recommended settings.
        """
        from django.db import connections

        from bench.cluster import recommended_settings

        first = {key: self.results[key] for key in ("recompute", "sync", "reads", "cpu", "quiet_waits")}
        self.results["cpu"], self.results["quiet_waits"] = {}, {}
        for name in ("web", "bare", "worker"):
            self.processes.stop(name)
        connections.close_all()
        settings = recommended_settings()
        self.cluster.start(settings)
        self.measure_pass += 1
        self.start_worker()
        self.start_servers()
        self.recompute()
        self.sync()
        self.vacuum_after("the sync")
        self.reads()
        second = {key: self.results[key] for key in first}
        second["postgres_settings"] = postgres_settings()
        second["settings_given"] = settings
        self.results.update(first)
        self.results["recommended_settings"] = second

    def _drop(self) -> None:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:  # Django may not be set up when setup() failed early
            say(f"closing connections: {type(exc).__name__}")
        if not self.args.keep_db:
            recreate_database(self.args.database_url, drop_only=True)


def main(argv=None) -> int:
    args = parse_args(argv)

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
