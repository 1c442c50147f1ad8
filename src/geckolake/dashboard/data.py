"""The dashboard's reads: one function per panel, each a bounded SELECT through the public API.

Every function takes the lake folder and returns a pandas DataFrame (empty when the table is empty
or the lake holds nothing yet), so the pages only draw and the functions are tested without a
browser. Nothing here writes or locks: reads go through :func:`geckolake.flows.read.query`, which
sees whole Iceberg snapshots while a run commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from geckolake.errors import LakeError
from geckolake.flows.read import query, tables
from geckolake.lake.sql import quote_literal

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from geckolake.config import Settings

# The lake: the dashboard's settings (location + catalog), or a bare location.
LakeRef: TypeAlias = "Settings | Path | str"

# Bounds: a page reads at most this much, whatever the lake's size.
MAX_DAYS = 365
MAX_COINS = 1000
MAX_RUNS = 500


def filled_tables(settings: Settings) -> dict[str, int]:
    """Each table's row count; empty when there is no lake at ``settings.lake`` yet."""
    try:
        return {t.name: t.rows for t in tables(settings)}
    except LakeError:
        return {}


def _frame(lake: LakeRef, sql: str) -> pd.DataFrame:
    return query(sql, lake).to_pandas()


def _lit(value: str) -> str:
    return quote_literal(value)


# --- Market ---------------------------------------------------------------------------------------


def market_daily(lake: LakeRef, currency: str, days: int = MAX_DAYS) -> pd.DataFrame:
    """Totals, dominance, stablecoin share, breadth and the index per day (last ``days`` days).

    ``total_*`` are CoinGecko's ``/global`` figures (null on days without a snapshot); ``covered_*``
    the sums over the coins the lake holds (every day), the base of dominance and stablecoin share.
    """
    return _frame(
        lake,
        f"""SELECT date, total_market_cap, total_volume, totals_source, covered_market_cap, covered_volume,
                   btc_dominance, eth_dominance,
                   stablecoin_share, coins, advancers, decliners, unchanged, index_level, index_return
            FROM gold.market_daily
            WHERE vs_currency = {_lit(currency)}
              AND date > (SELECT max(date) FROM gold.market_daily WHERE vs_currency = {_lit(currency)}) - {int(days)}
            ORDER BY date""",
    )


def top_movers(lake: LakeRef, currency: str, horizon: str) -> pd.DataFrame:
    """The latest day's best and worst ``horizon`` ('1d', '7d', '30d') returns in the top-50 universe."""
    return _frame(
        lake,
        f"""SELECT m.date, m.direction, m.position, m.coin_id, coalesce(c.name, m.coin_id) AS name,
                   m.period_return, m.universe_rank
            FROM gold.top_movers m LEFT JOIN silver.coins c USING (coin_id)
            WHERE m.vs_currency = {_lit(currency)} AND m.horizon = {_lit(horizon)}
              AND m.date = (SELECT max(date) FROM gold.top_movers
                            WHERE vs_currency = {_lit(currency)} AND horizon = {_lit(horizon)})
            ORDER BY m.direction DESC, m.position
            LIMIT 100""",
    )


def categories(lake: LakeRef, limit: int = 25) -> pd.DataFrame:
    """The latest day's largest categories by market cap, with their 24 h return (USD)."""
    return _frame(
        lake,
        f"""SELECT date, category_id, name, market_cap, volume, return_1d
            FROM gold.category_daily
            WHERE date = (SELECT max(date) FROM gold.category_daily)
            ORDER BY market_cap DESC NULLS LAST
            LIMIT {int(limit)}""",
    )


# --- Coin -----------------------------------------------------------------------------------------


def coins(lake: LakeRef, currency: str, limit: int = MAX_COINS) -> pd.DataFrame:
    """Coins with daily rows, largest market cap first (the coin picker)."""
    return _frame(
        lake,
        f"""SELECT d.coin_id, coalesce(any_value(c.name), d.coin_id) AS name, any_value(c.symbol) AS symbol,
                   arg_max(d.market_cap, d.date) AS market_cap
            FROM gold.coin_daily d LEFT JOIN silver.coins c USING (coin_id)
            WHERE d.vs_currency = {_lit(currency)}
            GROUP BY d.coin_id
            ORDER BY market_cap DESC NULLS LAST, d.coin_id
            LIMIT {int(limit)}""",
    )


def coin_daily(lake: LakeRef, currency: str, coin_id: str, days: int = MAX_DAYS) -> pd.DataFrame:
    """One coin's daily candles, volume, market cap, rank and returns (last ``days`` days)."""
    return _frame(
        lake,
        f"""SELECT date, open, high, low, close, volume, market_cap, market_cap_rank, return_1d, quality, source
            FROM gold.coin_daily
            WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
              AND date > (SELECT max(date) FROM gold.coin_daily) - {int(days)}
            ORDER BY date""",
    )


