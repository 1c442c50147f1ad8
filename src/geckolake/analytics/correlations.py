"""gold.correlations: rolling 30- and 90-day correlations of daily log returns among the top N coins.

For day D and window W: the top N coins of D by market cap (ties by coin id); a pair gets a row
when both coins have all W log returns of the days D-W+1..D; corr is Pearson's (null when either
series is constant). Long format, both orders of each pair, so "the coins most correlated with X"
is one filter on coin_a.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from geckolake.analytics.series import Series

WINDOWS = (30, 90)
_EPOCH = date(1970, 1, 1)


def _matrix(series: list[Series]) -> tuple[date, np.ndarray, np.ndarray, list[str]]:
    """Dense (day x coin) log returns and market caps on one calendar, coins sorted by id."""
    series = sorted(series, key=lambda s: s.coin_id)
    first = min(s.first for s in series)
    n = max((s.first - first).days + len(s.close) for s in series)
    rets = np.full((n, len(series)), np.nan)
    caps = np.full((n, len(series)), np.nan)
    for j, s in enumerate(series):
        off = (s.first - first).days
        rets[off : off + len(s.close), j] = s.log_ret
        caps[off : off + len(s.close), j] = s.market_cap
    return first, rets, caps, [s.coin_id for s in series]


def _corr(win: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix of the columns of ``win`` (reductions in a fixed order)."""
    w = win.shape[0]
    dev = win - win.sum(axis=0) / w
    cov = (dev[:, :, None] * dev[:, None, :]).sum(axis=0)
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cov / (sd[:, None] * sd[None, :])
    out[~np.isfinite(out)] = np.nan
    return out


def correlations(series: list[Series], since: date | None, top_n: int) -> pa.Table:
    """gold.correlations rows (one currency's ``series``) for the days from ``since`` on."""
    if not series or top_n < 2:
        return _table([], [], [], [], [], [])
    first, rets, caps, ids = _matrix(series)
    start = 0 if since is None else max(0, (since - first).days)
    days: list[np.ndarray] = []
    wins: list[np.ndarray] = []
    coin_a: list[np.ndarray] = []
    coin_b: list[np.ndarray] = []
    corrs: list[np.ndarray] = []
    for t in range(start, rets.shape[0]):
        row = caps[t]
        present = np.flatnonzero(~np.isnan(row))
        if len(present) < 2:
            continue
        top = present[np.argsort(-row[present], kind="stable")][:top_n]
        for w in WINDOWS:
            if t + 1 < w:
                continue
            win = rets[t - w + 1 : t + 1][:, np.sort(top)]
            full = ~np.isnan(win).any(axis=0)
            chosen = np.sort(top)[full]
            if len(chosen) < 2:
                continue
            corr = _corr(np.ascontiguousarray(win[:, full]))
            a, b = np.nonzero(~np.eye(len(chosen), dtype=bool))
            days.append(np.full(len(a), t))
            wins.append(np.full(len(a), w))
            coin_a.append(chosen[a])
            coin_b.append(chosen[b])
            corrs.append(corr[a, b])
    days = [d + (first - _EPOCH).days for d in days]
    return _table(days, wins, coin_a, coin_b, corrs, ids)


def _table(
    days: list[np.ndarray],
    windows: list[np.ndarray],
    a_parts: list[np.ndarray],
    b_parts: list[np.ndarray],
    corr_parts: list[np.ndarray],
    ids: list[str],
) -> pa.Table:
    """The long-format table, built column-wise (one Arrow array per column, not per row)."""
    day = np.concatenate(days) if days else np.empty(0, np.int64)
    window = np.concatenate(windows) if windows else np.empty(0, np.int64)
    a = np.concatenate(a_parts) if a_parts else np.empty(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.empty(0, np.int64)
    corr = np.concatenate(corr_parts) if corr_parts else np.empty(0)
    names = pa.array(ids, pa.string())
    return pa.table(
        {
            "date": pa.array(day.astype(np.int32), pa.int32()).cast(pa.date32()),
            "window_days": pa.array(window.astype(np.int32), pa.int32()),
            "coin_a": names.take(pa.array(a, pa.int64())),
            "coin_b": names.take(pa.array(b, pa.int64())),
            "corr": pa.array(corr, mask=np.isnan(corr), type=pa.float64()),
        }
    )
