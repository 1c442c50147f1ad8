"""Market anomalies from silver.market_snapshots (detect reads only that table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from geckolake.config import QualitySettings
from geckolake.lake.catalog import Lake, open_lake
from geckolake.quality import anomalies

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def snap(coin: str, i: int, price: float, volume: float, cap: float, supply: float, run: str) -> dict[str, Any]:
    ts = NOW - timedelta(minutes=5 * (40 - i))
    return {
        "coin_id": coin, "vs_currency": "usd", "snapshot_ts": ts, "current_price": price, "total_volume": volume,
        "market_cap": cap, "circulating_supply": supply, "date": ts.date(), "_run_id": run, "_fetched_at": ts,
    }  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = open_lake(tmp_path_factory.mktemp("lake"))
    rows = []
    for i in range(40):
        last = i == 39
        run = "latest" if last else "before"
        wiggle = 1 + 0.001 * (i % 3)
        rows.append(snap("jumper", i, 200.0 if last else 100.0 * wiggle, 1e6, 1e8 * wiggle, 1e6, run))
        rows.append(snap("stale", i, 5.0, 1e6, 5e6, 1e6, run))
        rows.append(snap("spiky", i, 10.0 * wiggle, 1e9 if last else 1e6 * wiggle, 1e7 * wiggle, 1e6, run))
        rows.append(snap("miscapped", i, 10.0 * wiggle, 1e6, 5e7, 1e6, run))
        rows.append(snap("calm", i, 10.0 * wiggle, 1e6 * wiggle, 1e7 * wiggle, 1e6, run))
    schema = lake.arrow_schema("silver.market_snapshots")
    table = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows])
    lake.append("silver.market_snapshots", table)
    return lake


def test_each_kind_is_found_on_its_coin(lake: Lake) -> None:
    # detect creates a view for silver.market_snapshots only: a query naming another table would fail here
    found = {(a.kind, a.coin_id) for a in anomalies.detect(lake, QualitySettings(), "latest")}
    assert {("price_jump", "jumper"), ("stale_price", "stale"), ("volume_spike", "spiky")} <= found
    assert ("cap_mismatch", "miscapped") in found
    assert not any(coin == "calm" for _, coin in found)
