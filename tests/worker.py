"""A real Celery worker process for tests, against the test database and a Redis; always stopped on exit.

Use `celery_worker()` as a context manager inside a `django_db(transaction=True)` test (the worker
only sees committed rows), or the `worker` fixture. `private_redis()` runs a throwaway redis-server
that a test may stop and restart, and `celery_broker()` points this process's Celery app at it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.env import redis_cache_url

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def worker_database_url() -> str:
    """The URL of the database this test process uses (the test database, not the one in DATABASE_URL)."""
    conf = connection.settings_dict
    credentials = quote(conf["USER"] or "", safe="")
    if conf.get("PASSWORD"):
        credentials += ":" + quote(conf["PASSWORD"], safe="")
    host = conf.get("HOST") or "127.0.0.1"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    at = f"{credentials}@" if credentials else ""
    return f"postgres://{at}{host}{port}/{quote(conf['NAME'], safe='')}"


def purge(redis_url: str) -> None:
    """Empty the Redis database: leftover task messages from other tests must not run in our worker."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@dataclass
class Worker:
    """A running `celery worker` subprocess and its combined output."""

    process: subprocess.Popen
    log_path: Path
    hostname: str
    stopped: bool = field(default=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no rollback from the worker's side (like an OOM kill)."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        self.stopped = True

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm shutdown (SIGTERM); SIGKILL if it is not gone within the timeout."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=timeout)
        self.stopped = True

    def wait_for_log(self, text: str, *, after: int = 0, timeout: float = READY_TIMEOUT) -> int:
        """Wait until `text` appears in the output past offset `after`; return the offset just after it."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.log()
            found = output.find(text, after)
            if found >= 0:
                return found + len(text)
            if not self.alive():
                raise AssertionError(f"worker exited ({self.process.returncode}) before {text!r}:\n{output[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from the worker within {timeout} s:\n{output[-4000:]}")
            time.sleep(0.05)


def _worker_env(redis_url: str, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_BROKER")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=redis_url,
        # The cache follows the broker: a worker on a private Redis uses that server for both.
        REDIS_CACHE_URL=settings.REDIS_CACHE_URL if redis_url == settings.REDIS_URL else redis_cache_url(redis_url),
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS=",".join(settings.ALLOWED_HOSTS),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@contextmanager
def celery_worker(
    *,
    redis_url: str | None = None,
    env: dict[str, str] | None = None,
    purge_first: bool = True,
    log_dir: Path | None = None,
) -> Iterator[Worker]:
    """Start `celery -A config worker` (solo pool) on the test database, wait until it is ready, stop it on exit."""
    redis_url = redis_url or settings.REDIS_URL
    assert redis_url, "a real worker needs REDIS_URL"
    if purge_first:
        purge(redis_url)
    hostname = f"test-{uuid.uuid4().hex[:8]}@%h"
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="cdt-worker-"))
    log_path = log_dir / f"{hostname.split('@')[0]}.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--concurrency",
        "1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
        "-n",
        hostname,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=_worker_env(redis_url, env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    worker = Worker(process=process, log_path=log_path, hostname=hostname)
    try:
        worker.wait_for_log(" ready.")
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[Worker]:
    """A real worker on the test database and the suite's Redis, stopped before the database is flushed."""
    with celery_worker(log_dir=tmp_path) as running:
        yield running


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateRedis:
    """A redis-server only this test uses, so that stopping it never disturbs the rest of the suite."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1, retry=None)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                assert self.process.poll() is None, f"redis-server on port {self.port} exited"
                assert time.monotonic() < deadline, f"redis-server on port {self.port} did not answer"
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _reset_broker_pools(app) -> None:
    """Drop the app's cached broker connections, so the next send_task connects to the current broker_url."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (config.celery.app) at another broker; restore it on exit."""
    from config.celery import app

    original = app.conf.broker_url
    _reset_broker_pools(app)
    app.conf.broker_url = url
    try:
        yield
    finally:
        app.conf.broker_url = original
        _reset_broker_pools(app)
