"""gold.correlations: rolling 30- and 90-day correlations of daily log returns among the top N coins.

For day D and window W: the top N coins of D by market cap (ties by coin id); a pair gets a row
when both coins have all W log returns of the days D-W+1..D; corr is Pearson's (null when either
series is constant). Long format, both orders of each pair, so "the coins most correlated with X"
is one filter on coin_a.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from geckolake.analytics.series import Series

WINDOWS = (30, 90)


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
    cols: dict[str, list[object]] = {k: [] for k in ("date", "window_days", "coin_a", "coin_b", "corr")}
    if not series or top_n < 2:
        return pa.table(cols)
    first, rets, caps, ids = _matrix(series)
    start = 0 if since is None else max(0, (since - first).days)
    for t in range(start, rets.shape[0]):
        row = caps[t]
        present = np.flatnonzero(~np.isnan(row))
        if len(present) < 2:
            continue
        top = present[np.argsort(-row[present], kind="stable")][:top_n]
        day = first + timedelta(days=t)
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
            cols["date"] += [day] * len(a)
            cols["window_days"] += [w] * len(a)
            cols["coin_a"] += [ids[i] for i in chosen[a]]
            cols["coin_b"] += [ids[i] for i in chosen[b]]
            cols["corr"] += [None if np.isnan(v) else float(v) for v in corr[a, b]]
    return pa.table(cols)
