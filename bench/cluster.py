"""A private PostgreSQL cluster for `--compare-settings`: the bench's own server, so that it may restart it.

The machine's cluster is shared (tests, other sessions), so the bench does not change its settings. Instead it
builds a throwaway cluster with initdb in a temporary directory, on a free port, starts it with PostgreSQL's
defaults, and later restarts it with the settings that compose.yaml recommends (read from compose.yaml itself,
so the two cannot drift). Like the replica tests' cluster, it runs as the `postgres` user when the bench runs as
root (PostgreSQL refuses root), and stop() removes it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from bench.common import ROOT, say
from bench.procs import free_port

# ${NAME:-default} in compose.yaml: the bench takes the default, as `docker compose` would with NAME unset.
_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")


def recommended_settings(compose: Path = ROOT / "compose.yaml") -> dict[str, str]:
    """The `-c name=value` pairs of the postgres service's command in compose.yaml, variables at their defaults."""
    command = yaml.safe_load(compose.read_text())["services"]["postgres"]["command"]
    settings = {}
    for flag, pair in zip(command[1::2], command[2::2], strict=True):
        if flag != "-c":
            raise ValueError(f"compose.yaml: expected -c before {pair!r}, found {flag!r}")
        name, value = _VARIABLE.sub(r"\1", pair).split("=", 1)
        settings[name] = value
    return settings


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivateCluster:
    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cdt-bench-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.bin = self._bin()
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/cdt_bench"

    @staticmethod
    def _bin() -> Path:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        if not versions:
            raise RuntimeError("--compare-settings needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
        return versions[-1].parent

    def _run(self, *command: str) -> None:
        subprocess.run(_as_postgres([str(self.bin / command[0]), *command[1:]]), check=True, capture_output=True)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        say(f"private PostgreSQL cluster in {self.data}, port {self.port}")

    def start(self, settings: dict[str, str]) -> None:
        """Start (or restart) the server with these settings on top of initdb's defaults, given on its command line."""
        if self.running:
            self._run("pg_ctl", f"--pgdata={self.data}", "--mode=fast", "--wait", "stop")
            self.running = False
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.root}"]
        options += [f"-c {name}={value}" for name, value in settings.items()]
        self._run(
            "pg_ctl", f"--pgdata={self.data}", f"--log={self.log}", "--wait", "--options", " ".join(options), "start"
        )
        self.running = True
        say("private cluster started with " + (", ".join(f"{k}={v}" for k, v in settings.items()) or "the defaults"))

    def stop(self) -> None:
        if self.running:
            try:
                self._run("pg_ctl", f"--pgdata={self.data}", "--mode=immediate", "--wait", "stop")
            finally:
                self.running = False
        shutil.rmtree(self.root, ignore_errors=True)
