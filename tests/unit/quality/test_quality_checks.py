"""Declared checks on a hand-built lake: each kind catches what it should, scoping, the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.tables import all_tables
from geckolake.quality import gate
from geckolake.quality.checks import CheckContext
from geckolake.quality.runner import record_results, run_checks
from geckolake.quality.suite import checks_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def put(lake: Lake, name: str, rows: list[dict[str, Any]]) -> None:
    schema = lake.arrow_schema(name)
    lake.append(name, pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema))


def snap(coin: str, price: float, minutes_ago: float = 1, run: str = "r1") -> dict[str, Any]:
    ts = NOW - timedelta(minutes=minutes_ago)
    return {
        "coin_id": coin, "vs_currency": "usd", "snapshot_ts": ts, "current_price": price, "market_cap": 10.0,
        "total_volume": 5.0, "date": ts.date(), "_run_id": run, "_fetched_at": ts,
    }  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    lake = open_lake(root)
    put(lake, "silver.coins", [{"coin_id": c, "name_source": "markets"} for c in ("bitcoin", "ethereum")])
    return root


def failing(lake: Lake, ctx: CheckContext, tables: list[str]) -> set[str]:
    return {r.label for r in run_checks(lake, ctx, tables=tables).failures}


def test_every_keyed_silver_and_gold_table_has_a_key_check() -> None:
    declared = {c.table for c in checks_for()}
    for name, tdef in all_tables().items():
        if tdef.namespace in ("silver", "gold") and tdef.key:
            assert name in declared, f"{name} has no declared checks"


def test_negative_price_duplicate_key_unknown_coin_and_freshness(base: Path, tmp_path: Path) -> None:
    lake = open_lake(base)
    put(
        lake,
        "silver.market_snapshots",
        [snap("bitcoin", 100.0, 30), snap("bitcoin", 100.0, 30), snap("ghost", -1.0, 30)],
    )
    bad = failing(lake, CheckContext(now=NOW), ["silver.market_snapshots"])
    assert {
        "silver.market_snapshots.unique_key",
        "silver.market_snapshots.price_non_negative",
        "silver.market_snapshots.coin_known",
        "silver.market_snapshots.freshness",
    } <= bad
    # a later SLA override makes the 30-minute-old table fresh
    assert "silver.market_snapshots.freshness" not in failing(
        lake, CheckContext(now=NOW, freshness_minutes={"silver.market_snapshots": 60}), ["silver.market_snapshots"]
    )


def test_row_checks_are_scoped_to_the_run(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    put(lake, "silver.coins", [{"coin_id": "bitcoin", "name_source": "markets"}])
    put(lake, "silver.market_snapshots", [snap("bitcoin", -5.0, 3, run="old"), snap("bitcoin", 7.0, 1, run="new")])
    ctx = CheckContext(now=NOW, run_id="new")
    assert "silver.market_snapshots.price_non_negative" not in failing(lake, ctx, ["silver.market_snapshots"])
    assert "silver.market_snapshots.price_non_negative" in failing(lake, CheckContext(now=NOW), ["silver"])


def test_gaps_accepted_values_and_results_recorded(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    put(lake, "silver.coins", [{"coin_id": "bitcoin", "name_source": "elsewhere"}])
    days = [datetime(2026, 11, d, tzinfo=UTC) for d in (1, 2, 5)]
    put(
        lake,
        "silver.price_history",
        [
            {
                "coin_id": "bitcoin",
                "vs_currency": "usd",
                "ts": d,
                "granularity": "daily",
                "price": 1.0,
                "month": "2026-11",
            }
            for d in days
        ],
    )
    report = run_checks(lake, CheckContext(now=NOW), tables=["silver.coins", "silver.price_history"])
    bad = {r.label: r for r in report.failures}
    assert bad["silver.price_history.daily_gaps"].severity == "warn"
    assert '"missing_days": 2' in bad["silver.price_history.daily_gaps"].sample_json
    assert "silver.coins.name_source_accepted" in bad
    assert "silver.price_history.freshness" in bad  # newest point 19 days before NOW
    record_results(lake, report, "run-1")
    rows = lake.read("ops.dq_results").to_pylist()
    assert len(rows) == len(report.results) and {r["run_id"] for r in rows} == {"run-1"}


def test_gate_restores_silver_and_gold_snapshots(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    put(lake, "silver.market_snapshots", [snap("bitcoin", 1.0)])
    good = gate.capture(lake)
    assert good["silver.market_snapshots"] is not None and good["gold.coin_daily"] is None
    put(lake, "silver.market_snapshots", [snap("bitcoin", -1.0, 2)])
    put(lake, "gold.coin_daily", [{"coin_id": "bitcoin", "vs_currency": "usd", "month": "2026-11", "low": -1.0}])
    changed = gate.restore(lake, good)
    assert set(changed) == {"silver.market_snapshots", "gold.coin_daily"}
    assert lake.read("silver.market_snapshots").column("current_price").to_pylist() == [1.0]
    assert lake.read("gold.coin_daily").num_rows == 0
    assert gate.restore(lake, good) == ["gold.coin_daily"] or lake.read("gold.coin_daily").num_rows == 0
