"""Incremental refresh after a sequence of daily batches equals a full rebuild (content hash)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow.compute as pc
from tests.unit.analytics.builders import START, market, write_market

from geckolake.analytics import source_mark
from geckolake.analytics.refresh import WINDOWED, refresh_analytics
from geckolake.config import AnalyticsSettings, MaintenanceSettings
from geckolake.lake.catalog import Lake
from geckolake.lake.testing import bronze_batch
from geckolake.ops.maintenance import compact
from geckolake.transform.runner import apply_batch

CFG = AnalyticsSettings(index_size=3, movers_universe=4, movers_count=2, correlation_coins=4)
TABLES = (*WINDOWED, "gold.category_daily")


def categories_batch(day: int) -> dict[str, object]:
    ts = datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
    rows = [
        {
            "category_id": "layer-1",
            "name": "Layer 1",
            "market_cap": 1e12 + day,
            "market_cap_change_24h": 1.5,
            "volume_24h": 5e10,
            "updated_at": ts,
            "top_3_coins_id": ["bitcoin", "ethereum"],
        },
    ]
    return {"categories": bronze_batch("categories", rows, fetched_at=ts)}


def test_daily_batches_then_refresh_equal_full_rebuild(lake: Lake) -> None:
    n = 100
    prices = market(n)
    # history up to day 95 in one go, then one batch per day (each day's midnight point closes the
    # day before)
    report = write_market(lake, prices, (START, START + timedelta(days=95)))
    refresh_analytics(lake, since=report.first_day, config=CFG, forecasts=False)
    for day in range(96, n):
        d = START + timedelta(days=day)
        report = write_market(lake, prices, (d, d))
        apply_batch(lake, categories_batch(day), None)
        assert report.first_day == d - timedelta(days=1)
        refresh_analytics(lake, since=report.first_day, config=CFG, forecasts=False)
    incremental = {name: lake.content_hash(name) for name in TABLES}
    counts = {name: lake.read(name).num_rows for name in TABLES}
    refresh_analytics(lake, full=True, config=CFG, forecasts=False)
    assert {name: lake.content_hash(name) for name in TABLES} == incremental
    assert {name: lake.read(name).num_rows for name in TABLES} == counts
    assert all(counts[name] > 0 for name in TABLES)


def test_refresh_without_touched_days_does_nothing(lake: Lake) -> None:
    assert refresh_analytics(lake, since=None) == {}


def test_category_daily_from_silver(lake: Lake) -> None:
    apply_batch(lake, categories_batch(0), None)
    apply_batch(lake, categories_batch(1), None)
    refresh_analytics(lake, full=True, forecasts=False)
    got = lake.read("gold.category_daily").sort_by("date").to_pylist()
    assert [(r["category_id"], r["date"].isoformat()) for r in got] == [
        ("layer-1", "2025-01-01"),
        ("layer-1", "2025-01-02"),
    ]
    assert got[1]["market_cap"] == 1e12 + 1 and got[1]["return_1d"] == 0.015 and got[1]["volume"] == 5e10
    assert got[1]["coin_count"] is None and got[1]["top_3_coins_id"] == ["bitcoin", "ethereum"]
    assert pc.sum(lake.read("gold.coin_risk")["vol_7d"]).as_py() is None


def test_a_refresh_that_never_happened_is_repaired_by_the_next_one(lake: Lake) -> None:
    """A run stopped after its commits, before its refresh: the next run finds the analytics
    lagging gold.coin_daily before it commits (as ``Run`` does) and refreshes them in full."""
    prices = market(100)
    report = write_market(lake, prices, (START, START + timedelta(days=95)))
    refresh_analytics(lake, since=report.first_day, config=CFG, forecasts=False)
    for day in range(96, 100):
        lagging = not source_mark.is_current(lake)
        assert lagging == (day == 98)
        d = START + timedelta(days=day)
        report = write_market(lake, prices, (d, d))
        apply_batch(lake, categories_batch(day), None)
        if day == 97:  # this day's run was killed after its commits
            continue
        refresh_analytics(lake, since=report.first_day, full=lagging, config=CFG, forecasts=False)
    assert source_mark.is_current(lake)
    repaired = {name: lake.content_hash(name) for name in TABLES}
    refresh_analytics(lake, full=True, config=CFG, forecasts=False)
    assert {name: lake.content_hash(name) for name in TABLES} == repaired


def test_compaction_keeps_the_analytics_current(lake: Lake) -> None:
    report = write_market(lake, market(40))
    rows = lake.read(source_mark.SOURCE)
    parts = [rows.take(list(range(i, rows.num_rows, 4))) for i in range(4)]
    lake.replace(source_mark.SOURCE, parts)  # the same rows in more files
    refresh_analytics(lake, since=report.first_day, config=CFG, forecasts=False)
    before = source_mark.source_snapshot(lake)
    assert source_mark.is_current(lake)
    report = compact(lake, MaintenanceSettings(small_file_count=2), [source_mark.SOURCE])
    assert report.files_after[source_mark.SOURCE] < report.files_before[source_mark.SOURCE]
    assert source_mark.source_snapshot(lake) != before
    assert source_mark.is_current(lake)
