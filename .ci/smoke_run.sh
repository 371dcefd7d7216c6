#!/usr/bin/env bash
# Start the README's run command in a scratch copy (embedded default: SQLite, in-process tasks),
# log in with a demo account, check /health/, /api/docs/, the dashboard's login and national page, that
# /api/v1/provinces/ lists 34 provinces and that
# the national coverage figures are there and fresh; then log in as the printed demo team leader and read its
# team, and check that the printed URLs carry the port served.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${SMOKE_PORT:-8765}
scratch=$(mktemp -d)
trap 'kill -- -$pid 2>/dev/null || true; rm -rf "$scratch"' EXIT
# The copy shares the installed venv but not var/ (its SQLite database).
tar -C "$root" --exclude=./.venv --exclude=./var -cf - . | tar -C "$scratch" -xf -
ln -s "$root/.venv" "$scratch/.venv"
cd "$scratch"
env -u DATABASE_URL -u REDIS_URL setsid make run PORT="$port" >"$scratch/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$port/health/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$scratch/run.log"; echo "make run exited"; exit 1; fi
  sleep 1
done
.venv/bin/python - "$port" "$scratch/run.log" <<'PY'
import json, re, sys, urllib.request

base = f"http://127.0.0.1:{sys.argv[1]}"
printed = open(sys.argv[2], encoding="utf-8").read()

def call(path, body=None, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()

status, body = call("/health/")
assert status == 200 and json.loads(body)["status"] == "ok", body
status, body = call("/api/docs/")
assert status == 200 and b"swagger" in body.lower()
_, body = call("/api/v1/auth/token/", {"phone": "0900000001", "password": "demo-cdt-2025"})
token = json.loads(body)["access"]
_, body = call("/api/v1/provinces/", token=token)
provinces = json.loads(body)
assert provinces["count"] == 34, provinces["count"]
_, body = call("/api/v1/coverage/national/", token=token)
nation = json.loads(body)
assert nation["provinces_total"] == 34 and nation["teams_active"] > 0 and not nation["stale"], nation

# The team leader's login as printed: role, phone, password, scope (with the team id).
leader = re.search(r"^\s+team_leader\s+(\d{10})\s+(\S+)\s+team ([0-9a-f-]{36})", printed, re.M)
assert leader, "run did not print the demo team leader's login"
phone, password, team_id = leader.groups()
_, body = call("/api/v1/auth/token/", {"phone": phone, "password": password})
leader_token = json.loads(body)["access"]
_, body = call("/api/v1/me/", token=leader_token)
me = json.loads(body)
assert me["role"] == "team_leader" and me["team"] == team_id, me
_, body = call(f"/api/v1/teams/{team_id}/members/", token=leader_token)
members = json.loads(body)
assert members["count"] > 0 and any(m["role"] == "leader" and m["phone"] == phone for m in members["results"]), members
for path in ("/api/v1/", "/api/docs/", "/api/schema/"):
    assert f"{base}{path}" in printed, f"run did not print {base}{path}"

# The dashboard, where the README says to open it: the login form (with its CSRF cookie), then the nation.
import http.cookiejar
assert f"Dashboard: {base}/" in printed, "run did not print the dashboard's URL"
jar = http.cookiejar.CookieJar()
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
with browser.open(base + "/", timeout=10) as response:
    login_page = response.read().decode()
    assert response.url.startswith(base + "/login/") and "Đăng nhập" in login_page, response.url
csrf = next(c.value for c in jar if c.name == "csrftoken")
form = f"csrfmiddlewaretoken={csrf}&phone=0900000001&password=demo-cdt-2025".encode()
request = urllib.request.Request(base + "/login/", data=form, headers={"Referer": base + "/login/"})
with browser.open(request, timeout=30) as response:
    page = response.read().decode()
    assert response.url == base + "/nation/" and "Độ phủ toàn quốc" in page, response.url
    teams = re.search(r'data-figure="teams_active">([0-9.]+)<', page).group(1)
    assert int(teams.replace(".", "")) == nation["teams_active"], (teams, nation["teams_active"])
assert ":8000" not in printed, "run printed a URL with :8000"
print("smoke ok: /health/ 200, /api/docs/ 200, the dashboard shows", teams, "teams,",
      "/api/v1/provinces/ lists", provinces["count"],
      "| national coverage:", nation["teams_active"], "teams,", nation["communes_covered"], "communes covered",
      "| team leader", phone, "leads a team of", members["count"])
PY
grep -q "Demo logins" "$scratch/run.log" || { cat "$scratch/run.log"; echo "run did not print the demo logins"; exit 1; }
