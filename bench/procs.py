"""The processes a bench run starts (gunicorn, the Celery worker), their CPU time, and the machine's description."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Child processes, each in its own session so that it and its children stop together; stop_all() ends them."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = os.open(self.log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(log)  # the child keeps its own copy
        self.started[name] = proc
        return proc

    def pid(self, name: str) -> int:
        return self.started[name].pid

    def check_alive(self) -> None:
        for name, proc in self.started.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}")

    def stop(self, name: str) -> None:
        proc = self.started.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        # A worker's children may outlive the session leader for a moment: end what is left of the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.started):
            self.stop(name)


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, comm, utime + stime in ticks) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), comm, int(fields[11]) + int(fields[12])


def _all_processes() -> dict[int, tuple[int, str, int]]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    return table


def tree(root: int, table: dict[int, tuple[int, str, int]] | None = None) -> list[int]:
    """A process and all its descendants."""
    table = table if table is not None else _all_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _comm, _ticks) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(pid)
            todo += children.get(pid, [])
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return []


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cpu_seconds(roots: dict[str, int], *, database: str, other_databases: set[str]) -> dict:
    """A reading: the CPU ticks of every process so far, each with the part of the bench it belongs to.

    The parts are the named process trees, this process (the load client), PostgreSQL (its shared
    processes and the backends of the bench's database) and Redis; backends of other databases and all
    other processes (someone else's tests on the same machine) are "other".
    """
    table = _all_processes()
    part_of: dict[int, str] = {}
    for name, root in roots.items():
        for pid in tree(root, table):
            part_of[pid] = name
    part_of[os.getpid()] = "load client"
    for pid, (_ppid, comm, _ticks) in table.items():
        if pid in part_of:
            continue
        if comm.startswith("postgres"):
            words = set(_cmdline(pid))
            mine = database in words or not words & other_databases
            part_of[pid] = "postgres" if mine else "other"
        elif comm.startswith("redis"):
            part_of[pid] = "redis"
        else:
            part_of[pid] = "other"
    return {
        "ticks": {pid: (part_of[pid], stat[2]) for pid, stat in table.items()},
        "parts": [*roots, "load client", "postgres", "redis", "other"],
        "machine": _machine_busy(),
    }


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per part between two readings.

    A process counts from its first reading (or from its start); "unattributed" is the busy time of
    processes that ended between the readings (a worker's short-lived database sessions, for example)
    and of the kernel.
    """
    delta = dict.fromkeys(after["parts"], 0.0)
    for pid, (part, ticks) in after["ticks"].items():
        previous = before["ticks"].get(pid)
        delta[part] += (ticks - (previous[1] if previous else 0)) / CLOCK_TICKS
    delta["unattributed"] = max(0.0, after["machine"] - before["machine"] - sum(delta.values()))
    return {name: round(value, 2) for name, value in delta.items()}


def other_load(seconds: float, sample) -> float:
    """Cores busy with processes outside the bench, over `seconds`."""
    before = sample()
    time.sleep(seconds)
    return cpu_delta(before, sample())["other"] / seconds


def wait_quiet(sample, *, max_seconds: float, threshold: float = 0.25) -> dict:
    """Wait (up to max_seconds) until processes outside the bench use less than `threshold` cores for 3 s."""
    started = time.monotonic()
    quiet = 0
    load = 0.0
    while time.monotonic() - started < max_seconds:
        load = other_load(1.0, sample)
        quiet = quiet + 1 if load < threshold else 0
        if quiet >= 3:
            break
    return {"waited_s": round(time.monotonic() - started, 1), "other_cores": round(load, 2)}


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def wait_for(check, *, seconds: float, what: str, interval: float = 0.1):
    """Call check() until it returns something truthy; raise after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)


def machine() -> dict:
    """Cores, memory and versions, printed with every result."""
    meminfo = {
        line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line
    }
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(meminfo.get("MemTotal", 0) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
