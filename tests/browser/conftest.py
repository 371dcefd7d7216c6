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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.served import ROOT, Server, gunicorn_serving

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[Server]:
    """gunicorn serving config.wsgi on the test database (tests.served)."""
    with gunicorn_serving(tmp_path_factory, workers=1) as running:
        yield running


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
