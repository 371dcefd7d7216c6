"""The HTTP load client: closed-loop asyncio clients on httpx, bounded in requests and in time, to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)
    items: int = 0
    errors: int = 0
    first_error: str | None = None

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def _local_only(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"the bench sends traffic to this machine only, not to {host}")


async def _run(
    method: str,
    url: str,
    *,
    concurrency: int,
    total: int,
    bodies: Sequence[bytes] | None,
    headers: dict[str, str],
    count_items: Callable[[bytes], int] | None,
    max_seconds: float,
) -> LoadResult:
    latencies: list[float] = []
    counter = itertools.count()
    state = {"items": 0, "errors": 0, "first_error": None}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(max_seconds, connect=30.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers) as client:
        started = time.perf_counter()
        deadline = started + max_seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                index = next(counter)
                if index >= total:
                    return
                content = bodies[index % len(bodies)] if bodies else None
                begin = time.perf_counter()
                try:
                    response = await client.request(method, url, content=content)
                except httpx.HTTPError as exc:
                    state["errors"] += 1
                    state["first_error"] = state["first_error"] or repr(exc)
                    continue
                latencies.append(time.perf_counter() - begin)
                if response.status_code != 200:
                    state["errors"] += 1
                    state["first_error"] = state["first_error"] or f"{response.status_code} {response.text[:300]}"
                elif count_items is not None:
                    state["items"] += count_items(response.content)

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(
        concurrency=concurrency,
        requests=len(latencies),
        seconds=seconds,
        latencies=latencies,
        items=state["items"],
        errors=state["errors"],
        first_error=state["first_error"],
    )


def run(
    method: str,
    url: str,
    *,
    concurrency: int,
    total: int,
    token: str | None = None,
    bodies: Sequence[bytes] | None = None,
    count_items: Callable[[bytes], int] | None = None,
    max_seconds: float = 300.0,
) -> LoadResult:
    """Send `total` requests from `concurrency` clients, each sending its next request when its last one returns."""
    _local_only(url)
    headers = {"Accept": "application/json"}
    if bodies is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return asyncio.run(
        _run(
            method,
            url,
            concurrency=concurrency,
            total=total,
            bodies=bodies,
            headers=headers,
            count_items=count_items,
            max_seconds=max_seconds,
        )
    )


def created_items(content: bytes) -> int:
    """How many items of a sync response were created."""
    return sum(1 for result in json.loads(content)["results"] if result["status"] == "created")


def login(base_url: str, phone: str, password: str) -> str:
    """An access token from the product's login (once per role and phase: the login is throttled per IP)."""
    _local_only(base_url)
    response = httpx.post(f"{base_url}/api/v1/auth/token/", json={"phone": phone, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["access"]
