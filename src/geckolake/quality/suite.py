"""The checks declared for each table: which check kinds apply where, with which thresholds.

Key checks are derived from the table definitions (:mod:`geckolake.lake.tables`); the rest are
declared here per table. The kinds themselves are in :mod:`geckolake.quality.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from geckolake.lake.tables import all_tables
from geckolake.quality.checks import (
    Accepted,
    Check,
    DailyGaps,
    DriftNotRecovered,
    Fresh,
    InRange,
    NotNull,
    Ordered,
    PriceMatchesHistory,
    References,
    RowCountAnomaly,
    Unique,
)


def _market_checks() -> list[Check]:
    t = "silver.market_snapshots"
    return [
        NotNull(t, "not_null_key", columns=("coin_id", "vs_currency", "snapshot_ts")),
        InRange(t, "price_non_negative", column="current_price", min=0),
        InRange(t, "market_cap_non_negative", column="market_cap", min=0),
        InRange(t, "volume_non_negative", column="total_volume", min=0),
        References(t, "coin_known"),
        Fresh(t, "freshness", ts_column="snapshot_ts", minutes=15),
        RowCountAnomaly(t, "row_count"),
        PriceMatchesHistory(t, "price_matches_history"),
    ]


# Correlations are computed in floating point: allow rounding just past ±1.
_CORR_SLACK = 1e-9


def _live_price_checks() -> list[Check]:
    t = "silver.live_prices"
    return [
        NotNull(t, "not_null_key", columns=("coin_id", "vs_currency", "last_updated_at")),
        InRange(t, "price_non_negative", column="price", min=0),
        InRange(t, "market_cap_non_negative", column="market_cap", min=0),
        InRange(t, "volume_non_negative", column="vol_24h", min=0),
        References(t, "coin_known"),
        # only when the prices job runs: an empty table (job off) passes
        Fresh(t, "freshness", ts_column="last_updated_at", minutes=10, severity="warn", optional=True),
    ]


def _analytics_checks() -> dict[str, list[Check]]:
    """Invariants of the analytics tables (formulas in docs/metrics.md); a failure means a bug, not bad input."""
    risk = "gold.coin_risk"
    market = "gold.market_daily"
    movers = "gold.top_movers"
    corr = "gold.correlations"
    fc = "gold.price_forecasts"
    bt = "gold.forecast_backtests"
    return {
        risk: [
            *(InRange(risk, f"{c}_non_negative", column=c, min=0) for c in ("vol_7d", "vol_30d", "vol_90d")),
            *(
                InRange(risk, f"{c}_in_range", column=c, min=-1, max=0)
                for c in ("max_drawdown_90d", "max_drawdown_365d")
            ),
            InRange(risk, "corr_btc_in_range", column="corr_btc_90d", min=-1 - _CORR_SLACK, max=1 + _CORR_SLACK),
            # simple returns are ≥ −1, so a loss is at most 1; ES averages the tail beyond VaR
            InRange(risk, "var_at_most_total_loss", column="var_95_1d", max=1),
            Ordered(risk, "var_within_es", columns=("var_95_1d", "es_95_1d"), tolerance=1e-9),
            # a positive 5th-worst return over 90 days (only gains) gives a negative VaR: odd, not wrong
            InRange(risk, "var_non_negative", column="var_95_1d", min=0, severity="warn"),
            InRange(risk, "es_non_negative", column="es_95_1d", min=0, severity="warn"),
        ],
        market: [
            NotNull(market, "not_null_key", columns=("vs_currency", "date")),
            InRange(market, "total_market_cap_non_negative", column="total_market_cap", min=0),
            InRange(market, "total_volume_non_negative", column="total_volume", min=0),
            InRange(market, "btc_dominance_fraction", column="btc_dominance", min=0, max=1),
            InRange(market, "eth_dominance_fraction", column="eth_dominance", min=0, max=1),
            InRange(market, "stablecoin_share_fraction", column="stablecoin_share", min=0, max=1, severity="warn"),
            InRange(market, "index_level_positive", column="index_level", min=0),
            Accepted(market, "totals_source_accepted", column="totals_source", values=("global", "summed")),
        ],
        movers: [
            Accepted(movers, "horizon_accepted", column="horizon", values=("1d", "7d", "30d")),
            Accepted(movers, "direction_accepted", column="direction", values=("top", "bottom")),
            InRange(movers, "period_return_at_least_total_loss", column="period_return", min=-1),
            References(movers, "coin_known"),
        ],
        corr: [
            InRange(corr, "corr_in_range", column="corr", min=-1 - _CORR_SLACK, max=1 + _CORR_SLACK),
            Accepted(corr, "window_accepted", column="window_days", values=("30", "90")),
        ],
        "gold.category_daily": [
            InRange("gold.category_daily", "market_cap_non_negative", column="market_cap", min=0),
            InRange("gold.category_daily", "volume_non_negative", column="volume", min=0),
        ],
        fc: [
            InRange(fc, "lo_95_positive", column="lo_95", min=0),
            Ordered(fc, "bands_around_point", columns=("lo_95", "lo_80", "point", "hi_80", "hi_95"), tolerance=1e-9),
            InRange(fc, "horizon_in_range", column="horizon", min=1, max=30),
            References(fc, "coin_known"),
            # fitted by the daily forecast job (not by runs): stale means that job stopped; empty = never set up
            Fresh(fc, "freshness", ts_column="run_date", minutes=48 * 60, severity="warn", optional=True),
        ],
        bt: [
            *(InRange(bt, f"{c}_fraction", column=c, min=0, max=1) for c in ("coverage_80", "coverage_95")),
            InRange(bt, "mape_non_negative", column="mape", min=0),
            InRange(bt, "smape_in_range", column="smape", min=0, max=2),
            InRange(bt, "mase_non_negative", column="mase", min=0),
        ],
    }


CHECKS: dict[str, list[Check]] = {
    "bronze.coins_markets": [
        # scoped to the run: bronze is append-only and keeps what was received for audit
        Unique(
            "bronze.coins_markets",
            "unique_coin_per_response",
            key=("_raw_sha256", "coin_id", "vs_currency"),
            scoped=True,
        ),
    ],
    "silver.coins": [
        NotNull("silver.coins", "not_null_key", columns=("coin_id",)),
        Accepted("silver.coins", "name_source_accepted", column="name_source", values=("markets", "list")),
    ],
    "silver.market_snapshots": _market_checks(),
    "silver.price_history": [
        NotNull("silver.price_history", "not_null_key", columns=("coin_id", "vs_currency", "ts", "granularity")),
        InRange("silver.price_history", "price_non_negative", column="price", min=0),
        Accepted(
            "silver.price_history", "granularity_accepted", column="granularity", values=("5m", "hourly", "daily")
        ),
        References("silver.price_history", "coin_known"),
        Fresh("silver.price_history", "freshness", ts_column="ts", minutes=26 * 60),
        DailyGaps("silver.price_history", "daily_gaps"),
        # every granularity carries the three series; a body without one is quarantined whole, so a
        # null here is a point CoinGecko sent without a value (or a series missing that timestamp)
        NotNull(
            "silver.price_history",
            "series_not_null",
            columns=("price", "market_cap", "total_volume"),
            severity="warn",
        ),
    ],
    "silver.live_prices": _live_price_checks(),
    # Schema drift (docs/bronze.md, "Required parts"): not gating (ops), but an error keeps `status`
    # unhealthy until the planner's next fetch of the call lands complete.
    "ops.raw_manifest": [
        DriftNotRecovered("ops.raw_manifest", "required_parts_missing", gating=False),
        DriftNotRecovered(
            "ops.raw_manifest", "documented_fields_missing", pattern="missing: %", severity="warn", gating=False
        ),
    ],
    "silver.sparkline_prices": [
        InRange("silver.sparkline_prices", "price_non_negative", column="price", min=0),
    ],
    "silver.global_market": [
        InRange("silver.global_market", "btc_dominance_pct", column="btc_dominance", min=0, max=100),
        # /global comes with the extras; an empty table means they are off (GECKOLAKE_EXTRAS=false)
        Fresh(
            "silver.global_market", "freshness", ts_column="updated_at", minutes=24 * 60, severity="warn", optional=True
        ),
    ],
    "silver.trending": [
        Accepted("silver.trending", "item_type_accepted", column="item_type", values=("coin", "nft", "category")),
    ],
    "gold.coin_aggregates": [
        InRange("gold.coin_aggregates", "min_price_non_negative", column="min_price", min=0),
    ],
    "gold.coin_daily": [
        InRange("gold.coin_daily", "low_non_negative", column="low", min=0),
        Accepted("gold.coin_daily", "source_accepted", column="source", values=("intraday", "daily", "snapshot")),
    ],
    **_analytics_checks(),
}


def key_checks() -> dict[str, list[Check]]:
    """A ``unique_key`` error check for every silver and gold table with a declared key (tables.py)."""
    return {
        name: [Unique(name, "unique_key", key=d.key)]
        for name, d in all_tables().items()
        if d.namespace in ("silver", "gold") and d.key
    }


def checks_for(tables: Sequence[str] | None = None) -> list[Check]:
    """Key checks plus declared checks, of ``tables`` (full names or layers such as ``silver``) or all."""
    merged = key_checks()
    for table, checks in CHECKS.items():
        merged.setdefault(table, [])
        merged[table] = merged[table] + checks
    out: list[Check] = []
    for table, checks in merged.items():
        if tables is None or any(table == t or table.split(".")[0] == t for t in tables):
            out += checks
    return out