def forecast(lake: LakeRef, currency: str, coin_id: str) -> pd.DataFrame:
    """The coin's latest forecast: every model and horizon with its 80/95 % band."""
    return _frame(
        lake,
        f"""SELECT run_date, model, horizon, target_date, point, lo_80, hi_80, lo_95, hi_95, last_close
            FROM gold.price_forecasts
            WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
              AND run_date = (SELECT max(run_date) FROM gold.price_forecasts
                              WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)})
            ORDER BY model, horizon
            LIMIT 200""",
    )


def backtest_scores(lake: LakeRef, currency: str, coin_id: str) -> pd.DataFrame:
    """Each model's backtest of the latest run date, averaged over horizons (MASE, coverage, beats naive)."""
    return _frame(
        lake,
        f"""SELECT model, max(folds) AS folds, avg(mase) AS mase, avg(smape) AS smape,
                   avg(coverage_80) AS coverage_80, avg(coverage_95) AS coverage_95,
                   avg(CAST(beats_naive AS DOUBLE)) AS beats_naive_share
            FROM gold.forecast_backtests
            WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
              AND run_date = (SELECT max(run_date) FROM gold.forecast_backtests
                              WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)})
            GROUP BY model
            ORDER BY mase""",
    )


def backtest_by_horizon(lake: LakeRef, currency: str, coin_id: str) -> pd.DataFrame:
    """Each model's backtest of the latest run date per horizon (MASE and coverage)."""
    return _frame(
        lake,
        f"""SELECT model, horizon, mase, coverage_80, coverage_95, beats_naive
            FROM gold.forecast_backtests
            WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
              AND run_date = (SELECT max(run_date) FROM gold.forecast_backtests
                              WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)})
            ORDER BY model, horizon
            LIMIT 200""",
    )


def coin_risk(lake: LakeRef, currency: str, coin_id: str, days: int = MAX_DAYS) -> pd.DataFrame:
    """The coin's risk measures per day (volatility, drawdown, Sharpe, beta/correlation to BTC, VaR/ES)."""
    return _frame(
        lake,
        f"""SELECT date, vol_30d, vol_90d, max_drawdown_90d, max_drawdown_365d, sharpe_90d, beta_btc_90d,
                   corr_btc_90d, var_95_1d, es_95_1d
            FROM gold.coin_risk
            WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
              AND date > (SELECT max(date) FROM gold.coin_risk) - {int(days)}
            ORDER BY date""",
    )


def live_prices(lake: LakeRef, currency: str, coin_id: str, limit: int = 500) -> pd.DataFrame:
    """The coin's latest live quotes from the prices job (``silver.live_prices``), oldest first."""
    return _frame(
        lake,
        f"""SELECT * FROM (
                SELECT last_updated_at, price, vol_24h, change_24h FROM silver.live_prices
                WHERE vs_currency = {_lit(currency)} AND coin_id = {_lit(coin_id)}
                ORDER BY last_updated_at DESC LIMIT {int(limit)}
            ) ORDER BY last_updated_at""",
    )


# --- Risk & correlations --------------------------------------------------------------------------


def risk_table(lake: LakeRef, currency: str, limit: int = 100) -> pd.DataFrame:
    """The latest day's risk measures of the largest ``limit`` coins, with their annualised 90-day return."""
    return _frame(
        lake,
        f"""WITH last AS (SELECT max(date) AS d FROM gold.coin_risk WHERE vs_currency = {_lit(currency)}),
            ret AS (
                SELECT coin_id, avg(log_return_1d) * 365 AS return_90d_ann, count(log_return_1d) AS days
                FROM gold.coin_daily, last
                WHERE vs_currency = {_lit(currency)} AND date > last.d - 90 AND date <= last.d
                GROUP BY coin_id
            )
            SELECT r.coin_id, coalesce(c.name, r.coin_id) AS name, d.market_cap, d.market_cap_rank,
                   r.vol_30d, r.vol_90d, ret.return_90d_ann, r.sharpe_90d, r.max_drawdown_90d,
                   r.beta_btc_90d, r.corr_btc_90d, r.var_95_1d, r.es_95_1d
            FROM gold.coin_risk r
            JOIN last ON r.date = last.d
            JOIN gold.coin_daily d ON d.coin_id = r.coin_id AND d.vs_currency = r.vs_currency AND d.date = r.date
            LEFT JOIN ret ON ret.coin_id = r.coin_id
            LEFT JOIN silver.coins c ON c.coin_id = r.coin_id
            WHERE r.vs_currency = {_lit(currency)}
            ORDER BY d.market_cap DESC NULLS LAST, r.coin_id
            LIMIT {int(limit)}""",
    )


