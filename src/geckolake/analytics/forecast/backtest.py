"""Rolling-origin backtests: refit at each origin, forecast h days, score against what happened.

Origins (index of the last training close) are ``n-1-h, n-1-h-step, ...`` (``folds`` of them), so
every fold's h actual closes are known. Scores per model and horizon k, over the folds f:

* MAPE = mean |a - p| / |a|;  sMAPE = mean 2 |a - p| / (|a| + |p|)
* MASE = mean |a - p| / s_f, with s_f the mean absolute one-day change of the fold's training
  closes (the in-sample naive one-step error, Hyndman & Koehler 2006)
* coverage_80 / coverage_95 = share of folds with lo <= a <= hi
* beats_naive (run.py) = the model's MASE is at least ``analytics.beats_naive_min_gain`` (5 %) below
  the naive model's at the same horizon (false for naive)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geckolake.analytics.forecast.models import ModelName, forecast_price


@dataclass(frozen=True)
class Scores:
    """Backtest scores of one model, one value per horizon 1..h."""

    folds: int
    mape: np.ndarray
    smape: np.ndarray
    mase: np.ndarray
    coverage_80: np.ndarray
    coverage_95: np.ndarray


def score(actual: np.ndarray, fc: dict[str, np.ndarray], scale: np.ndarray) -> Scores:
    """Scores from ``actual`` (folds x h), forecasts ``fc`` (each folds x h) and per-fold MASE scales."""
    err = np.abs(actual - fc["mean"])
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = (err / np.abs(actual)).mean(axis=0)
        smape = (2 * err / (np.abs(actual) + np.abs(fc["mean"]))).mean(axis=0)
        mase = (err / scale[:, None]).mean(axis=0)
    cov80 = ((fc["lo-80"] <= actual) & (actual <= fc["hi-80"])).mean(axis=0)
    cov95 = ((fc["lo-95"] <= actual) & (actual <= fc["hi-95"])).mean(axis=0)
    return Scores(actual.shape[0], mape, smape, mase, cov80, cov95)


def origins(n: int, h: int, folds: int, step: int, min_train: int) -> list[int]:
    """Indices of the last training close of each fold, latest first."""
    out = []
    for k in range(folds):
        o = n - 1 - h - k * step
        if o + 1 < min_train:
            break
        out.append(o)
    return out


def backtest(
    closes: np.ndarray,
    models: tuple[ModelName, ...],
    h: int,
    folds: int,
    step: int,
    train_days: int,
    min_train: int,
) -> dict[ModelName, Scores]:
    """Rolling-origin scores per model over positive daily ``closes`` (no gaps); {} when too short."""
    starts = origins(len(closes), h, folds, step, min_train)
    if not starts:
        return {}
    actual = np.stack([closes[o + 1 : o + 1 + h] for o in starts])
    scale = np.array([np.abs(np.diff(closes[max(0, o - train_days + 1) : o + 1])).mean() for o in starts])
    out: dict[ModelName, Scores] = {}
    for name in models:
        fcs = [forecast_price(name, closes[max(0, o - train_days + 1) : o + 1], h) for o in starts]
        if any(f is None for f in fcs):
            continue
        stacked = {k: np.stack([f[k] for f in fcs if f is not None]) for k in fcs[0] or {}}
        out[name] = score(actual, stacked, scale)
    return out
