"""Swagger UI (/api/docs/) in headless chromium: the operations grouped by domain, every asset served by us.

The page is what a developer of the mobile app opens first. It must group the operations under the schema's tags
(config.schema.TAG_DESCRIPTIONS), never one "api" heading, and load with no network beyond our server: the
Swagger UI files come from drf-spectacular-sidecar through whitenoise (SWAGGER_UI_DIST = "SIDECAR"), and any
request for another host is aborted and recorded by the `page` fixture. The full-page screenshot is saved to
var/screenshots/swagger-ui.png (before the assertions, so a failing run leaves one too) for a person to look at.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

TAGS = ["accounts", "areas", "teams", "members", "imports", "activities", "coverage", "audit", "health"]
SIDECAR_FILES = {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"}
RENDER_TIMEOUT_MS = 30_000


def test_swagger_ui_groups_operations_by_domain_from_local_assets(server, page, screenshots):
    schema = httpx.get(f"{server.url}/api/schema/?format=json", timeout=30).json()
    operations = Counter(
        (operation.get("tags") or ["default"])[0]
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    )
    recorded = page.recorded

    answer = page.goto(f"{server.url}/api/docs/", wait_until="networkidle")
    assert answer is not None and answer.status == 200
    try:
        page.wait_for_selector(".info .title", timeout=RENDER_TIMEOUT_MS)
        page.wait_for_selector("h3.opblock-tag", timeout=RENDER_TIMEOUT_MS)
    except PlaywrightTimeout:
        raise AssertionError(
            f"Swagger UI did not render; refused external requests: {recorded.external}; "
            f"failed: {recorded.failed}; console errors: {recorded.console_errors}"
        ) from None
    shot = screenshots / "swagger-ui.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # One heading per domain, in the schema's order; no catch-all "api" (or "default") heading.
    headings = page.eval_on_selector_all("h3.opblock-tag", "nodes => nodes.map(n => n.dataset.tag)")
    assert headings == TAGS, headings
    assert [tag["name"] for tag in schema.get("tags", [])] == TAGS
    # Every operation is rendered under its own tag's heading: the count per section is the schema's.
    rendered = {
        tag: page.locator(f'.opblock-tag-section:has(h3.opblock-tag[data-tag="{tag}"]) .opblock').count()
        for tag in TAGS
    }
    assert rendered == dict(operations), rendered
    assert page.locator(".opblock").count() == sum(operations.values())
    assert "Tổ Công nghệ số cộng đồng API" in page.inner_text(".info .title")

    # Nothing left the machine, and the Swagger UI files came from the sidecar's static files with a 200.
    assert recorded.external == [], f"requests that would leave the machine: {recorded.external}"
    assert all(urlsplit(url).hostname in ("127.0.0.1", "localhost") for url in recorded.requests if "://" in url)
    sidecar = {
        urlsplit(url).path.rsplit("/", 1)[-1]: status
        for status, url in recorded.responses
        if "/static/drf_spectacular_sidecar/swagger-ui-dist/" in url
    }
    assert {name: sidecar.get(name) for name in SIDECAR_FILES} == dict.fromkeys(SIDECAR_FILES, 200), sidecar
    assert [(status, url) for status, url in recorded.responses if status >= 400] == []
    assert recorded.failed == []
    assert recorded.console_errors == []
