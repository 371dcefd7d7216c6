"""Pages in a real browser: gunicorn serving the app as production does, and Debian's chromium driven by Playwright.

- `server` (module): gunicorn (1 worker) on a free port of 127.0.0.1, on the pytest test database and the suite's
  Redis; static files (Swagger UI from drf-spectacular-sidecar) come through whitenoise, as in production.
- `browser` (module): Playwright's sync API on /usr/bin/chromium (CHROMIUM to override), headless. Playwright never
  downloads a browser here. `--no-sandbox` because CI runs as root, where chromium's sandbox refuses to start.
- `page`: a fresh page whose every request and answer is recorded (`page.recorded`); a request for any host other
  than the server's is aborted, never sent, so a page that needs the internet fails instead of fetching it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings

from tests.worker import free_port, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
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


def _served_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=settings.REDIS_URL,
        REDIS_CACHE_URL=settings.REDIS_CACHE_URL,
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
        DB_CONN_MAX_AGE="0",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[Server]:
    """gunicorn serving config.wsgi; it depends on django_db_setup, so it stops before the test database goes."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_served_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    running = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"gunicorn exited ({process.returncode}):\n{running.log()[-4000:]}"
            try:
                if httpx.get(f"{running.url}/api/schema/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (
                f"gunicorn did not answer in {START_TIMEOUT} s:\n{running.log()[-4000:]}"
            )
            time.sleep(0.1)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"No chromium at {CHROMIUM} (CI installs Debian's chromium; set CHROMIUM to another binary)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Recorded:
    """What a page asked for: every URL, and those it was refused because they left the machine."""

    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    recorded = Recorded()

    def route(route):
        url = route.request.url
        recorded.requests.append(url)
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOCAL_HOSTS:
            recorded.external.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    page.route("**/*", route)
    page.on("requestfailed", lambda request: recorded.failed.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda response: recorded.responses.append((response.status, response.url)))
    page.on("console", lambda message: message.type == "error" and recorded.console_errors.append(message.text))
    page.recorded = recorded
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
