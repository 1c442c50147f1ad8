"""``demo``: the whole pipeline offline, against the built-in CoinGecko simulator; needs no key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geckolake.config import Settings
from geckolake.flows.forecasts import FORECASTS, forecast
from geckolake.flows.pipeline import run
from geckolake.flows.read import sql
from geckolake.ingest.pipeline import Observer, RunResult
from geckolake.simulator import SimulatorConfig, running_simulator

SAMPLE_SQL = (
    "SELECT coin_id, date, open, high, low, close FROM gold.coin_daily "
    "WHERE coin_id IN ('bitcoin', 'ethereum') ORDER BY date DESC, coin_id LIMIT 6"
)


@dataclass
class DemoResult:
    run: RunResult
    forecast_rows: int
    sample: tuple[list[str], list[tuple[Any, ...]]]  # columns, rows of SAMPLE_SQL


def demo(
    lake: Path | str = "demo-lake",
    *,
    coins: int = 500,
    history_coins: int = 25,
    history_days: int = 365,
    observer: Observer | None = None,
    on_listening: Callable[[str], None] | None = None,
) -> DemoResult:
    """Start the simulator on a free loopback port, run the pipeline into ``lake``, fit the forecasts.

    ``on_listening(base_url)`` is called once the simulator accepts connections.

    Raises:
        LakeLocked: another process is writing ``lake``.
        LakeError, DiskFull: the lake cannot be written.
    """
    with running_simulator(SimulatorConfig(port=0, coins=max(coins, 1000), plan="unlimited")) as base_url:
        if on_listening is not None:
            on_listening(base_url)
        settings = Settings(
            lake=str(lake), base_url=base_url, plan="pro", rate_per_min=6000, concurrency=8,
            coins=coins, history_coins=history_coins, history_days=history_days,
        )  # fmt: skip
        result = run(settings, observer=observer, command="demo")
    fitted = forecast(settings)
    return DemoResult(result, fitted[FORECASTS], sql(settings, SAMPLE_SQL))
