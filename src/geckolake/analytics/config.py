"""Analytics settings: universe sizes, windows and forecasting knobs, with small defaults."""

from __future__ import annotations

from dataclasses import dataclass

# USD-pegged stablecoins known by id; a coin whose close stayed within 2% of 1 USD for 30 days is
# treated as one too (see docs/metrics.md, gold.market_daily).
KNOWN_STABLECOINS: frozenset[str] = frozenset(
    {
        "tether",
        "usd-coin",
        "dai",
        "first-digital-usd",
        "ethena-usde",
        "true-usd",
        "paypal-usd",
        "frax",
        "usds",
        "binance-usd",
        "paxos-standard",
        "gemini-dollar",
        "usdd",
        "liquity-usd",
    }
)


@dataclass(frozen=True)
class AnalyticsConfig:
    """What the analytics compute; every field has a documented default."""

    risk_free_rate: float = 0.0  # annual, for Sharpe (daily rate = annual / 365)
    index_size: int = 10  # constituents of the market-cap-weighted index
    movers_universe: int = 50  # top N by market cap among which movers are ranked
    movers_count: int = 10  # rows per (day, horizon, direction)
    correlation_coins: int = 20  # top N by market cap whose pairwise correlations are kept
    forecast_coins: int = 10  # top N by market cap that get forecasts and backtests
    forecast_models: tuple[str, ...] = ("naive", "auto_ets", "auto_theta")
    forecast_horizon: int = 30  # days
    backtest_folds: int = 6  # rolling origins
    backtest_step: int = 7  # days between origins
    train_days: int = 365  # most recent closes a model is fitted on
    min_train_days: int = 60  # fewer contiguous closes: no forecast for the coin
    stablecoins: frozenset[str] = KNOWN_STABLECOINS
