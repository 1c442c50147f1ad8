"""A clean demo-sized lake passes every check, twice; a wrong market price still fails price_matches_history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from geckolake import flows
from geckolake.config import Settings
from geckolake.ingest.pipeline import RunResult
from geckolake.lake.catalog import Lake, open_lake
from geckolake.quality.checks import CheckContext
from geckolake.quality.runner import run_checks
from geckolake.quality.suite import checks_for
from geckolake.simulator import SimulatorConfig, running_simulator

# The second run's instant warned under the fixed 5 % tolerance (a 5.6 % hourly move of a small cap).
FIRST = datetime(2026, 11, 26, 21, 34, tzinfo=UTC)
SECOND = FIRST + timedelta(hours=1)


def demo_run(lake: Path, now: datetime) -> RunResult:
    """One run with ``geckolake demo``'s settings, the simulator frozen at ``now``."""
    with running_simulator(SimulatorConfig(port=0, coins=1000, plan="unlimited", now=now)) as url:
        settings = Settings(
            lake=lake, base_url=url, plan="pro", rate_per_min=6000, concurrency=8,
            coins=500, history_coins=25, history_days=365, as_of=now,
        )  # fmt: skip
        return flows.run(settings, command="demo")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunResult]]:
    lake = tmp_path_factory.mktemp("demo") / "lake"
    return lake, [demo_run(lake, FIRST), demo_run(lake, SECOND)]


def test_a_clean_demo_rerun_fails_no_check(runs: tuple[Path, list[RunResult]]) -> None:
    lake, results = runs
    for result in results:
        assert result.status == "succeeded", result.error
        assert result.checks_failed == []
    con = open_lake(lake).connect_duckdb(tables=["ops.dq_results"])
    failed = con.execute("SELECT table_name, check_name, detail FROM ops.dq_results WHERE NOT passed").fetchall()
    assert failed == []


def wrong_snapshot(lake: Lake, coin: str, factor: float) -> dict[str, Any]:
    """``coin``'s latest snapshot one minute later, its price ``factor`` × the real one."""
    con = lake.connect_duckdb(tables=["silver.market_snapshots"])
    row = con.execute(
        "SELECT * FROM silver.market_snapshots WHERE coin_id = ? ORDER BY snapshot_ts DESC LIMIT 1", [coin]
    ).fetchone()
    cols = [d[0] for d in con.description or []]
    assert row is not None, coin
    snap = dict(zip(cols, row, strict=True))
    snap["snapshot_ts"] += timedelta(minutes=1)
    snap["current_price"] *= factor
    return snap


def most_volatile(lake: Lake) -> str:
    con = lake.connect_duckdb(tables=["silver.market_snapshots"])
    row = con.execute(
        "SELECT coin_id FROM silver.market_snapshots WHERE current_price > 0 "
        "ORDER BY abs(price_change_percentage_24h) DESC NULLS LAST LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_wrong_market_price_still_fails(runs: tuple[Path, list[RunResult]], tmp_path: Path) -> None:
    # a copy of the clean lake's tables, so the module's lake stays clean
    source, bad = open_lake(runs[0]), open_lake(tmp_path / "lake")
    tables = ["silver.market_snapshots", "silver.price_history", "silver.sparkline_prices"]
    for name in tables:
        bad.append(name, source.read(name))
    volatile = most_volatile(bad)
    wrong = [wrong_snapshot(bad, "tether", 1.3), wrong_snapshot(bad, volatile, 2.0)]
    schema = bad.arrow_schema("silver.market_snapshots")
    bad.append("silver.market_snapshots", pa.Table.from_pylist(wrong, schema=schema))

    check = [c for c in checks_for(["silver.market_snapshots"]) if c.name == "price_matches_history"]
    ctx = CheckContext(now=SECOND + timedelta(minutes=2))
    clean = run_checks(source, ctx, checks=check).results[0]
    assert clean.passed, clean.sample_json
    result = run_checks(bad, ctx, checks=check).results[0]
    assert not result.passed and result.failing_rows == 2
    assert '"tether"' in result.sample_json and f'"{volatile}"' in result.sample_json
    assert result.tagged == "silver.market_snapshots.price_matches_history (warn)"
