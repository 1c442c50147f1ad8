"""gold.coin_risk: trailing-window volatility, drawdown, Sharpe, beta/correlation to bitcoin, VaR/ES.

Windows are calendar days ending on (and including) the row's date; a window is full when every
day in it has its value (a missing day or an undefined return leaves it not full), and a measure
is null until its window is full. Formulas: docs/metrics.md.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pyarrow as pa

from geckolake.analytics.series import Series, full_rows, trailing, windows

ANNUAL = math.sqrt(365.0)
VOL_WINDOWS = (7, 30, 90)
DRAWDOWN_WINDOWS = (90, 365)
RISK_WINDOW = 90  # Sharpe, beta, correlation, VaR and ES
VAR_LEVEL = 0.95
BENCHMARK = "bitcoin"


def rolling_std(x: np.ndarray, w: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of each full trailing window of ``x`` (NaN otherwise)."""
    win = windows(x, w)
    ok = full_rows(win)
    mean = win.sum(axis=1) / w
    dev = win - mean[:, None]
    var = (dev * dev).sum(axis=1) / (w - 1)
    return trailing(np.where(ok, np.sqrt(var), np.nan), len(x), w)


def rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    win = windows(x, w)
    return trailing(np.where(full_rows(win), win.sum(axis=1) / w, np.nan), len(x), w)


def rolling_cov(x: np.ndarray, y: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample covariance and both sample variances over windows where both series are full."""
    wx, wy = windows(x, w), windows(y, w)
    ok = full_rows(wx) & full_rows(wy)
    dx = wx - (wx.sum(axis=1) / w)[:, None]
    dy = wy - (wy.sum(axis=1) / w)[:, None]
    cov = np.where(ok, (dx * dy).sum(axis=1) / (w - 1), np.nan)
    vx = np.where(ok, (dx * dx).sum(axis=1) / (w - 1), np.nan)
    vy = np.where(ok, (dy * dy).sum(axis=1) / (w - 1), np.nan)
    n = len(x)
    return trailing(cov, n, w), trailing(vx, n, w), trailing(vy, n, w)


def max_drawdown(close: np.ndarray, w: int) -> np.ndarray:
    """Worst fall from the running peak within each full window of closes, as a fraction <= 0."""
    win = windows(close, w)
    ok = full_rows(win)
    peak = np.maximum.accumulate(np.where(np.isnan(win), 0.0, win), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, win / peak - 1.0, 0.0).min(axis=1)
    return trailing(np.where(ok, dd, np.nan), len(close), w)


def historical_var_es(ret: np.ndarray, w: int, level: float = VAR_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """1-day historical VaR and expected shortfall as positive loss fractions.

    Over the w simple returns of the window, sorted ascending, with k = ceil((1 - level) * w):
    VaR = -(k-th smallest return), ES = -(mean of the k smallest).
    """
    k = math.ceil(round((1 - level) * w, 9))
    win = windows(ret, w)
    ok = full_rows(win)
    low = np.sort(win, axis=1)[:, :k]
    var = np.where(ok, -low[:, k - 1], np.nan) if len(win) else np.empty(0)
    es = np.where(ok, -(low.sum(axis=1) / k), np.nan) if len(win) else np.empty(0)
    n = len(ret)
    return trailing(var, n, w), trailing(es, n, w)


def _aligned(s: Series, bench: Series | None) -> np.ndarray:
    """The benchmark's log returns on ``s``'s dense calendar (NaN where it has none)."""
    out = np.full(len(s.close), np.nan)
    if bench is None:
        return out
    offset = (s.first - bench.first).days
    lo, hi = max(0, -offset), min(len(out), len(bench.log_ret) - offset)
    if hi > lo:
        out[lo:hi] = bench.log_ret[lo + offset : hi + offset]
    return out


def coin_risk(s: Series, bench: Series | None, since: date | None, risk_free_rate: float = 0.0) -> dict[str, object]:
    """gold.coin_risk columns for the days of ``s`` that have a row (from ``since`` on)."""
    n = len(s.close)
    cols: dict[str, np.ndarray] = {}
    for w in VOL_WINDOWS:
        cols[f"vol_{w}d"] = rolling_std(s.log_ret, w) * ANNUAL
    for w in DRAWDOWN_WINDOWS:
        cols[f"max_drawdown_{w}d"] = max_drawdown(s.close, w)
    sd = rolling_std(s.log_ret, RISK_WINDOW)
    mean = rolling_mean(s.log_ret, RISK_WINDOW)
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["sharpe_90d"] = np.where(sd > 0, (mean - risk_free_rate / 365.0) / sd * ANNUAL, np.nan)
        cov, var_c, var_b = rolling_cov(s.log_ret, _aligned(s, bench), RISK_WINDOW)
        cols["beta_btc_90d"] = np.where(var_b > 0, cov / var_b, np.nan)
        cols["corr_btc_90d"] = np.where((var_b > 0) & (var_c > 0), cov / np.sqrt(var_c * var_b), np.nan)
    cols["var_95_1d"], cols["es_95_1d"] = historical_var_es(s.ret, RISK_WINDOW)
    keep = s.has_row.copy()
    if since is not None:
        keep[: max(0, min(n, s.index_of(since)))] = False
    idx = np.flatnonzero(keep)
    dates = [date.fromordinal(s.first.toordinal() + int(i)) for i in idx]
    out: dict[str, object] = {
        "coin_id": [s.coin_id] * len(idx),
        "vs_currency": [s.vs_currency] * len(idx),
        "date": dates,
    }
    for name, values in cols.items():
        v = values[idx]
        out[name] = pa.array(v, mask=np.isnan(v), type=pa.float64())
    out["month"] = [d.strftime("%Y-%m") for d in dates]
    return out


def risk_table(series: list[Series], since: date | None, risk_free_rate: float, schema: pa.Schema) -> pa.Table:
    """gold.coin_risk rows for every series (days from ``since`` on)."""
    bench = {s.vs_currency: s for s in series if s.coin_id == BENCHMARK}
    parts = []
    for s in series:
        cols = coin_risk(s, bench.get(s.vs_currency), since, risk_free_rate)
        if cols["date"]:
            parts.append(pa.table(cols))
    if not parts:
        return schema.empty_table()
    return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])
