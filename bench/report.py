"""The results table (markdown, also printed) and the files bench/results/latest.json and latest.md."""

from __future__ import annotations

import json
from pathlib import Path


def _n(value, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _yes(met: bool | None) -> str:
    return "—" if met is None else ("**yes**" if met else "**no**")


def _on_disk(load: dict) -> str:
    """The table's size after the load: heap, and the indexes (primary key included), in MB."""
    if "index_bytes" not in load:  # runs before the sizes were recorded
        return "—"
    indexes = load["index_bytes"]
    mb = 1024 * 1024
    heap, in_indexes = _n(load["heap_bytes"] / mb), _n(sum(indexes.values()) / mb)
    return f"on disk: {heap} MB heap + {in_indexes} MB in {len(indexes)} indexes"


def rows(r: dict) -> list[list[str]]:
    """The table: one row per figure, with what it is compared to in the same run, the ratio and the target."""
    out = []
    g = r["registry"]
    by_table = g["rows_by_table"]
    out.append(
        [
            "1",
            f"Registry load: generate_demo {g['scale']} ({_n(by_table['areas_hamlet'])} hamlets + "
            f"{_n(by_table['teams_team'])} teams + {_n(by_table['members_member'])} members = {_n(g['rows'])} rows)",
            f"{g['seconds']:.1f} s · {_n(g['rows_per_second'])} rows/s",
            f"COPY of the same rows into bare tables: {g['copy_seconds']:.2f} s · "
            f"{_n(g['copy_rows_per_second'])} rows/s",
            f"{g['ratio']:.1f}× the COPY time",
            "—",
            "—",
        ]
    )
    a = r["activities_load"]
    out.append(
        [
            "2",
            f"Activities load ({_n(a['activities'])}, set-based INSERT … SELECT)",
            f"{a['seconds']:.1f} s · {_n(a['rows_per_second'])} rows/s",
            _on_disk(a),
            "—",
            "—",
            "—",
        ]
    )
    c = r["recompute"]
    out.append(
        [
            "3",
            f"Full recompute (recompute_all, as recompute_coverage; in the worker; {_n(c['communes'])} communes)",
            f"{c['seconds']:.2f} s",
            f"one hand-written SQL query, same figures: {c['sql_seconds']:.2f} s"
            + ("" if c["sql_matches_stored_figures"] else " (**figures differ**)"),
            f"{c['ratio']:.2f}",
            "≤ 1.3",
            _yes(c["met"]),
        ]
    )
    out.append(
        [
            "3",
            "Worker peak RSS (the worker process that ran the recompute)",
            f"{c['worker_peak_rss_mb']:.0f} MB",
            f"RSS before the task: {c['worker_task_rss_before_mb']:.0f} MB",
            "—",
            "—",
            "—",
        ]
    )
    f = r["freshness"]
    out.append(
        [
            "4",
            f"Freshness: committed write → national figures ({f['writes']} writes, real worker)",
            f"p50 {f['p50_s']:.2f} s · p95 {f['p95_s']:.2f} s · max {f['max_s']:.2f} s",
            f"kick debounce {f['debounce_s']} s",
            "—",
            "p95 ≤ 2 s",
            _yes(f["met"]),
        ]
    )
    s = r["sync"]
    for concurrency, level in s["levels"].items():
        p, b = level["product"], level["bare"]
        out.append(
            [
                "5",
                f"Sync ingest, 500-item batches, {concurrency} client{'s' if concurrency != '1' else ''}",
                f"{_n(p['items_per_second'])} activities/s · batch p50 {p['p50_ms']:.0f} / p95 {p['p95_ms']:.0f} / "
                f"p99 {p['p99_ms']:.0f} ms",
                f"bare endpoint: {_n(b['items_per_second'])}/s · p50 {b['p50_ms']:.0f} / p95 {b['p95_ms']:.0f} / "
                f"p99 {b['p99_ms']:.0f} ms",
                f"{level['ratio_to_bare']:.2f} of bare",
                "≥ 20,000/s",
                _yes(p["items_per_second"] >= s["target_items_per_second"]),
            ]
        )
    names = {
        "coverage_national": ("/coverage/national/", "p99 ≤ 20 ms"),
        "coverage_provinces": ("/coverage/provinces/", "—"),
        "teams_page": ("/teams/ (first page)", "—"),
        "floor": ("floor: a bare DRF view (no auth, no query; bench/bare)", "—"),
    }
    for key, (label, target) in names.items():
        read = r["reads"].get(key)
        if read is None:
            continue
        at32, at1 = read["at_32"], read["at_1"]
        met = at32["p99_ms"] <= 20 if key == "coverage_national" else None
        out.append(
            [
                "6",
                f"Read {label}, 32 clients",
                f"p50 {at32['p50_ms']:.1f} ms · p99 {at32['p99_ms']:.1f} ms · {_n(at32['requests_per_second'])} req/s",
                f"1 client: p50 {at1['p50_ms']:.1f} ms · p99 {at1['p99_ms']:.1f} ms",
                "—",
                target,
                _yes(met),
            ]
        )
    out += _page_rows(r)
    return out


def _page_rows(r: dict) -> list[list[str]]:
    """Figure 7: the dashboard pages' server time beside the JSON of the same figures, and the report files."""
    pages = r.get("pages")
    if not pages:
        return []
    out = []
    for key, label in (("nation", "national overview (/nation/)"), ("province", "largest province page")):
        figure = pages[key]
        page = figure["page"]
        where = f" ({figure['code']}, {_n(figure['communes'])} communes)" if key == "province" else ""
        out.append(
            [
                "7",
                f"Dashboard: {label}{where}, server time",
                f"median {page['median_ms']:.0f} ms · max {page['max_ms']:.0f} ms · {page['queries']} queries",
                "the same figures in JSON: "
                + " + ".join(f"{j['path'].split('?')[0]} {j['median_ms']:.0f} ms" for j in figure["json"]),
                f"{page['median_ms'] / max(figure['json_median_ms'], 0.1):.1f}× the JSON",
                f"< {pages['target_ms']} ms",
                _yes(figure["met"]),
            ]
        )
    for key, label in (("report_xlsx", "XLSX"), ("report_pdf", "PDF")):
        file = pages[key]
        out.append(
            [
                "7",
                f"Quarterly report, nation, {label}, server time",
                f"median {file['median_ms']:.0f} ms · {_n(file['bytes'])} bytes · {file['queries']} queries",
                "—",
                "—",
                "—",
                "—",
            ]
        )
    return out


def _cpu_rows(r: dict) -> list[list[str]]:
    """Where the two cores went during the busiest measurements (CPU seconds as a share of wall time)."""
    picks = []
    level = r["sync"]["levels"].get("32") or list(r["sync"]["levels"].values())[-1]
    picks.append(("sync, 32 clients, product", level["product"]))
    picks.append(("sync, 32 clients, bare", level["bare"]))
    picks.append(("/coverage/national/, 32 clients", r["reads"]["coverage_national"]["at_32"]))
    picks.append(("/teams/, 32 clients", r["reads"]["teams_page"]["at_32"]))
    out = []
    for label, summary in picks:
        cpu, seconds = summary.get("cpu_seconds"), summary["seconds"]
        if not cpu or not seconds:
            continue
        shares = {name: value / seconds for name, value in cpu.items()}
        out.append(
            [
                label,
                f"{shares.get('web', 0):.2f}",
                f"{shares.get('bare', 0):.2f}",
                f"{shares.get('worker', 0):.2f}",
                f"{shares.get('postgres', 0):.2f}",
                f"{shares.get('load client', 0):.2f}",
                f"{shares.get('unattributed', 0):.2f}",
                f"{shares.get('other', 0):.2f}",
            ]
        )
    return out


def _settings_rows(r: dict) -> list[list[str]]:
    """--compare-settings: each figure measured again after the restart with compose.yaml's settings."""
    d, c = r, r["recommended_settings"]

    def row(label: str, before: float, after: float, unit: str, digits: int = 0, lower_is_better: bool = False):
        change = after / before if before else float("nan")
        better = change < 1 if lower_is_better else change > 1
        verdict = "within 5 %" if abs(change - 1) < 0.05 else ("better" if better else "worse")
        return [
            label,
            f"{_n(before, digits)} {unit}",
            f"{_n(after, digits)} {unit}",
            f"{change:.2f}×",
            verdict,
        ]

    out = [
        row("Full recompute", d["recompute"]["seconds"], c["recompute"]["seconds"], "s", 2, lower_is_better=True),
        row(
            "  its hand-written SQL",
            d["recompute"]["sql_seconds"],
            c["recompute"]["sql_seconds"],
            "s",
            2,
            lower_is_better=True,
        ),
    ]
    for level, figures in d["sync"]["levels"].items():
        other = c["sync"]["levels"][level]
        for side in ("product", "bare"):
            out.append(
                row(
                    f"Sync, {level} client(s), {side}",
                    figures[side]["items_per_second"],
                    other[side]["items_per_second"],
                    "activities/s",
                )
            )
    for key, read in d["reads"].items():
        if isinstance(read, dict) and key in c["reads"]:
            out.append(
                row(
                    f"Read {read['path']}, 32 clients",
                    read["at_32"]["requests_per_second"],
                    c["reads"][key]["at_32"]["requests_per_second"],
                    "req/s",
                )
            )
    return out


def _settings_section(r: dict) -> str:
    if "recommended_settings" not in r:
        return ""
    given = ", ".join(f"`{k}` {v}" for k, v in r["recommended_settings"]["settings_given"].items())
    table = _table(["Figure", "PostgreSQL's defaults", "compose.yaml's settings", "Change", ""], _settings_rows(r))
    return (
        "\n## PostgreSQL's defaults beside the recommended settings (same data, same run)\n\n"
        f"The private cluster restarted with {given}. The second pass's table also holds the first pass's sync "
        f"batches.\n\n{table}\n"
    )


def _noise(r: dict) -> str:
    """How much of the machine other processes took while the bench measured (the bench shares the machine)."""
    shares = {}
    for label, cpu in r.get("cpu", {}).items():
        if cpu.get("seconds"):
            shares[label] = cpu.get("other", 0) / cpu["seconds"]
    for key, level in r["sync"]["levels"].items():
        for name in ("product", "bare"):
            for i, run in enumerate(level["runs"][name]):
                shares[f"sync {name} {key} run {i + 1}"] = run["cpu_seconds"].get("other", 0) / run["seconds"]
    for key, read in r["reads"].items():
        if isinstance(read, dict):
            for i, run in enumerate(read["runs"]):
                shares[f"read {key} run {i + 1}"] = run["cpu_seconds"].get("other", 0) / run["seconds"]
    if not shares:
        return ""
    worst = max(shares, key=shares.get)
    busy = sorted(label for label, share in shares.items() if share >= 0.25)
    text = (
        f"Processes outside the bench used {sum(shares.values()) / len(shares):.2f} cores on average during the "
        f"measurements (most: {shares[worst]:.2f} during {worst})."
    )
    if busy:
        text += f" Measurements with ≥ 0.25 cores taken by others: {', '.join(busy)}."
    return text


def _table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


_CLIENT_IDS = {
    "v7": ", sending time-ordered UUIDv7 ids as docs/api.md asks of the app",
    "v4": ", sending random UUIDv4 ids",
}


def markdown(r: dict) -> str:
    m, st = r["machine"], r["settings"]
    head = (
        f"Machine: {m['cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB memory; PostgreSQL "
        f"{r.get('postgres', '?')}, Python {m['python']}. Mode: {r['mode']} ({st['scale']}, "
        f"{_n(st['activities'])} activities); each timing is the median of {st['runs']} run(s) where cheap; "
        f"ratios come from the same run. gunicorn {st['gunicorn_workers']} sync workers, Celery concurrency "
        f"{st['celery_concurrency']}, the load client on the same machine"
        f"{_CLIENT_IDS.get(st.get('client_ids', 'v4'), '')}. Started {r['started_at']}, "
        f"took {r.get('duration_s', 0):.0f} s."
    )
    if r.get("postgres_settings"):
        head += " PostgreSQL settings: " + ", ".join(f"`{k}` {v}" for k, v in r["postgres_settings"].items()) + "."
    if r.get("checkpoints"):
        head += (
            " Before each sync phase, untimed: CHECKPOINT "
            + ", ".join(f"{seconds} s" for seconds in r["checkpoints"].values())
            + "."
        )
    if r.get("vacuums"):
        head += (
            " Between phases, untimed, as autovacuum would: "
            + "; ".join(f"VACUUM (ANALYZE) after {phase} {seconds} s" for phase, seconds in r["vacuums"].items())
            + "."
        )
    table = _table(["#", "Figure", "Result", "Beside it (same run)", "Ratio", "Target", "Met"], rows(r))
    cpu = _table(
        [
            "Cores busy during",
            "product gunicorn",
            "bare gunicorn",
            "Celery worker",
            "PostgreSQL",
            "load client",
            "ended processes, kernel",
            "not the bench",
        ],
        _cpu_rows(r),
    )
    return f"{head}\n\n{table}\n\n{cpu}\n\n{_noise(r)}\n{_settings_section(r)}"


def write(r: dict, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(r, indent=2, ensure_ascii=False, default=str) + "\n")
    (directory / "latest.md").write_text("# Benchmark results\n\n" + markdown(r))