def correlations(lake: LakeRef, currency: str, window_days: int) -> pd.DataFrame:
    """The latest day's pairwise correlations over ``window_days`` (30 or 90) of the top coins (long form)."""
    return _frame(
        lake,
        f"""SELECT date, coin_a, coin_b, corr
            FROM gold.correlations
            WHERE vs_currency = {_lit(currency)} AND window_days = {int(window_days)}
              AND date = (SELECT max(date) FROM gold.correlations
                          WHERE vs_currency = {_lit(currency)} AND window_days = {int(window_days)})
            LIMIT 2500""",
    )


# --- Pipeline health ------------------------------------------------------------------------------


def pipeline_runs(lake: LakeRef, limit: int = MAX_RUNS) -> pd.DataFrame:
    """The latest runs with their status, duration, API calls, retries, 429s and error."""
    return _frame(
        lake,
        f"""SELECT run_id, command, status, started_at, finished_at,
                   epoch(finished_at) - epoch(started_at) AS seconds,
                   api_calls, retries, rate_limited, failed_requests, quarantined, error
            FROM ops.pipeline_runs
            ORDER BY started_at DESC
            LIMIT {int(limit)}""",
    )


def task_runs(lake: LakeRef, limit: int = MAX_RUNS) -> pd.DataFrame:
    """The phases of the latest runs (``ops.task_runs``): duration, rows, calls, retries, 429s."""
    return _frame(
        lake,
        f"""SELECT run_id, task, command, status, started_at, seconds, rows_out, api_calls, retries,
                   rate_limited, bytes_in, error
            FROM ops.task_runs
            ORDER BY started_at DESC
            LIMIT {int(limit)}""",
    )


def credits_per_month(lake: LakeRef, months: int = 12) -> pd.DataFrame:
    """Calls answered by the API per calendar month (UTC), the last ``months``: each is one credit.

    The same count as ``status``'s credits of the current month (``ops.raw_manifest`` rows with a status).
    """
    return _frame(
        lake,
        f"""SELECT strftime(date_trunc('month', fetched_at AT TIME ZONE 'UTC'), '%Y-%m') AS month,
                   count(*) AS credits
            FROM ops.raw_manifest
            WHERE status IS NOT NULL
            GROUP BY month
            ORDER BY month DESC
            LIMIT {int(months)}""",
    ).sort_values("month", ignore_index=True)


def check_results(lake: LakeRef, limit: int = 200) -> pd.DataFrame:
    """The latest check run's results, failing first."""
    return _frame(
        lake,
        f"""SELECT checked_at, run_id, table_name, check_name, kind, severity, passed, failing_rows, detail
            FROM ops.dq_results
            WHERE check_run_id = (SELECT arg_max(check_run_id, checked_at) FROM ops.dq_results)
            ORDER BY passed, severity, table_name, check_name
            LIMIT {int(limit)}""",
    )


def gated_runs(lake: LakeRef, limit: int = 20) -> pd.DataFrame:
    """Gated runs (gold not published) with each failing check and a sample of its bad rows."""
    return _frame(
        lake,
        f"""WITH gated AS (
                SELECT run_id, command, started_at, error FROM ops.pipeline_runs
                WHERE status = 'gated' ORDER BY started_at DESC LIMIT {int(limit)}
            )
            SELECT g.run_id, g.command, g.started_at, q.table_name, q.check_name, q.severity,
                   q.failing_rows, q.detail, q.sample_json, g.error
            FROM gated g LEFT JOIN ops.dq_results q ON q.run_id = g.run_id AND NOT q.passed
            ORDER BY g.started_at DESC, q.severity, q.table_name, q.check_name
            LIMIT 200""",
    )


def anomalies(lake: LakeRef, limit: int = 200) -> pd.DataFrame:
    """The latest market anomalies (``ops.anomalies``)."""
    return _frame(
        lake,
        f"""SELECT detected_at, kind, coin_id, vs_currency, snapshot_ts, value, expected, score, detail, run_id
            FROM ops.anomalies ORDER BY detected_at DESC LIMIT {int(limit)}""",
    )


def alerts_sent(lake: LakeRef, limit: int = 200) -> pd.DataFrame:
    """The latest alerts sent (``ops.alerts_sent``)."""
    return _frame(
        lake,
        f"""SELECT sent_at, severity, rule, title, channels, outcome, run_id
            FROM ops.alerts_sent ORDER BY sent_at DESC LIMIT {int(limit)}""",
    )
