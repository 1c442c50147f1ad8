"""silver.live_prices: poll merges keep every price point, the latest fetch wins, and equal one rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from geckolake.lake.catalog import Lake
from geckolake.lake.testing import bronze_batch
from geckolake.transform.live_prices import BRONZE, SILVER, merge_live_prices, rebuild_live_prices

T0 = datetime(2026, 1, 31, 23, 58, tzinfo=UTC)  # polls straddle a day and a month boundary


def price(coin: str, updated: datetime, value: float) -> dict[str, Any]:
    return {"coin_id": coin, "vs_currency": "usd", "price": value, "last_updated_at": updated}


def poll(minute: int, rows: list[dict[str, Any]]) -> pa.Table:
    return bronze_batch("simple_price", rows, fetched_at=T0 + timedelta(minutes=minute), run_id=f"poll-{minute}")


POLLS = [
    poll(0, [price("bitcoin", T0, 100.0), price("ethereum", T0, 10.0)]),
    # the same point fetched again with a corrected price: the later fetch wins
    poll(1, [price("bitcoin", T0, 101.0), price("ethereum", T0 + timedelta(minutes=1), 11.0)]),
    poll(3, [price("bitcoin", T0 + timedelta(minutes=3), 102.0)]),  # next day, next month
]


def content(lake: Lake) -> list[tuple[Any, ...]]:
    rows = lake.read(SILVER).select(["coin_id", "last_updated_at", "price", "date", "_run_id"]).to_pylist()
    return sorted(tuple(r.values()) for r in rows)


def test_merging_poll_by_poll_equals_one_rebuild(lake: Lake) -> None:
    merged = []
    for batch in POLLS:
        lake.append(BRONZE, batch)
        merged.append(merge_live_prices(lake))
    assert merged == [2, 3, 3]  # keys merged: the previous poll's rows are taken again (fetched >= newest)
    by_poll = content(lake)
    assert [(r[0], r[2]) for r in by_poll] == [
        ("bitcoin", 101.0),
        ("bitcoin", 102.0),
        ("ethereum", 10.0),
        ("ethereum", 11.0),
    ]
    assert rebuild_live_prices(lake) == 4
    assert content(lake) == by_poll


def test_a_poll_whose_merge_never_ran_is_merged_by_the_next(lake: Lake) -> None:
    lake.append(BRONZE, POLLS[0])
    merge_live_prices(lake)
    lake.append(BRONZE, POLLS[1])  # killed after its bronze commit
    lake.append(BRONZE, POLLS[2])
    assert merge_live_prices(lake) == 4
    assert merge_live_prices(lake) == 1  # the newest fetch is merged again: same content
    lake_rows = content(lake)
    rebuild_live_prices(lake)
    assert content(lake) == lake_rows


def test_nothing_to_merge_or_rebuild_writes_nothing(lake: Lake) -> None:
    assert merge_live_prices(lake) == 0
    assert rebuild_live_prices(lake) == 0
    assert lake.read(SILVER).num_rows == 0
