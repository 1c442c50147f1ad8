"""Lake.table reuses loaded tables only while the catalog still points at the metadata they were loaded from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from geckolake.lake.catalog import open_lake
from geckolake.lake.testing import bronze_batch

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _chart(day: int) -> pa.Table:
    row = {"coin_id": "btc", "vs_currency": "usd", "granularity": "daily", "ts": datetime(2026, 1, day, tzinfo=UTC)}
    return bronze_batch("market_chart", [{**row, "price": float(day)}], fetched_at=T)


def test_a_table_is_loaded_once_and_kept_current_by_its_own_commits(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    first = lake.table("bronze.market_chart")
    assert lake.table("bronze.market_chart") is first
    lake.append("bronze.market_chart", _chart(1))
    again = lake.table("bronze.market_chart")
    assert again is first  # PyIceberg's commit updated the cached object in place
    assert again.current_snapshot() is not None
    assert lake.read("bronze.market_chart").num_rows == 1


def test_a_commit_by_another_lake_object_is_seen(tmp_path: Path) -> None:
    mine, other = open_lake(tmp_path / "lake"), open_lake(tmp_path / "lake")
    stale = mine.table("bronze.market_chart")
    other.append("bronze.market_chart", _chart(1))
    other.append("bronze.market_chart", _chart(2))
    fresh = mine.table("bronze.market_chart")
    assert fresh is not stale
    assert fresh.metadata_location == other.table("bronze.market_chart").metadata_location
    assert mine.read("bronze.market_chart").num_rows == 2
    mine.append("bronze.market_chart", _chart(3))  # commits on the reloaded table
    assert other.read("bronze.market_chart").num_rows == 3


def test_dropped_layers_are_loaded_afresh(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    lake.append("bronze.market_chart", _chart(1))
    before = lake.table("bronze.market_chart")
    lake.drop_layers(["bronze"])
    after = lake.table("bronze.market_chart")
    assert after is not before
    assert after.current_snapshot() is None
