"""A pytest plugin for the suite run by pytest-xdist (make test: `python -m pytest -p tests.parallel -n 2`).

pytest-django gives each xdist worker its own test database (test_cdt_gw0, test_cdt_gw1, …); this gives it its own
Redis databases too, so that one worker's flush, cache or Celery queue is never another's. gw0 keeps the
databases of REDIS_URL and REDIS_CACHE_URL; gwN takes the ones 2 × N below them.

It runs when the plugin is imported: in a worker, after xdist has set PYTEST_XDIST_WORKER and before
pytest-django reads the settings (which read these variables once).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def _shifted(url: str, by: int) -> str:
    parts = urlsplit(url)
    db = int(parts.path.lstrip("/") or 0) - by
    if db < 0:
        raise RuntimeError(f"too many xdist workers for the Redis databases below {url}")
    return urlunsplit(parts._replace(path=f"/{db}"))


def _own_redis_databases() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    by = 2 * int(worker.removeprefix("gw"))
    for name in ("REDIS_URL", "REDIS_CACHE_URL"):
        if os.environ.get(name, "").startswith("redis"):
            os.environ[name] = _shifted(os.environ[name], by)


_own_redis_databases()
