"""Checks declared for the analytics gold tables and for silver.live_prices catch what they should."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from geckolake.config import Settings
from geckolake.lake.catalog import Lake, open_lake
from geckolake.ops.status import freshness
from geckolake.quality.checks import CheckContext
from geckolake.quality.runner import run_checks

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 19)


def put(lake: Lake, name: str, rows: list[dict[str, Any]]) -> None:
    schema = lake.arrow_schema(name)
    lake.append(name, pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema))


def failing(lake: Lake, tables: list[str], now: datetime = NOW) -> dict[str, str]:
    report = run_checks(lake, CheckContext(now=now), tables=tables)
    return {r.label: r.severity for r in report.failures}


def lake_with_coins(root: Path) -> Lake:
    lake = open_lake(root)
    put(lake, "silver.coins", [{"coin_id": c, "name_source": "markets"} for c in ("bitcoin", "ethereum", "tether")])
    return lake


def risk(coin: str, **values: float) -> dict[str, Any]:
    base = {
        "vol_7d": 0.5, "vol_30d": 0.6, "vol_90d": 0.7, "max_drawdown_90d": -0.2, "max_drawdown_365d": -0.4,
        "corr_btc_90d": 0.8, "var_95_1d": 0.04, "es_95_1d": 0.06,
    }  # fmt: skip
    return {"coin_id": coin, "vs_currency": "usd", "date": DAY, "month": "2026-11", **base, **values}


def test_valid_analytics_rows_pass(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "gold.coin_risk", [risk("bitcoin"), risk("tether", max_drawdown_90d=0.0, corr_btc_90d=1 + 1e-12)])
    put(lake, "gold.correlations", [_corr("bitcoin", "ethereum", -1.0), _corr("ethereum", "bitcoin", 1.0)])
    put(lake, "gold.price_forecasts", [_forecast("bitcoin", 90, 95, 100, 105, 110)])
    put(lake, "gold.forecast_backtests", [_backtest("bitcoin", coverage_80=0.8, smape=0.1)])
    put(lake, "silver.live_prices", [_live("bitcoin", 100.0, minutes_ago=2)])
    assert failing(lake, ["gold", "silver.live_prices"]) == {}


def test_risk_measures_out_of_range_fail(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(
        lake,
        "gold.coin_risk",
        [
            risk("bitcoin", vol_30d=-0.1, max_drawdown_90d=0.1),
            risk("ethereum", max_drawdown_365d=-1.5, corr_btc_90d=1.2),
            risk("tether", var_95_1d=0.05, es_95_1d=0.03),  # ES below VaR
        ],
    )
    bad = failing(lake, ["gold.coin_risk"])
    assert {
        "gold.coin_risk.vol_30d_non_negative",
        "gold.coin_risk.max_drawdown_90d_in_range",
        "gold.coin_risk.max_drawdown_365d_in_range",
        "gold.coin_risk.corr_btc_in_range",
        "gold.coin_risk.var_within_es",
    } == set(bad)
    assert set(bad.values()) == {"error"}


def test_a_negative_var_only_warns(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "gold.coin_risk", [risk("bitcoin", var_95_1d=-0.01, es_95_1d=0.01)])
    assert failing(lake, ["gold.coin_risk"]) == {"gold.coin_risk.var_non_negative": "warn"}


def _corr(a: str, b: str, value: float, window: int = 30) -> dict[str, Any]:
    return {"vs_currency": "usd", "date": DAY, "window_days": window, "coin_a": a, "coin_b": b, "corr": value,
            "month": "2026-11"}  # fmt: skip


def test_correlations_beyond_one_and_unknown_windows_fail(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "gold.correlations", [_corr("bitcoin", "ethereum", 1.01), _corr("ethereum", "bitcoin", 0.5, window=45)])
    assert set(failing(lake, ["gold.correlations"])) == {
        "gold.correlations.corr_in_range",
        "gold.correlations.window_accepted",
    }


def _forecast(coin: str, lo95: float, lo80: float, point: float, hi80: float, hi95: float) -> dict[str, Any]:
    return {
        "coin_id": coin, "vs_currency": "usd", "run_date": DAY, "model": "naive", "horizon": 1,
        "target_date": DAY + timedelta(days=1), "point": point, "lo_80": lo80, "hi_80": hi80, "lo_95": lo95,
        "hi_95": hi95, "last_close": 100.0, "train_days": 90, "month": "2026-11",
    }  # fmt: skip


def test_forecast_bands_must_surround_the_point(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "gold.price_forecasts", [_forecast("bitcoin", 90, 95, 94, 105, 110)])  # point below lo_80
    assert set(failing(lake, ["gold.price_forecasts"])) == {"gold.price_forecasts.bands_around_point"}
    put(lake, "gold.price_forecasts", [_forecast("ethereum", -1, 95, 100, 105, 104) | {"horizon": 2}])
    assert set(failing(lake, ["gold.price_forecasts"])) == {
        "gold.price_forecasts.bands_around_point",
        "gold.price_forecasts.lo_95_positive",
    }


def _backtest(coin: str, **values: float) -> dict[str, Any]:
    base = {"mape": 0.1, "smape": 0.1, "mase": 1.0, "coverage_80": 0.8, "coverage_95": 0.95}
    return {"coin_id": coin, "vs_currency": "usd", "run_date": DAY, "model": "naive", "horizon": 1, "folds": 6,
            "beats_naive": False, "month": "2026-11", **base, **values}  # fmt: skip


def test_backtest_scores_out_of_range_fail(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "gold.forecast_backtests", [_backtest("bitcoin", coverage_95=1.2, smape=2.5, mase=-1)])
    assert set(failing(lake, ["gold.forecast_backtests"])) == {
        "gold.forecast_backtests.coverage_95_fraction",
        "gold.forecast_backtests.smape_in_range",
        "gold.forecast_backtests.mase_non_negative",
    }


def test_market_daily_fractions_and_movers_values(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(
        lake,
        "gold.market_daily",
        [{"vs_currency": "usd", "date": DAY, "btc_dominance": 52.0, "totals_source": "global", "index_level": 100.0}],
    )
    put(
        lake,
        "gold.top_movers",
        [{"vs_currency": "usd", "date": DAY, "horizon": "2d", "direction": "top", "position": 1, "coin_id": "ghost",
          "period_return": -1.5, "universe_rank": 1, "month": "2026-11"}],
    )  # fmt: skip
    assert set(failing(lake, ["gold.market_daily", "gold.top_movers"])) == {
        "gold.market_daily.btc_dominance_fraction",  # a percentage where a fraction belongs
        "gold.top_movers.horizon_accepted",
        "gold.top_movers.period_return_at_least_total_loss",
        "gold.top_movers.coin_known",
    }


def _live(coin: str, price: float, minutes_ago: float) -> dict[str, Any]:
    ts = NOW - timedelta(minutes=minutes_ago)
    return {"coin_id": coin, "vs_currency": "usd", "last_updated_at": ts, "price": price, "market_cap": 1.0,
            "vol_24h": 1.0, "date": ts.date(), "_run_id": "p1", "_fetched_at": ts}  # fmt: skip


def test_live_prices_negative_price_and_a_freshness_warning(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    put(lake, "silver.live_prices", [_live("bitcoin", -1.0, 30), _live("bitcoin", 1.0, 31)])
    assert failing(lake, ["silver.live_prices"]) == {
        "silver.live_prices.price_non_negative": "error",
        "silver.live_prices.freshness": "warn",  # the newest poll is 30 minutes old, SLA 10
    }
    assert "silver.live_prices.freshness" not in failing(lake, ["silver.live_prices"], NOW - timedelta(minutes=25))


def test_empty_live_prices_pass_freshness_when_the_prices_job_is_off(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    assert failing(lake, ["silver.live_prices"]) == {}
    # status lists no SLA for it either, while the (empty) markets table is reported as never loaded
    tables = {f.table for f in freshness(lake, Settings(lake=tmp_path / "lake", as_of=NOW))}
    assert "silver.live_prices" not in tables and "silver.market_snapshots" in tables
    put(lake, "silver.live_prices", [_live("bitcoin", 1.0, 2)])
    tables = {f.table for f in freshness(lake, Settings(lake=tmp_path / "lake", as_of=NOW))}
    assert "silver.live_prices" in tables


def test_forecasts_older_than_two_days_warn(tmp_path: Path) -> None:
    lake = lake_with_coins(tmp_path / "lake")
    assert failing(lake, ["gold.price_forecasts"], now=NOW + timedelta(days=30)) == {}  # never fitted: no SLA
    put(lake, "gold.price_forecasts", [_forecast("bitcoin", 90, 95, 100, 105, 110)])  # run date: yesterday
    assert failing(lake, ["gold.price_forecasts"]) == {}
    stale = failing(lake, ["gold.price_forecasts"], now=NOW + timedelta(days=2))
    assert stale == {"gold.price_forecasts.freshness": "warn"}
