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

from geckolake.analytics.series import Series, full_rows, month_of, trailing, windows

_EPOCH = date(1970, 1, 1)

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


MEASURES = (
    *(f"vol_{w}d" for w in VOL_WINDOWS),
    *(f"max_drawdown_{w}d" for w in DRAWDOWN_WINDOWS),
    "sharpe_90d",
    "beta_btc_90d",
    "corr_btc_90d",
    "var_95_1d",
    "es_95_1d",
)
SHORTEST_WINDOW = min(*VOL_WINDOWS, *DRAWDOWN_WINDOWS, RISK_WINDOW)


def measures(s: Series, bench: Series | None, risk_free_rate: float = 0.0) -> dict[str, np.ndarray]:
    """Every gold.coin_risk measure of ``s`` on its dense calendar (NaN where not defined)."""
    n = len(s.close)
    if n < SHORTEST_WINDOW:  # no window can be full: skip the arithmetic (most coins of a first run)
        nan = np.full(n, np.nan)
        return dict.fromkeys(MEASURES, nan)
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
    return cols


def _rows(s: Series, since: date | None) -> np.ndarray:
    """Positions of ``s``'s calendar that have a row, from ``since`` on."""
    keep = s.has_row.copy()
    if since is not None:
        keep[: max(0, min(len(keep), s.index_of(since)))] = False
    return np.flatnonzero(keep)


def coin_risk(s: Series, bench: Series | None, since: date | None, risk_free_rate: float = 0.0) -> pa.Table:
    """gold.coin_risk columns for the days of ``s`` that have a row (from ``since`` on)."""
    return _assemble([(s, measures(s, bench, risk_free_rate), _rows(s, since))])


def _assemble(parts: list[tuple[Series, dict[str, np.ndarray], np.ndarray]]) -> pa.Table:
    """One table from per-series measures, built column-wise (no per-coin Arrow tables)."""
    sizes = [len(idx) for _, _, idx in parts]
    coin = np.repeat(np.array([s.coin_id for s, _, _ in parts], dtype=object), sizes)
    cur = np.repeat(np.array([s.vs_currency for s, _, _ in parts], dtype=object), sizes)
    first = np.repeat(np.array([(s.first - _EPOCH).days for s, _, _ in parts], dtype=np.int64), sizes)
    offset = np.concatenate([idx for _, _, idx in parts]) if parts else np.empty(0, np.int64)
    day = pa.array((first + offset).astype(np.int32), pa.int32()).cast(pa.date32())
    out: dict[str, pa.Array] = {
        "coin_id": pa.array(coin, pa.string()),
        "vs_currency": pa.array(cur, pa.string()),
        "date": day,
    }
    for name in MEASURES:
        v = np.concatenate([cols[name][idx] for _, cols, idx in parts]) if parts else np.empty(0)
        out[name] = pa.array(v, mask=np.isnan(v), type=pa.float64())
    out["month"] = month_of(day)
    return pa.table(out)


def risk_table(series: list[Series], since: date | None, risk_free_rate: float, schema: pa.Schema) -> pa.Table:
    """gold.coin_risk rows for every series (days from ``since`` on)."""
    bench = {s.vs_currency: s for s in series if s.coin_id == BENCHMARK}
    parts = []
    for s in series:
        idx = _rows(s, since)
        if len(idx):
            parts.append((s, measures(s, bench.get(s.vs_currency), risk_free_rate), idx))
    if not parts:
        return schema.empty_table()
    return _assemble(parts).select(schema.names).cast(schema)
