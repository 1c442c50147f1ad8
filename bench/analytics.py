"""Gold analytics: full rebuild for 1,000 coins x 2 years of daily history, forecasts for the top 100.

    python -m bench.analytics [coins] [days] [forecast_coins]

gold.coin_daily is written directly (random-walk closes, returns computed as coin_daily_returns.sql
does), then ``refresh_analytics(full=True)`` is timed without forecasts (coin_risk, market_daily,
top_movers, correlations, category_daily), and forecasts + backtests of the top N apart.
Aims (issue 4): rebuild < 30 s, forecasts < 60 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.common import emit, peak_rss_mb


def coin_daily(coins: int, days: int) -> pa.Table:
    rng = np.random.default_rng(1)
    first = date(2024, 1, 1)
    dates = [first + timedelta(days=i) for i in range(days)]
    cols: dict[str, list[object]] = {k: [] for k in ("coin_id", "date", "close", "market_cap", "return_1d", "lr")}
    for c in range(coins):
        lr = rng.normal(0, 0.03 + 0.03 * (c % 5) / 5, days)
        close = 10 ** rng.uniform(-2, 4) * np.exp(np.cumsum(lr))
        cap = close * 10 ** rng.uniform(6, 9)
        ret = np.r_[np.nan, close[1:] / close[:-1] - 1]
        lrs = np.r_[np.nan, np.log(close[1:] / close[:-1])]
        cols["coin_id"] += ["bitcoin" if c == 0 else f"coin-{c:04d}"] * days
        cols["date"] += dates
        cols["close"] += close.tolist()
        cols["market_cap"] += cap.tolist()
        cols["return_1d"] += ret.tolist()
        cols["lr"] += lrs.tolist()
    n = coins * days
    close_arr = pa.array(cols["close"], pa.float64())
    return pa.table(
        {
            "coin_id": cols["coin_id"],
            "vs_currency": ["usd"] * n,
            "date": pa.array(cols["date"], pa.date32()),
            "open": close_arr,
            "high": close_arr,
            "low": close_arr,
            "close": close_arr,
            "volume": pa.array(np.array(cols["market_cap"]) / 50),
            "market_cap": pa.array(cols["market_cap"], pa.float64()),
            "market_cap_rank": pa.nulls(n, pa.int64()),
            "return_1d": pa.array(cols["return_1d"], pa.float64(), from_pandas=True),
            "log_return_1d": pa.array(cols["lr"], pa.float64(), from_pandas=True),
            "quality": ["ok"] * n,
            "source": ["daily"] * n,
            "observations": pa.array([2] * n, pa.int64()),
            "month": [d.strftime("%Y-%m") for d in cols["date"]],  # type: ignore[attr-defined]
        }
    )


def main(argv: list[str]) -> None:
    from geckolake.analytics.forecast.run import forecast_tables
    from geckolake.analytics.refresh import refresh_analytics
    from geckolake.analytics.series import iter_series, load_daily
    from geckolake.config import AnalyticsSettings
    from geckolake.lake.catalog import open_lake

    coins, days, top = (int(a) for a in (argv + ["1000", "730", "100"][len(argv) :]))
    with tempfile.TemporaryDirectory() as tmp:
        lake = open_lake(Path(tmp) / "lake")
        lake.replace("gold.coin_daily", coin_daily(coins, days))
        started = time.perf_counter()
        rows = refresh_analytics(lake, full=True, forecasts=False)
        rebuild = time.perf_counter() - started
        emit("analytics", "full_rebuild_seconds", rebuild, "s", coins=coins, days=days, rows=rows)
        last = date(2024, 1, 1) + timedelta(days=days - 1)
        started = time.perf_counter()
        rows = refresh_analytics(lake, since=last, forecasts=False)
        emit("analytics", "daily_refresh_seconds", time.perf_counter() - started, "s", coins=coins, days=days)
        series = list(iter_series(load_daily(lake, None)))
        started = time.perf_counter()
        fc, bt = forecast_tables(series, AnalyticsSettings(forecast_coins=top))
        emit(
            "analytics",
            "forecast_seconds",
            time.perf_counter() - started,
            "s",
            coins=top,
            forecast_rows=len(fc),
            backtest_rows=len(bt),
            note="includes the statsforecast import (~5 s)",
        )
        emit("analytics", "peak_rss", peak_rss_mb(), "MiB", coins=coins, days=days)


if __name__ == "__main__":
    main(sys.argv[1:])
