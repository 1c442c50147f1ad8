"""API efficiency: calls made vs the theoretical minimum and vs a naive strategy (issue 6, bench 1).

W1 = markets for the top 1,000 coins + 365 days of daily history for the top 100 + 7 days of
hourly prices for the top 1,000, on an empty lake. W2 = the next day's incremental run on W1's lake.
The minimum is derived in docs/planner.md: ceil(N/250) markets pages + one call per history coin
(daily; 0 when the lake is current) + 0 hourly calls (the sparklines carry 7 days of hourly prices).
The naive strategy: 100-coin markets pages (the API default) and one chart call per coin per
granularity on every run.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import emit, log
from geckolake import flows
from geckolake.config import Settings
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
N, K, D, H = 1000, 100, 365, 7


def settings(lake: Path, url: str, now: datetime) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=600_000, concurrency=8, coins=N,
        history_coins=K, history_days=D, hourly_days=H, extras=False, as_of=now,
    )  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        for name, now, minimum in (
            ("W1", NOW, math.ceil(N / 250) + K + 0),
            ("W2", NOW + timedelta(days=1), math.ceil(N / 250) + K),
        ):
            with running_simulator(SimulatorConfig(port=0, coins=1500, plan="unlimited", now=now, clean=True)) as url:
                result = flows.run(settings(lake, url, now), command=f"bench-{name}")
                served = httpx.get(url.rsplit("/api/v3", 1)[0] + "/__stats").json()
            # The simulator's own count must agree with the client's (no call goes uncounted).
            if served["total"] != result.api_calls:
                raise SystemExit(f"{name}: client counted {result.api_calls} calls, simulator served {served['total']}")
            # Naive: 100-coin markets pages, a daily chart per history coin and an hourly chart per coin,
            # on every run (it keeps no state, so W2 costs what W1 does).
            naive = math.ceil(N / 100) + K + N
            log(f"{name}: {result.api_calls} calls, minimum {minimum}, naive {naive}")
            params = {"workload": name, "coins": N, "history_coins": K, "history_days": D, "hourly_days": H}
            emit("api_efficiency", "calls", float(result.api_calls), "calls", served=served["endpoints"], **params)
            emit("api_efficiency", "calls_vs_minimum", result.api_calls / minimum, "ratio", minimum=minimum, **params)
            emit("api_efficiency", "calls_vs_naive", result.api_calls / naive, "ratio", naive=naive, **params)


if __name__ == "__main__":
    main()
