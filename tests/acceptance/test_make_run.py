"""The README's run command on a fresh copy, as its users meet it: embedded default (SQLite, tasks in-process,
no Redis), demo data, a login for every role (the team leader's too), the URLs of the port it serves, and
coverage figures for every demo login that are there, true, and fresh after a write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.worker import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-cdt-2025"
MINISTRY, HANOI_ADMIN, COMMUNE_OFFICER = "0900000001", "0900000002", "0900000003"
# A login as seed_demo prints it: role, phone, password, then the scope.
LOGIN_LINE = re.compile(r"^\s+(ministry|province_admin|commune_officer|team_leader)\s+(\d{10})\s+(\S+)\s+(.+)$", re.M)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The test's own service settings must not reach the embedded run.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_CACHE_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`make run` in a copy of the project (its own var/), serving until the module's tests are done."""
    copy = tmp_path_factory.mktemp("run") / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", ".pytest_cache"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    port = free_port()
    env = embedded_env()
    log_path = copy / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, log_path.read_text()[-4000:]
            try:
                if httpx.get(f"{base}/health/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.5)
        yield base, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def embedded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES and not k.startswith("MAKE")}


class Session:
    """A demo login's API session."""

    def __init__(self, base: str, phone: str, password: str = PASSWORD):
        token = httpx.post(f"{base}/api/v1/auth/token/", json={"phone": phone, "password": password}, timeout=10)
        assert token.status_code == 200, token.text
        self.client = httpx.Client(
            base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token.json()['access']}"}, timeout=30
        )

    def get(self, path: str, **params) -> dict:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, (response.request.url, response.status_code, response.text[:2000])
        return response.json()

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.client.post(path, json=body)


login = Session


def test_every_demo_login_reads_non_empty_true_coverage_and_make_run_printed_it(served):
    base, log_path = served
    nation = login(base, MINISTRY).get("/coverage/national/")
    assert (nation["provinces_total"], nation["communes_total"]) == (34, 3321)
    assert nation["teams_active"] > 0 and nation["members_active"] > 0 and nation["communes_covered"] > 0
    assert nation["stale"] is False and nation["computed_at"]

    printed = log_path.read_text()
    assert "Độ phủ toàn quốc" in printed, printed[-3000:]
    shown = re.search(r"xã có Tổ (\d+)/(\d+); thôn, tổ dân phố có Tổ (\d+)/(\d+)", printed)
    assert shown, printed[-3000:]
    assert [int(n) for n in shown.groups()] == [
        nation["communes_covered"],
        nation["communes_total"],
        nation["hamlets_covered"],
        nation["hamlets_total"],
    ]
    assert f"{nation['teams_active']} Tổ, {nation['members_active']} thành viên" in printed

    hanoi = login(base, HANOI_ADMIN).get("/coverage/provinces/01/")
    assert hanoi["teams_active"] == nation["teams_active"]  # the demo's teams are all in Hà Nội
    assert hanoi["communes_total"] == 126 and hanoi["communes_covered"] == nation["communes_covered"]
    communes = login(base, HANOI_ADMIN).get("/coverage/provinces/01/communes/", page_size=500)
    assert communes["count"] == hanoi["communes_total"]
    assert sum(c["teams_active"] for c in communes["results"]) == hanoi["teams_active"]

    officer = login(base, COMMUNE_OFFICER)
    ward = officer.get("/coverage/communes/00226/")
    assert ward["teams_active"] > 0 and ward["hamlets"], ward
    assert ward["hamlets_covered"] == sum(h["covered"] for h in ward["hamlets"])


