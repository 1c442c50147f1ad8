"""gold.coin_daily completed: market_cap_rank, return_1d, log_return_1d and quality."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from tests.unit.analytics.builders import daily_points, snapshot, write

from geckolake.lake.catalog import Lake
from geckolake.transform.runner import rebuild_all

D = [date(2025, 3, d) for d in range(1, 9)]
# midnight daily points (the point at D+1 00:00 is D's close); 3/4 missing, the coin dies on 3/6
PRICES = {D[0]: 100.0, D[1]: 110.0, D[2]: 99.0, D[4]: 50.0, D[5]: 0.0, D[6]: 0.0}


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


def rows(lake: Lake, coin: str | None = None) -> dict[date, dict[str, object]]:
    return {r["date"]: r for r in lake.read("gold.coin_daily").to_pylist() if coin in (None, r["coin_id"])}


def test_hand_computed_returns_and_quality(lake: Lake) -> None:
    write(
        lake,
        points=daily_points("x", PRICES),
        snaps=[snapshot("x", datetime(2025, 3, 2, 12, tzinfo=UTC), 105.0, 1e9, rank=3)],
    )
    got = rows(lake)
    assert sorted(got) == [D[0], D[1], D[2], D[4], D[5], D[6]]
    # 3/1: first day (no previous row)
    assert (got[D[0]]["close"], got[D[0]]["return_1d"], got[D[0]]["quality"]) == (110.0, None, "gap")
    # 3/2: close 99 (the 3/3 midnight point), previous close 110; the snapshot gives the rank
    d = got[D[1]]
    assert d["close"] == 99.0 and d["market_cap_rank"] == 3 and d["quality"] == "ok"
    assert math.isclose(d["return_1d"], 99 / 110 - 1) and math.isclose(d["log_return_1d"], math.log(0.9))
    # 3/3: one point only, and 3/4 is missing: the end of 3/3 was never seen, so its close is provisional
    assert (got[D[2]]["return_1d"], got[D[2]]["observations"], got[D[2]]["quality"]) == (0.0, 1, "provisional")
    assert got[D[2]]["market_cap_rank"] is None
    # 3/5: after the hole: no return
    assert (got[D[4]]["return_1d"], got[D[4]]["log_return_1d"], got[D[4]]["quality"]) == (None, None, "gap")
    # 3/6: previous close 0 (the coin died on the 3/6 midnight point): no return at all
    assert got[D[4]]["close"] == 0.0
    assert (got[D[5]]["return_1d"], got[D[5]]["log_return_1d"], got[D[5]]["quality"]) == (None, None, "zero_price")


def test_a_day_is_provisional_until_its_closing_midnight_arrives(lake: Lake) -> None:
    # a run at 3/2 14:00: 3/1 closed by the 3/2 midnight point, 3/2 holds only a live price
    write(lake, points=daily_points("p", {D[0]: 10.0, D[1]: 11.0}), snaps=[snapshot("p", at(D[1], 14), 12.0, 1e9)])
    got = rows(lake)
    assert (got[D[0]]["quality"], got[D[1]]["quality"], got[D[1]]["close"]) == ("gap", "provisional", 12.0)
    write(lake, points=daily_points("q", {D[1]: 3.0}))  # a coin first seen today: provisional, not gap
    first = [r for r in lake.read("gold.coin_daily").to_pylist() if r["coin_id"] == "q"]
    assert [(r["date"], r["quality"]) for r in first] == [(D[1], "provisional")]
    # the next run brings the 3/3 midnight point: 3/2 is closed, 3/3 is the new provisional day
    write(lake, points=daily_points("p", {D[2]: 12.5}))
    got = rows(lake, "p")
    assert (got[D[1]]["quality"], got[D[1]]["close"], got[D[2]]["quality"]) == ("ok", 12.5, "provisional")
    before = lake.content_hash("gold.coin_daily")
    rebuild_all(lake)
    assert lake.content_hash("gold.coin_daily") == before


def test_a_snapshot_only_day_closes_with_the_next_days_first_snapshot_across_a_month(lake: Lake) -> None:
    write(
        lake,
        snaps=[snapshot("s", at(date(2025, 1, 30), 12), 5.0, 1e8), snapshot("s", at(date(2025, 1, 31), 9), 5.5, 1e8)],
    )
    assert rows(lake)[date(2025, 1, 31)]["quality"] == "provisional"
    write(lake, snaps=[snapshot("s", at(date(2025, 2, 1), 0, 5), 5.6, 1e8)])
    got = rows(lake)
    assert (got[date(2025, 1, 31)]["quality"], got[date(2025, 2, 1)]["quality"]) == ("single_point", "provisional")
    before = lake.content_hash("gold.coin_daily")
    rebuild_all(lake)
    assert lake.content_hash("gold.coin_daily") == before


def test_fall_to_zero_is_minus_one_without_log_return(lake: Lake) -> None:
    write(lake, points=daily_points("y", {D[0]: 4.0, D[1]: 2.0, D[2]: 0.0}))
    got = rows(lake)
    # closes: 3/1 = 2 (the 3/2 point), 3/2 = 0 (the 3/3 point), 3/3 = 0 (its own point)
    assert (got[D[0]]["close"], got[D[0]]["return_1d"], got[D[0]]["quality"]) == (2.0, None, "gap")
    assert (got[D[1]]["return_1d"], got[D[1]]["log_return_1d"], got[D[1]]["quality"]) == (-1.0, None, "zero_price")
    # 3/3 is the last day: provisional first (its close may still change)
    assert (got[D[2]]["return_1d"], got[D[2]]["log_return_1d"], got[D[2]]["quality"]) == (None, None, "provisional")


def test_late_batch_fills_a_hole_and_matches_rebuild(lake: Lake) -> None:
    write(lake, points=daily_points("x", {d: p for d, p in PRICES.items() if d < D[3]}))
    write(lake, points=daily_points("x", {d: p for d, p in PRICES.items() if d > D[3]}))
    assert rows(lake)[D[4]]["quality"] == "gap"
    # the missing 3/4 point arrives: 3/3 gets its close, 3/4 a row, 3/5 its return
    write(lake, points=daily_points("x", {D[3]: 80.0}))
    got = rows(lake)
    assert (got[D[2]]["close"], got[D[2]]["quality"]) == (80.0, "ok")
    assert math.isclose(got[D[3]]["return_1d"], 50 / 80 - 1)
    assert (got[D[4]]["return_1d"], got[D[4]]["quality"]) == (-1.0, "zero_price")
    before = lake.content_hash("gold.coin_daily")
    rebuild_all(lake)
    assert lake.content_hash("gold.coin_daily") == before


def test_returns_cross_a_month_boundary_incrementally(lake: Lake) -> None:
    write(lake, points=daily_points("z", {date(2025, 1, 30): 10.0, date(2025, 1, 31): 12.0}))
    write(lake, points=daily_points("z", {date(2025, 2, 1): 15.0, date(2025, 2, 2): 30.0}))
    got = rows(lake)
    # 1/31's close is the 2/1 point (15); 2/1's close is 30
    assert got[date(2025, 1, 31)]["close"] == 15.0
    assert math.isclose(got[date(2025, 2, 1)]["return_1d"], 30 / 15 - 1)
    before = lake.content_hash("gold.coin_daily")
    rebuild_all(lake)
    assert lake.content_hash("gold.coin_daily") == before
