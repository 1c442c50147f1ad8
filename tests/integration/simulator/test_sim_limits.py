"""Acceptance 5 and 6: rate limit bursts and fault rates over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest
from conftest import config

from geckolake.simulator import running_simulator


def burst(url: str, n: int) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:
            return await asyncio.gather(*(client.get(url) for _ in range(n)))

    return asyncio.run(go())


def check_burst(base: str) -> None:
    answers = burst(base + "/simple/price?ids=bitcoin&vs_currencies=usd", 120)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {200: 60, 429: 60}
    limited = next(r for r in answers if r.status_code == 429)
    assert limited.json()["status"]["error_code"] == 429
    assert limited.headers["x-ratelimit-limit"] == "60"
    wait = int(limited.headers["retry-after"])
    assert wait >= 1
    time.sleep(wait)
    assert [httpx.get(base + "/ping").status_code for _ in range(5)] == [200] * 5
    stats = httpx.get(base.removesuffix("/api/v3") + "/__stats").json()
    assert stats["endpoints"]["/simple/price"] == {"200": 60, "429": 60}
    assert httpx.post(base.removesuffix("/api/v3") + "/__reset").status_code == 200
    assert httpx.get(base.removesuffix("/api/v3") + "/__stats").json()["total"] == 0


def test_rate_limit_burst_short_window() -> None:
    # the same 60-per-window rule, with a 2 s window so the suite stays fast
    with running_simulator(config(rate_per_min=60, rate_window_s=2.0)) as url:
        check_burst(url)


@pytest.mark.slow
def test_rate_limit_burst_real_minute() -> None:
    with running_simulator(config(rate_per_min=60)) as url:
        check_burst(url)


def fault_counts(seed: int) -> Counter[str]:
    spec = "500=0.05,timeout=0.02,malformed=0.01,truncated=0.01,drift=0.02"
    cfg = config(plan="unlimited", faults=spec, seed=seed, timeout_s=3.0)
    with running_simulator(cfg) as url:

        async def one(client: httpx.AsyncClient, sem: asyncio.Semaphore) -> str:
            async with sem:
                try:
                    r = await client.get(url + "/simple/price?ids=bitcoin&vs_currencies=usd", timeout=1.5)
                except httpx.TimeoutException:
                    return "timeout"
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    return "truncated"
                if r.status_code == 500:
                    return "500"
                try:
                    body = r.json()
                except ValueError:
                    return "malformed"
                return (
                    "ok"
                    if body == {"bitcoin": {"usd": body["bitcoin"].get("usd")}}
                    and isinstance(body["bitcoin"].get("usd"), float)
                    else "drift"
                )

        async def go() -> list[str]:
            sem = asyncio.Semaphore(32)
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as client:
                return await asyncio.gather(*(one(client, sem) for _ in range(2000)))

        seen = Counter(asyncio.run(go()))
        server = Counter(httpx.get(url.removesuffix("/api/v3") + "/__stats").json()["faults"])
    assert seen - Counter({"ok": seen["ok"]}) == server
    return server


def test_fault_rates_are_reproducible() -> None:
    first = fault_counts(seed=7)
    expected = {"500": 0.05, "timeout": 0.02, "malformed": 0.01, "truncated": 0.01, "drift": 0.02}
    for kind, rate in expected.items():
        assert abs(first[kind] - rate * 2000) <= max(12, rate * 2000 * 0.35), (kind, first)
    assert fault_counts(seed=7) == first