def test_a_write_is_in_the_next_read_with_no_worker(served):
    base, _ = served
    officer = login(base, COMMUNE_OFFICER)
    before = officer.get("/coverage/communes/00226/")
    uncovered = [h for h in before["hamlets"] if not h["covered"]]
    assert uncovered, "the demo leaves some hamlets of 00226 without a team"
    created = officer.post(
        "/teams/",
        {
            "commune": "00226",
            "hamlet": uncovered[0]["id"],
            "name": "Tổ thử nghiệm",
            "established_on": "2025-09-01",
        },
    )
    assert created.status_code == 201, created.text
    after = officer.get("/coverage/communes/00226/")
    assert (after["teams_active"], after["hamlets_covered"]) == (
        before["teams_active"] + 1,
        before["hamlets_covered"] + 1,
    )
    assert after["stale"] is False
    nation = login(base, MINISTRY).get("/coverage/national/")
    assert nation["stale"] is False
    hanoi = login(base, HANOI_ADMIN).get("/coverage/provinces/01/")
    assert hanoi["teams_active"] == nation["teams_active"]


def test_make_run_prints_the_urls_of_the_port_it_serves(served):
    base, log_path = served
    printed = log_path.read_text()
    for label, path in (
        ("Dashboard:", "/"),
        ("API:", "/api/v1/"),
        ("API docs:", "/api/docs/"),
        ("Schema:", "/api/schema/"),
    ):
        assert re.search(rf"^{label}\s+{re.escape(base + path)}$", printed, re.M), printed[-3000:]
    assert ":8000" not in printed
    assert httpx.get(f"{base}/api/docs/", timeout=10).status_code == 200
    assert "/login/" in str(httpx.get(f"{base}/", timeout=10, follow_redirects=True).url)
    assert httpx.get(f"{base}/api/schema/", timeout=30).status_code == 200


def test_the_printed_team_leader_login_leads_a_team_the_commune_coverage_counts(served):
    base, log_path = served
    logins = {
        role: (phone, password, scope) for role, phone, password, scope in LOGIN_LINE.findall(log_path.read_text())
    }
    assert set(logins) == {"ministry", "province_admin", "commune_officer", "team_leader"}
    phone, password, scope = logins["team_leader"]

    leader = login(base, phone, password)
    me = leader.get("/me/")
    team_id = UUID.search(scope).group()
    assert (me["role"], me["team"], me["commune"]) == ("team_leader", team_id, "00226")
    team = leader.get(f"/teams/{team_id}/")
    assert team["status"] == "active" and team["hamlet"] and team["member_count"] >= 4
    members = leader.get(f"/teams/{team_id}/members/")
    assert members["count"] == team["member_count"]
    leaders = [m for m in members["results"] if m["role"] == "leader"]
    assert [m["phone"] for m in leaders] == [phone] and leaders[0]["has_login"]
    logged = leader.get("/activities/", team=team_id)
    assert logged["count"] > 0

    # The commune officer's coverage counts them: it equals what the officer's lists hold, the leader's included.
    officer = login(base, COMMUNE_OFFICER)
    ward = officer.get("/coverage/communes/00226/")
    assert ward["stale"] is False
    assert {h["id"]: h["covered"] for h in ward["hamlets"]}[team["hamlet"]] is True
    assert ward["teams_active"] == officer.get("/teams/", commune="00226", status="active")["count"]
    assert ward["members_active"] == officer.get("/members/", commune="00226", active="true")["count"]
    assert ward["activities"] == officer.get("/activities/", commune="00226")["count"] == logged["count"]


def _row_counts(project: Path) -> dict[str, int]:
    script = (
        "import json; from django.apps import apps; "
        "print(json.dumps({m._meta.label: m.objects.count() for m in apps.get_models()}))"
    )
    done = subprocess.run(
        [".venv/bin/python", "manage.py", "shell", "-c", script],
        cwd=project,
        env={**embedded_env(), "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_restart_seeds_nothing_twice(served):
    base, log_path = served
    project = log_path.parent
    before = _row_counts(project)
    assert before["accounts.User"] == 5 and before["activities.Activity"] > 0
    # The run target's seed step, as the next `make run` runs it.
    again = subprocess.run(
        [".venv/bin/python", "manage.py", "seed_demo", "--base-url", base],
        cwd=project,
        env={**embedded_env(), "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "team_leader" in again.stdout
    assert _row_counts(project) == before
