"""The API-side figures: freshness after a write, the sync endpoint beside the bare one, and reads."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid

from bench import procs
from bench.common import (
    BATCH,
    MINISTRY_PHONE,
    PASSWORD,
    SEED,
    check_load,
    django_setting,
    load_summary,
    median,
    median_summary,
    say,
)
from bench.load import created_items, login, percentile
from bench.load import run as load_run


def client_id(rng: random.Random, kind: str) -> uuid.UUID:
    """A new activity's id as the app makes it: UUIDv7 (RFC 9562, docs/api.md) or a random UUIDv4.

    UUIDv7 is 48 bits of Unix time in milliseconds, the version, 12 random bits, the variant and 62 random bits:
    a batch's new keys fall together at the end of the primary key's range instead of on random index pages.
    """
    if kind == "v4":
        return uuid.UUID(int=rng.getrandbits(128), version=4)
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=value)


class ApiScenarios:
    """Figures measured through HTTP against gunicorn and the worker (mixed into bench.run.Bench)."""

    def freshness(self) -> None:
        """Figure 4: commit a write, then time until the national figures show it (a real worker, the real kick)."""
        from django.db import connection
        from django.utils import timezone

        from activities.services import activities_sync
        from areas.models import DirtyCommune
        from members.models import Member, MemberRole
        from members.services import member_leave
        from teams.models import Team

        rng = random.Random(SEED)
        teams = list(Team.objects.filter(status="active").values_list("id", "province_id", "hamlet_id"))
        teams = rng.sample(teams, min(len(teams), 2000))
        members = list(
            Member.objects.filter(active=True, role=MemberRole.MEMBER).values_list("id", "province_id")[:20000]
        )
        members = rng.sample(members, min(len(members), 1000))
        procs.wait_for(lambda: not DirtyCommune.objects.exists(), seconds=120, what="an empty outbox")

        def national():
            with connection.cursor() as cursor:
                cursor.execute("SELECT activities, members_active FROM coverage_nationalfigures WHERE id = 1")
                return cursor.fetchone()

        activities, members_active = national()
        latencies, kinds, missed = [], {"activity": 0, "member_leave": 0}, 0
        self.quiet("freshness")
        cpu_before, watch_started = self.cpu(), time.perf_counter()
        say(f"freshness: {self.args.freshness_writes} writes, each timed from commit to the national figures ...")
        for index in range(self.args.freshness_writes):
            if index % 4 == 3 and members:
                member_id, province_id = members.pop()
                member_leave(actor=self.admins[province_id], member_id=member_id)
                members_active -= 1
                kinds["member_leave"] += 1
            else:
                team_id, province_id, hamlet_id = teams[index % len(teams)]
                values = {
                    "team_id": team_id,
                    "hamlet_id": hamlet_id,
                    "type_id": "vneid",
                    "occurred_on": timezone.localdate(),
                    "people_helped": 1 + index % 7,
                    "households_helped": None,
                    "duration_minutes": 30,
                    "note": "",
                    "latitude": None,
                    "longitude": None,
                    "deleted": False,
                }
                activities_sync(actor=self.admins[province_id], items=[(uuid.uuid4(), values, None)])
                activities += 1
                kinds["activity"] += 1
            committed = time.perf_counter()  # the service's transaction has committed when it returns
            deadline = committed + 30
            while True:
                if national() == (activities, members_active):
                    latencies.append(time.perf_counter() - committed)
                    break
                if time.perf_counter() > deadline:
                    missed += 1
                    latencies.append(time.perf_counter() - committed)
                    activities, members_active = national()
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.05, 0.3))
        self.results["cpu"]["freshness"] = {
            "seconds": round(time.perf_counter() - watch_started, 2),
            **procs.cpu_delta(cpu_before, self.cpu()),
        }
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        self.results["freshness"] = {
            "writes": len(latencies),
            "kinds": kinds,
            "missed_after_30s": missed,
            "p50_s": round(p50, 3),
            "p95_s": round(p95, 3),
            "max_s": round(max(latencies), 3),
            "min_s": round(min(latencies), 3),
            "debounce_s": django_setting("COVERAGE_KICK_DEBOUNCE_SECONDS"),
            "target_p95_s": 2.0,
            "met": p95 <= 2.0 and not missed,
        }
        say(f"freshness: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(latencies):.2f} s")

    def _sync_bodies(self, teams: list[tuple[str, int | None]], count: int, rng: random.Random) -> list[bytes]:
        today = dt.date.today()
        bodies = []
        for _ in range(count):
            items = []
            for _i in range(BATCH):
                team_id, hamlet_id = teams[rng.randrange(len(teams))]
                item = {
                    "id": str(client_id(rng, self.args.client_ids)),
                    "team": team_id,
                    "type": "vneid" if rng.random() < 0.5 else "online_public_services",
                    "occurred_on": (today - dt.timedelta(days=rng.randrange(30))).isoformat(),
                    "people_helped": 1 + rng.randrange(20),
                    "note": "Hỗ trợ người dân cài đặt và kích hoạt VNeID mức 2",
                }
                if hamlet_id:
                    item["hamlet"] = hamlet_id
                items.append(item)
            bodies.append(json.dumps({"activities": items}).encode())
        return bodies

    def sync(self) -> None:
        """Figure 5: POST 500-item batches at 1, 8 and 32 clients, to the product and to the bare endpoint."""
        from django.db.models import Count

        from activities.models import ActivityType
        from teams.models import Team

        types = set(ActivityType.objects.values_list("code", flat=True))
        if not {"vneid", "online_public_services"} <= types:
            raise RuntimeError(f"activity types vneid and public_services are expected; found {sorted(types)}")
        top = Team.objects.filter(status="active").values("province_id").annotate(n=Count("id")).order_by("-n").first()
        province_id = top["province_id"]
        admin = self.admins[province_id]
        teams = [
            (str(t), h)
            for t, h in Team.objects.filter(status="active", province_id=province_id).values_list("id", "hamlet_id")
        ]
        rng = random.Random(SEED + 5 + 1000 * self.measure_pass)  # a new pass sends new ids, not replays
        quick = self.args.quick
        levels = {1: 4, 8: 16, 32: 32} if quick else {1: 20, 8: 80, 32: 160}
        max_seconds = 30 if quick else 150
        self.checkpoint("the sync")
        say(
            f"sync: province admin of province id {province_id} ({len(teams):,} teams), batches of {BATCH}, "
            f"UUID{self.args.client_ids} ids"
        )
        out: dict = {"province_teams": len(teams), "client_ids": self.args.client_ids, "levels": {}}
        for concurrency, batches in levels.items():
            runs: dict[str, list] = {"product": [], "bare": []}
            for run in range(self.args.runs):
                token = login(self.web_url, admin.phone, PASSWORD)
                for name, url in (
                    ("product", f"{self.web_url}/api/v1/activities/sync/"),
                    ("bare", f"{self.bare_url}/bare/sync/"),
                ):
                    warm = self._sync_bodies(teams, 2 * 2, rng)
                    load_run("POST", url, concurrency=2, total=len(warm), token=token, bodies=warm)
                    bodies = self._sync_bodies(teams, batches, rng)
                    self.quiet(f"sync {name} {concurrency} run {run + 1}")
                    before = self.cpu()
                    result = load_run(
                        "POST",
                        url,
                        concurrency=concurrency,
                        total=batches,
                        token=token,
                        bodies=bodies,
                        count_items=created_items,
                        max_seconds=max_seconds,
                    )
                    cpu = procs.cpu_delta(before, self.cpu())
                    check_load(result, f"sync {name} at {concurrency}")
                    runs[name].append(load_summary(result, cpu, items=True))
                    say(
                        f"sync {name:7s} {concurrency:2d} clients run {run + 1}: "
                        f"{result.items_per_second:,.0f} activities/s, p50 {result.percentile(50) * 1000:.0f} ms, "
                        f"p99 {result.percentile(99) * 1000:.0f} ms"
                    )
            product, bare = median_summary(runs["product"]), median_summary(runs["bare"])
            ratios = [
                p["items_per_second"] / b["items_per_second"]
                for p, b in zip(runs["product"], runs["bare"], strict=True)
            ]
            out["levels"][str(concurrency)] = {
                "batches": batches,
                "product": product,
                "bare": bare,
                "ratio_to_bare": round(median(ratios), 2),
                "runs": {"product": runs["product"], "bare": runs["bare"]},
            }
        best = max(out["levels"].values(), key=lambda level: level["product"]["items_per_second"])
        out["best_product_items_per_second"] = best["product"]["items_per_second"]
        out["target_items_per_second"] = 20_000
        out["met"] = best["product"]["items_per_second"] >= 20_000
        self.results["sync"] = out

    def reads(self) -> None:
        """Figure 6: the read path at 32 clients (and at 1, for the time one request takes on its own)."""
        token = login(self.web_url, MINISTRY_PHONE, PASSWORD)
        quick = self.args.quick
        endpoints = {
            "coverage_national": (self.web_url, "/api/v1/coverage/national/", 300 if quick else 2000),
            "coverage_provinces": (self.web_url, "/api/v1/coverage/provinces/", 150 if quick else 1000),
            "teams_page": (self.web_url, "/api/v1/teams/", 64 if quick else 320),
            # The floor of the stack: gunicorn, Django's middleware and a DRF view, without auth or a query.
            "floor": (self.bare_url, "/bare/ping/", 300 if quick else 2000),
        }
        max_seconds = 15 if quick else 60
        out = {}
        for name, (base, path, total) in endpoints.items():
            url = base + path
            load_run("GET", url, concurrency=4, total=40, token=token)
            single = load_run(
                "GET", url, concurrency=1, total=max(30, total // 10), token=token, max_seconds=max_seconds
            )
            check_load(single, f"{name} at 1 client")
            runs = []
            for run in range(self.args.runs):
                self.quiet(f"read {name} run {run + 1}")
                before = self.cpu()
                result = load_run("GET", url, concurrency=32, total=total, token=token, max_seconds=max_seconds)
                cpu = procs.cpu_delta(before, self.cpu())
                check_load(result, f"{name} at 32 clients")
                runs.append(load_summary(result, cpu))
            summary = median_summary(runs)
            out[name] = {
                "path": path,
                "requests": total,
                "at_32": summary,
                "at_1": load_summary(single, None),
                "runs": runs,
            }
            say(
                f"read {name}: 32 clients p50 {summary['p50_ms']:.1f} ms p99 {summary['p99_ms']:.1f} ms "
                f"({summary['requests_per_second']:,.0f} req/s); 1 client p50 {out[name]['at_1']['p50_ms']:.1f} ms"
            )
        national = out["coverage_national"]["at_32"]["p99_ms"]
        out["target_national_p99_ms"] = 20
        out["met"] = national <= 20
        self.results["reads"] = out
