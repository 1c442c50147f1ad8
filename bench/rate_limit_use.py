"""Rate-limit use (issue 6, bench 2): how much of the allowed rate the client keeps busy.

A simulator enforces R = 500 calls/min with 50 ms latency; a history-heavy run makes ~250 calls.
Reported: achieved calls/min ÷ R and the share of 429s. Then the server enforces 400/min while the
client believes 500: the share of 429s and whether the run completes.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import emit, log
from geckolake.config import Settings
from geckolake.ingest.pipeline import run_pipeline
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HISTORY_COINS = 245  # + 1 markets page + 4 extras = 250 calls


def one(server_rate: int, client_rate: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SimulatorConfig(
            port=0, coins=600, plan="pro", rate_per_min=server_rate, latency_ms=50, now=NOW, clean=True
        )
        with running_simulator(cfg) as url:
            s = Settings(
                lake=Path(tmp) / "lake", base_url=url, plan="pro", rate_per_min=client_rate, concurrency=8,
                coins=250, history_coins=HISTORY_COINS, history_days=30, as_of=NOW,
            )  # fmt: skip
            started = time.perf_counter()
            result = run_pipeline(s, command="bench")
            elapsed = time.perf_counter() - started
            stats = httpx.get(url.rsplit("/api/v3", 1)[0] + "/__stats").json()
        total = result.api_calls
        share_429 = result.rate_limited / total if total else 0.0
        achieved = (total - result.rate_limited) / elapsed * 60.0
        log(f"server {server_rate}/min, client {client_rate}/min: {total} calls in {elapsed:.1f}s, "
            f"{result.rate_limited} x 429, status {result.status}; server stats {stats}")  # fmt: skip
        params = {"server_rate": server_rate, "client_rate": client_rate, "latency_ms": 50, "calls": total}
        emit("rate_limit_use", "use_of_limit", achieved / server_rate, "ratio", **params)
        emit("rate_limit_use", "share_429", share_429, "ratio", **params)
        emit("rate_limit_use", "completed", 1.0 if result.failed_requests == 0 else 0.0, "bool", **params)


def main() -> None:
    one(500, 500)
    one(400, 500)


if __name__ == "__main__":
    main()
