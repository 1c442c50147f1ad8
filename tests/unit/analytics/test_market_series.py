"""gold.market_daily keeps one source per column: no day-to-day jump where /global starts or stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from geckolake.analytics.market import market_daily
from geckolake.config import AnalyticsSettings

START = date(2025, 3, 1)
DAYS = 40
COINS = (("bitcoin", 1.2e12, 0.002), ("ethereum", 4e11, 0.003), ("tether", 1.1e11, 0.0), ("altcoin", 5e10, -0.001))
SMOOTH = ("covered_market_cap", "covered_volume", "btc_dominance", "eth_dominance", "stablecoin_share")


def coin_days() -> pa.Table:
    """Four coins whose caps drift smoothly (0.1-0.3 % a day): any jump comes from a source switch."""
    rows = []
    for coin_id, cap, drift in COINS:
        for i in range(DAYS):
            close = 1.0 if coin_id == "tether" else 100.0 * (1 + drift) ** i
            rows.append(
                {"coin_id": coin_id, "vs_currency": "usd", "date": START + timedelta(days=i), "close": close}
                | {"market_cap": cap * (1 + drift) ** i, "volume": cap * 0.03, "return_1d": drift}
                | {"log_return_1d": float(np.log1p(drift)), "quality": "provisional" if i == DAYS - 1 else "ok"}
            )
    table = pa.Table.from_pylist(rows)
    return table.sort_by([("vs_currency", "ascending"), ("coin_id", "ascending"), ("date", "ascending")])


def global_snapshots(days: list[int], covered_ratio: float) -> pa.Table:
    """/global snapshots on the given days, totals ``covered_ratio`` times the covered sum (more coins)."""
    money = pa.map_(pa.string(), pa.float64())
    total = 1.2e12 + 4e11 + 1.1e11 + 5e10
    return pa.table(
        {
            "updated_at": pa.array(
                [
                    datetime.combine(START + timedelta(days=d), datetime.min.time(), UTC) + timedelta(hours=20)
                    for d in days
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "total_market_cap": pa.array([[("usd", total * covered_ratio)] for _ in days], money),
            "total_volume": pa.array([[("usd", total * 0.05)] for _ in days], money),
            "market_cap_percentage": pa.array([[("btc", 40.0), ("eth", 15.0)] for _ in days], money),
        }
    )


def largest_jump(values: list[float]) -> float:
    v = np.array(values, dtype=float)
    return float(np.max(np.abs(np.diff(v) / v[:-1])))


def test_no_column_jumps_when_global_is_fetched_only_on_the_last_day() -> None:
    # issue 17: /global's totals on the last day, sums over the held coins before: the series jumped
    out = market_daily(coin_days(), global_snapshots([DAYS - 1], 1.16), START, {}, AnalyticsSettings()).to_pydict()
    for name in SMOOTH:
        assert largest_jump(out[name]) < 0.01, name  # the coins drift by at most 0.3 % a day
    assert out["totals_source"] == [None] * (DAYS - 1) + ["global"]
    assert out["total_market_cap"][:-1] == [None] * (DAYS - 1) and out["total_market_cap"][-1] > 0
    assert out["total_volume"][:-1] == [None] * (DAYS - 1)
    assert out["provisional_coins"] == [0] * (DAYS - 1) + [len(COINS)]  # the last day used live prices


def test_total_market_cap_comes_from_global_on_every_day_it_was_fetched() -> None:
    out = market_daily(coin_days(), global_snapshots(list(range(DAYS)), 1.16), START, {}, AnalyticsSettings())
    totals = out["total_market_cap"].to_pylist()
    assert None not in totals and largest_jump(totals) == 0.0
    covered = out["covered_market_cap"].to_pylist()
    np.testing.assert_allclose(np.array(totals) / np.array(covered), 1.16 * covered[0] / np.array(covered), rtol=1e-12)
