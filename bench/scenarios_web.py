"""Figure 7: the dashboard's server time, beside the JSON reads of the same figures, and the report files.

Measured in this process with Django's test client: the time from request to rendered response (middleware,
session, views, selectors, templates), without the network and gunicorn in between, which figure 6 covers.
Each page is rendered `runs` times after two warm-up requests; the query count of one render is recorded.
"""

from __future__ import annotations

import statistics
import time

from bench.common import say

PAGE_TARGET_MS = 300


def _time(client, path: str, runs: int, **headers) -> dict:
    from django.db import connection

    for _ in range(2):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path, headers=headers)
    timings = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        size = len(answer.content)
    timings.sort()
    return {
        "path": path,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(timings[-1], 1),
        "queries": len(queries),
        "bytes": size,
        "runs": runs,
    }


class WebScenarios:
    """The dashboard pages (mixed into bench.run.Bench)."""

    def pages(self) -> None:
        from django.db.models import Count
        from django.test import Client
        from django.utils import timezone

        from accounts.models import User
        from accounts.tokens import tokens_for
        from areas.models import Province
        from bench.common import MINISTRY_PHONE
        from coverage.compute import quarter_of

        runs = 5 if self.args.quick else 15
        ministry = User.objects.get(phone=MINISTRY_PHONE)
        largest = (
            Province.objects.current().annotate(n=Count("communes")).order_by("-n", "code").values("id", "code", "n")[0]
        )
        admin = self.admins[largest["id"]]
        host = {"SERVER_NAME": "localhost"}
        as_ministry, as_admin = Client(**host), Client(**host)
        as_ministry.force_login(ministry)
        as_admin.force_login(admin)
        bearer = {"authorization": f"Bearer {tokens_for(ministry).access_token}"}
        auth = {"authorization": f"Bearer {tokens_for(admin).access_token}"}
        json_client = Client(**host)
        code = largest["code"]
        quarter = quarter_of(timezone.localdate())[0]
        self.quiet("pages")
        out = {
            "nation": {
                "page": _time(as_ministry, "/nation/", runs),
                # The same figures in JSON: the nation, its provinces, and every commune (the map's colours).
                "json": [
                    _time(json_client, "/api/v1/coverage/national/", runs, **bearer),
                    _time(json_client, "/api/v1/coverage/provinces/?page_size=50", runs, **bearer),
                ],
            },
            "province": {
                "code": code,
                "communes": largest["n"],
                "page": _time(as_admin, f"/provinces/{code}/", runs),
                "json": [
                    _time(json_client, f"/api/v1/coverage/provinces/{code}/", runs, **auth),
                    _time(json_client, f"/api/v1/coverage/provinces/{code}/communes/?page_size=500", runs, **auth),
                ],
            },
            "report_xlsx": _time(as_ministry, f"/reports/report.xlsx?quarter={quarter}&scope=VN", max(3, runs // 3)),
            "report_pdf": _time(as_ministry, f"/reports/report.pdf?quarter={quarter}&scope=VN", max(3, runs // 3)),
            "target_ms": PAGE_TARGET_MS,
        }
        for key in ("nation", "province"):
            figure = out[key]
            figure["json_median_ms"] = round(sum(j["median_ms"] for j in figure["json"]), 1)
            figure["met"] = figure["page"]["median_ms"] < PAGE_TARGET_MS
            say(
                f"page {key}: {figure['page']['median_ms']:.0f} ms median ({figure['page']['queries']} queries); "
                f"the same figures in JSON {figure['json_median_ms']:.0f} ms"
            )
        self.results["pages"] = out
