"""Issue 16's targets from two runs' JSON: `python -m bench.targets TWO_MILLION.json [TEN_MILLION.json]`.

Prints two markdown tables for docs/performance.md: each target against the 2,000,000 run (and the
10,000,000 run), and point 3's comparison of the two runs. Every figure is read from the runs' JSON; nothing
is measured here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.report import _table

RSS_LIMIT_MB = 222


def _reads(r: dict, key: str) -> float:
    return r["reads"][key]["at_32"]["requests_per_second"]


def figures(r: dict) -> dict:
    """The figures issue 16 sets targets on, from one run."""
    levels = r["sync"]["levels"]
    return {
        "registry": (r["registry"]["seconds"], r["registry"]["copy_seconds"]),
        "recompute": (r["recompute"]["seconds"], r["recompute"]["sql_seconds"]),
        "rss": r["recompute"]["worker_peak_rss_mb"],
        "sync": {c: levels[c]["ratio_to_bare"] for c in levels},
        "sync_rate": {c: levels[c]["product"]["items_per_second"] for c in levels},
        "bare_rate": {c: levels[c]["bare"]["items_per_second"] for c in levels},
        "national": (_reads(r, "coverage_national"), _reads(r, "floor")),
        "teams": (_reads(r, "teams_page"), _reads(r, "floor")),
        "freshness": r["freshness"]["p95_s"],
    }


def _yes(met: bool) -> str:
    return "**yes**" if met else "**no**"


def targets_table(two: dict, ten: dict | None) -> str:
    runs = [figures(two)] + ([figures(ten)] if ten else [])

    def row(number: str, target: str, show, check) -> list[str]:
        cells = [show(f) for f in runs]
        met = " / ".join(_yes(check(f)) for f in runs)
        return [number, target, *cells, met]

    def ratio(pair: tuple[float, float]) -> float:
        return pair[0] / pair[1]

    body = [
        row(
            "1",
            "full recompute ≤ 1.3 × the hand-written SQL",
            lambda f: f"{f['recompute'][0]:.2f} s ÷ {f['recompute'][1]:.2f} s = {ratio(f['recompute']):.2f}",
            lambda f: ratio(f["recompute"]) <= 1.3,
        ),
        row(
            "1",
            f"worker peak RSS ≤ {RSS_LIMIT_MB} MB",
            lambda f: f"{f['rss']:.0f} MB",
            lambda f: f["rss"] <= RSS_LIMIT_MB,
        ),
        row(
            "2",
            "sync ≥ 0.8 × bare at 1 / 8 / 32 clients",
            lambda f: " / ".join(f"{v:.2f}" for v in f["sync"].values()),
            lambda f: all(v >= 0.8 for v in f["sync"].values()),
        ),
        row(
            "4",
            "`/coverage/national/` ≥ 0.8 × the floor, 32 clients",
            lambda f: f"{f['national'][0]:,.0f} ÷ {f['national'][1]:,.0f} req/s = {ratio(f['national']):.2f}",
            lambda f: ratio(f["national"]) >= 0.8,
        ),
        row(
            "4",
            "`/teams/` ≥ 0.4 × the floor, 32 clients",
            lambda f: f"{f['teams'][0]:,.0f} ÷ {f['teams'][1]:,.0f} req/s = {ratio(f['teams']):.2f}",
            lambda f: ratio(f["teams"]) >= 0.4,
        ),
        row(
            "5",
            "registry load ≤ 3 × COPY",
            lambda f: f"{f['registry'][0]:.1f} s ÷ {f['registry'][1]:.1f} s = {ratio(f['registry']):.1f}×",
            lambda f: ratio(f["registry"]) <= 3,
        ),
        row(
            "—",
            "freshness p95 ≤ 2 s",
            lambda f: f"{f['freshness']:.2f} s",
            lambda f: f["freshness"] <= 2,
        ),
    ]
    header = ["#", "target", "2 million run"] + (["10 million run"] if ten else []) + ["met"]
    return _table(header, body)


def point_3_table(two: dict, ten: dict) -> str:
    a, b = figures(two), figures(ten)
    body = [
        [
            "full recompute, in the worker",
            f"{a['recompute'][0]:.2f} s",
            f"{b['recompute'][0]:.2f} s",
            f"{b['recompute'][0] / a['recompute'][0]:.2f}",
            "≤ 1.2",
            _yes(b["recompute"][0] / a["recompute"][0] <= 1.2),
        ]
    ]
    for clients in a["sync_rate"]:
        change = b["sync_rate"][clients] / a["sync_rate"][clients]
        body.append(
            [
                f"sync, {clients} client{'s' if clients != '1' else ''}",
                f"{a['sync_rate'][clients]:,.0f} /s",
                f"{b['sync_rate'][clients]:,.0f} /s",
                f"{change:.2f}",
                "≥ 0.9",
                _yes(change >= 0.9),
            ]
        )
    for clients in a["bare_rate"]:
        body.append(
            [
                f"bare sync endpoint, {clients} client{'s' if clients != '1' else ''} (same table)",
                f"{a['bare_rate'][clients]:,.0f} /s",
                f"{b['bare_rate'][clients]:,.0f} /s",
                f"{b['bare_rate'][clients] / a['bare_rate'][clients]:.2f}",
                "—",
                "—",
            ]
        )
    body.append(
        [
            "hand-written SQL over the activities (the recompute's yardstick)",
            f"{a['recompute'][1]:.2f} s",
            f"{b['recompute'][1]:.2f} s",
            f"{b['recompute'][1] / a['recompute'][1]:.2f}",
            "—",
            "—",
        ]
    )
    return _table(["figure", "2,000,000", "10,000,000", "10 M ÷ 2 M", "target", "met"], body)


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    two = json.loads(Path(argv[0]).read_text())
    ten = json.loads(Path(argv[1]).read_text()) if len(argv) == 2 else None
    print(targets_table(two, ten))
    if ten:
        print()
        print(point_3_table(two, ten))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
