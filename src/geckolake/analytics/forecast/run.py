"""gold.price_forecasts and gold.forecast_backtests for the top N coins of the latest day.

Stablecoins are left out (a peg is not worth forecasting, and they would crowd the top N);
``beats_naive`` asks for a stated minimum relative MASE gain, not any difference (docs/metrics.md).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from geckolake.analytics.forecast.backtest import backtest
from geckolake.analytics.forecast.models import forecast_price
from geckolake.analytics.market import STABLE_BAND, STABLE_DAYS, Membership
from geckolake.analytics.series import Series
from geckolake.config import AnalyticsSettings


def history(s: Series, train_days: int) -> np.ndarray:
    """The last run of consecutive days with a positive close, ending on the series' last day
    (at most ``train_days`` closes); empty when the last day has none."""
    ok = ~np.isnan(s.close) & (s.close > 0)
    if not ok[-1]:
        return np.empty(0)
    bad = np.flatnonzero(~ok)
    start = bad[-1] + 1 if len(bad) else 0
    return s.close[max(start, len(s.close) - train_days) :]


def stablecoin_ids(series: list[Series], known: frozenset[str], membership: Membership = Membership()) -> set[str]:
    """Coins ``gold.market_daily`` counts as stablecoins on their last day: listed in ``known`` or
    members of the stablecoins category, or (coins no category membership lists) with USD closes on
    each of the last 30 days all within the band."""
    out = set(known) | membership.stablecoins
    for s in series:
        if s.coin_id in membership.listed:
            continue
        last = s.close[-STABLE_DAYS:]  # NaN (a missing day) is outside the band
        in_band = (last >= STABLE_BAND[0]) & (last <= STABLE_BAND[1])
        if s.vs_currency == "usd" and len(last) == STABLE_DAYS and bool(in_band.all()):
            out.add(s.coin_id)
    return out


def beats_naive(model_mase: float, naive_mase: float, min_gain: float) -> bool:
    """A model beats naive when its MASE is at least ``min_gain`` (relative) below naive's."""
    return bool(model_mase < naive_mase * (1.0 - min_gain))


def forecast_coins(series: list[Series], n: int, exclude: frozenset[str] | set[str] = frozenset()) -> list[Series]:
    """Per currency, the top ``n`` coins by market cap on that currency's latest day, ``exclude`` left out."""
    last: dict[str, date] = {}
    for s in series:
        end = s.first + timedelta(days=len(s.close) - 1)
        last[s.vs_currency] = max(last.get(s.vs_currency, end), end)
    chosen = []
    for cur, day in last.items():
        live = [s for s in series if s.vs_currency == cur and s.first + timedelta(days=len(s.close) - 1) == day]
        live = [s for s in live if not math.isnan(s.market_cap[-1]) and s.coin_id not in exclude]
        live.sort(key=lambda s: (-s.market_cap[-1], s.coin_id))
        chosen += live[:n]
    return chosen


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def forecast_tables(
    series: list[Series], cfg: AnalyticsSettings, membership: Membership = Membership()
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Rows of gold.price_forecasts and gold.forecast_backtests for the chosen coins."""
    models = cfg.forecast_models  # validated against the known models when the settings were loaded
    h = cfg.forecast_horizon
    forecasts: list[dict[str, object]] = []
    backtests: list[dict[str, object]] = []
    exclude = set() if cfg.forecast_stablecoins else stablecoin_ids(series, cfg.stablecoins, membership)
    for s in forecast_coins(series, cfg.forecast_coins, exclude):
        closes = history(s, cfg.train_days)
        if len(closes) < cfg.min_train_days:
            continue
        run_date = s.first + timedelta(days=len(s.close) - 1)
        month = run_date.strftime("%Y-%m")
        base = {"coin_id": s.coin_id, "vs_currency": s.vs_currency, "run_date": run_date}
        for name in models:
            fc = forecast_price(name, closes, h)
            if fc is None:
                continue
            for k in range(h):
                forecasts.append(
                    {
                        **base,
                        "model": name,
                        "horizon": k + 1,
                        "target_date": run_date + timedelta(days=k + 1),
                        "point": _num(fc["mean"][k]),
                        "lo_80": _num(fc["lo-80"][k]),
                        "hi_80": _num(fc["hi-80"][k]),
                        "lo_95": _num(fc["lo-95"][k]),
                        "hi_95": _num(fc["hi-95"][k]),
                        "last_close": float(closes[-1]),
                        "train_days": len(closes),
                        "month": month,
                    }
                )
        # Backtests may use the whole contiguous history: each fold refits on its last train_days.
        full = history(s, cfg.train_days + cfg.forecast_horizon + cfg.backtest_folds * cfg.backtest_step)
        scores = backtest(full, models, h, cfg.backtest_folds, cfg.backtest_step, cfg.train_days, cfg.min_train_days)
        naive = scores.get("naive")
        for name, sc in scores.items():
            for k in range(h):
                gain = cfg.beats_naive_min_gain
                beats = naive is not None and name != "naive" and beats_naive(sc.mase[k], naive.mase[k], gain)
                backtests.append(
                    {
                        **base,
                        "model": name,
                        "horizon": k + 1,
                        "folds": sc.folds,
                        "mape": _num(sc.mape[k]),
                        "smape": _num(sc.smape[k]),
                        "mase": _num(sc.mase[k]),
                        "coverage_80": _num(sc.coverage_80[k]),
                        "coverage_95": _num(sc.coverage_95[k]),
                        "beats_naive": beats,
                        "month": month,
                    }
                )
    return forecasts, backtests
