"""The product's Celery app plus one bench task, so that the full recompute runs (and is measured) inside a worker.

Start it as `celery -A bench.worker worker`; the product's tasks are registered as usual.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from config.celery import app

RESULT_KEY = "bench:result:{token}"


def vm_kb(field: str, pid: int | str = "self") -> int:
    """A field of /proc/<pid>/status in kB (VmHWM: peak resident set; VmRSS: resident set now)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _reset_peak() -> None:
    """Reset this process's VmHWM to its current RSS (Linux clear_refs 5), so the next peak is the task's own."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return


@app.task(name="bench.ping", ignore_result=True)
def ping(token: str) -> None:
    """Tell the driver that a worker process is up and takes tasks."""
    cache.set(RESULT_KEY.format(token=token), {"ok": True}, timeout=600)


@app.task(name="bench.recompute_all", ignore_result=True, acks_late=True)
def recompute_all(token: str) -> None:
    """Run the full recompute (what `manage.py recompute_coverage` runs) and report its time and this process's RSS."""
    from coverage.services import recompute_all as full_recompute

    rss_before = vm_kb("VmRSS")
    lifetime_hwm = vm_kb("VmHWM")
    _reset_peak()
    started = time.perf_counter()
    result = full_recompute()
    seconds = time.perf_counter() - started
    cache.set(
        RESULT_KEY.format(token=token),
        {
            "seconds": seconds,
            "communes": result.communes if result else None,
            "provinces": result.provinces if result else None,
            "rss_before_kb": rss_before,
            "rss_after_kb": vm_kb("VmRSS"),
            "hwm_kb": vm_kb("VmHWM"),
            "lifetime_hwm_before_kb": lifetime_hwm,
        },
        timeout=3600,
    )
