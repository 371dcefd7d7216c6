"""The app served as production serves it, for tests that go through real HTTP (the generated client, the browser).

`gunicorn_serving(tmp_path_factory, workers=)` starts gunicorn on a free port of 127.0.0.1, on the pytest test
database (not the one in DATABASE_URL) and the suite's Redis, waits until /health/ answers 200, and always stops
it. Use it from a fixture that depends on `django_db_setup`, so that the server stops before the test database
is dropped. Static files (Swagger UI from drf-spectacular-sidecar) come through whitenoise, as in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from tests.worker import free_port, worker_database_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)


def served_env() -> dict[str, str]:
    """The server's environment: the test database and this run's Redis."""
    # pytest-django creates the test database only when a collected test is marked django_db: without one,
    # the server would open DATABASE_URL's own database.
    assert connection.settings_dict["NAME"].startswith("test_"), (
        "No test database: run these tests with one marked django_db (pytest-django sets up only what tests ask for)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_BROKER")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=settings.REDIS_URL,
        REDIS_CACHE_URL=settings.REDIS_CACHE_URL,
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS=",".join({*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"}),
        SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
        # No connection kept between requests: the rest of the suite meets no idle session of ours.
        DB_CONN_MAX_AGE="0",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert server.process.poll() is None, f"gunicorn exited ({server.process.returncode}):\n{server.log()[-4000:]}"
        try:
            if httpx.get(f"{server.url}/health/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"gunicorn did not answer within {START_TIMEOUT} s:\n{server.log()[-4000:]}"
        time.sleep(0.1)


@contextmanager
def gunicorn_serving(tmp_path_factory, *, workers: int = 1) -> Iterator[Server]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--access-logfile",
        "-",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=served_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    running = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_up(running)
        yield running
    finally:
        running.stop()
