"""A real streaming replica of the test's PostgreSQL, built for the replica tests: a second cluster on this machine,
made with pg_basebackup from the running primary and started as a hot standby on a free port.

The primary must accept replication connections from 127.0.0.1; if its pg_hba.conf has no such line, one is
added (`host replication all 127.0.0.1/32 trust`, as the trust lines already there) and the configuration
reloaded. The cluster runs as the `postgres` user (PostgreSQL refuses root); everything lives in one temporary
directory that stop() removes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

HBA_LINE = "host replication all 127.0.0.1/32 trust"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Replica:
    def __init__(self, *, host: str, port: int, user: str):
        self.primary = {"host": host, "port": port, "user": user, "dbname": "postgres", "autocommit": True}
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cdt-replica-"))
        self.data = self.root / "data"
        self.bin = Path()

    def primary_sql(self, sql: str, params=()):
        with psycopg.connect(**self.primary) as conn:
            return conn.execute(sql, params).fetchall()

    def sql(self, sql: str, params=()):
        replica = {"host": "127.0.0.1", "port": self.port, "user": "postgres", "dbname": "postgres"}
        with psycopg.connect(**replica, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def start(self) -> Replica:
        major = int(self.primary_sql("SHOW server_version_num")[0][0]) // 10000
        self.bin = Path(f"/usr/lib/postgresql/{major}/bin")
        self._allow_replication()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_basebackup"),
                    f"--host={self.primary['host']}",
                    f"--port={self.primary['port']}",
                    f"--username={self.primary['user']}",
                    f"--pgdata={self.data}",
                    "--wal-method=stream",
                    "--write-recovery-conf",
                    "--checkpoint=fast",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # Debian keeps the configuration outside the data directory: the copy gets its own, minimal.
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (self.data / "pg_ident.conf").write_text("")
        # A hot standby needs at least the primary's value of each of these.
        at_least = self.primary_sql(
            "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes', "
            "'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')"
        )
        (self.data / "postgresql.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
            "hot_standby = on\nshared_buffers = 32MB\nfsync = off\n"
            + "".join(f"{name} = {value}\n" for name, value in at_least)
        )
        if os.geteuid() == 0:
            for path in ("pg_hba.conf", "pg_ident.conf", "postgresql.conf"):
                shutil.chown(self.data / path, "postgres", "postgres")
        log = self.root / "log"
        started = subprocess.run(
            _as_postgres([str(self.bin / "pg_ctl"), "--pgdata", str(self.data), "--log", str(log), "-w", "start"]),
            capture_output=True,
            text=True,
        )
        if started.returncode:
            detail = log.read_text() if log.exists() else ""
            raise RuntimeError(f"the replica did not start: {started.stderr}\n{detail}")
        return self

    def _allow_replication(self) -> None:
        rules = self.primary_sql(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) "
            "AND (address IS NULL OR address = '127.0.0.1') AND auth_method = 'trust'"
        )
        if rules[0][0]:
            return
        hba = Path(self.primary_sql("SHOW hba_file")[0][0])
        hba.write_text(hba.read_text().rstrip("\n") + f"\n{HBA_LINE}\n")
        self.primary_sql("SELECT pg_reload_conf()")

    def wait_replayed(self, seconds: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.primary_sql("SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + seconds
        while not self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay up to {target} in {seconds} s")
            time.sleep(0.05)

    def pause(self) -> None:
        self.sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([str(self.bin / "pg_ctl"), "--pgdata", str(self.data), "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)
