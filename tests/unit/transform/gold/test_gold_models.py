"""Gold: coin_aggregates over distinct snapshots, coin_daily's OHLC rule, incremental recompute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from geckolake.lake.catalog import Lake
from geckolake.lake.testing import bronze_batch
from geckolake.transform.runner import apply_batch, rebuild_all

F1 = datetime(2026, 3, 12, 9, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def snap(
    ts: datetime, price: float, mc: float | None = None, vol: float | None = None, name: str = "Bitcoin"
) -> dict[str, Any]:
    return {
        "coin_id": "bitcoin",
        "symbol": "btc",
        "name": name,
        "vs_currency": "usd",
        "current_price": price,
        "market_cap": mc,
        "total_volume": vol,
        "last_updated": ts,
    }


def pt(ts: datetime, price: float, gran: str, mc: float | None = None, vol: float | None = None) -> dict[str, Any]:
    return {
        "coin_id": "bitcoin",
        "vs_currency": "usd",
        "granularity": gran,
        "ts": ts,
        "price": price,
        "market_cap": mc,
        "total_volume": vol,
    }


def gold(lake: Lake, name: str) -> dict[date, dict[str, Any]]:
    return {r["date"]: r for r in lake.read(name).to_pylist()}


def apply(
    lake: Lake,
    fetched_at: datetime,
    *,
    chart: list[dict[str, Any]] | None = None,
    snaps: list[dict[str, Any]] | None = None,
) -> None:
    batch = {}
    if chart:
        batch["market_chart"] = bronze_batch("market_chart", chart, fetched_at=fetched_at)
    if snaps:
        batch["coins_markets"] = bronze_batch("coins_markets", snaps, fetched_at=fetched_at)
    apply_batch(lake, batch, None)


def test_records_count_counts_distinct_snapshots_not_copies(lake: Lake) -> None:
    day = [snap(utc(2026, 3, 10, h), p) for h, p in ((1, 10.0), (7, 20.0), (13, 30.0))]
    for k in range(6):  # the reference design's bug: six runs, six copies
        apply(lake, F1 + timedelta(minutes=k), snaps=day)
    apply(
        lake,
        F1,
        snaps=[snap(utc(2026, 3, 10, 20), 40.0, name="Bitcoin Renamed"), snap(utc(2026, 3, 11, 1), 5.0)],
    )
    got = gold(lake, "gold.coin_aggregates")
    d = got[date(2026, 3, 10)]
    assert (d["records_count"], d["avg_price"], d["min_price"], d["max_price"]) == (4, 25.0, 10.0, 40.0)
    assert (d["coin_id"], d["vs_currency"], d["symbol"], d["name"]) == (
        "bitcoin",
        "usd",
        "btc",
        "Bitcoin Renamed",
    )
    assert (d["first_snapshot_ts"], d["last_snapshot_ts"]) == (utc(2026, 3, 10, 1), utc(2026, 3, 10, 20))
    assert got[date(2026, 3, 11)]["records_count"] == 1


def test_coin_daily_rule_on_a_hand_computed_day(lake: Lake) -> None:
    apply(
        lake,
        F1,
        chart=[
            pt(utc(2026, 3, 10), 100.0, "daily", 1000.0, 10.0),
            pt(utc(2026, 3, 10), 101.0, "hourly", 1010.0, 10.1),  # same instant: hourly beats daily
            pt(utc(2026, 3, 10, 6), 110.0, "hourly", 1100.0, 11.0),
            pt(utc(2026, 3, 10, 12), 90.0, "hourly"),  # no volume / market cap
        ],
        snaps=[snap(utc(2026, 3, 10, 18, 30), 105.0, 1050.0, 10.5)],
    )
    d10 = gold(lake, "gold.coin_daily")[date(2026, 3, 10)]
    assert (d10["open"], d10["high"], d10["low"], d10["close"]) == (101.0, 110.0, 90.0, 105.0)
    assert (d10["volume"], d10["market_cap"], d10["source"], d10["observations"]) == (
        10.5,
        1050.0,
        "intraday",
        5,
    )

    # the next day's 00:00 daily point arrives: it is day 10's close (and day 11's open)
    apply(lake, F1 + timedelta(days=1), chart=[pt(utc(2026, 3, 11), 107.0, "daily", 1070.0, 12.0)])
    got = gold(lake, "gold.coin_daily")
    d10, d11 = got[date(2026, 3, 10)], got[date(2026, 3, 11)]
    assert (d10["open"], d10["high"], d10["low"], d10["close"]) == (101.0, 110.0, 90.0, 107.0)
    assert (d10["volume"], d10["market_cap"], d10["observations"]) == (12.0, 1070.0, 6)
    assert (d11["open"], d11["high"], d11["low"], d11["close"], d11["source"]) == (
        107.0,
        107.0,
        107.0,
        107.0,
        "daily",
    )
    assert date(2026, 3, 9) not in got  # a 00:00 point alone does not create the previous day


@pytest.mark.parametrize("last_day", [date(2026, 3, 31)])
def test_close_crosses_a_month_partition(lake: Lake, last_day: date) -> None:
    midnight = datetime.combine(last_day, datetime.min.time(), tzinfo=UTC)
    apply(lake, F1, chart=[pt(midnight, 1.0, "daily"), pt(midnight + timedelta(hours=5), 2.0, "hourly")])
    apply(lake, F1 + timedelta(days=1), chart=[pt(midnight + timedelta(days=1), 3.0, "daily")])
    got = gold(lake, "gold.coin_daily")
    assert (got[last_day]["close"], got[last_day]["month"]) == (3.0, "2026-03")
    assert (got[date(2026, 4, 1)]["open"], got[date(2026, 4, 1)]["month"]) == (3.0, "2026-04")


def test_sources_and_rebuild_parity(lake: Lake) -> None:
    apply(lake, F1, snaps=[snap(utc(2026, 3, 12, 8), 7.0), snap(utc(2026, 3, 12, 9), 8.0, vol=3.0)])
    apply(lake, F1, snaps=[snap(utc(2026, 3, 13, 8), 9.0)])
    d13 = gold(lake, "gold.coin_daily")[date(2026, 3, 13)]
    assert (d13["open"], d13["close"], d13["source"], d13["observations"]) == (9.0, 9.0, "snapshot", 1)
    apply(lake, F1, chart=[pt(utc(2026, 3, 11), 6.0, "daily"), pt(utc(2026, 3, 12), 6.5, "daily")])
    d = gold(lake, "gold.coin_daily")[date(2026, 3, 12)]
    assert (d["open"], d["high"], d["low"], d["close"], d["volume"], d["source"]) == (
        6.5,
        8.0,
        6.5,
        8.0,
        3.0,
        "daily",
    )
    before = {n: lake.content_hash(n) for n in ("gold.coin_daily", "gold.coin_aggregates")}
    lake.drop_layers(("silver", "gold"))
    rebuild_all(lake)
    assert {n: lake.content_hash(n) for n in before} == before
