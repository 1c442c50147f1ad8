"""gold.coin_risk computed many coins at a time equals the per-coin computation bit for bit.

The reference is the straightforward one-coin, one-measure-at-a-time implementation (each
measure builds its own windows), kept here verbatim as it was before the batching.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from geckolake.analytics import risk
from geckolake.analytics.series import Series, full_rows, trailing, windows

SCHEMA = pa.schema(
    [
        ("coin_id", pa.string()),
        ("vs_currency", pa.string()),
        ("date", pa.date32()),
        *((name, pa.float64()) for name in risk.MEASURES),
        ("month", pa.string()),
    ]
)


def random_series(rng: np.random.Generator, coin: str, currency: str, first: date, n: int) -> Series:
    log_ret = rng.normal(0, 0.05, n)
    close = 100 * np.exp(np.cumsum(log_ret))
    has_row = rng.random(n) > 0.02
    has_row[0] = has_row[-1] = True  # a series starts and ends on a row
    for values in (log_ret, close):
        values[~has_row] = np.nan
    log_ret[rng.random(n) < 0.01] = np.nan  # an undefined return on a day with a row
    if coin == "flat":
        log_ret[:] = 0.0
    return Series(coin, currency, first, has_row, close, close * 1e6, np.expm1(log_ret), log_ret)


def expected(series: list[Series], since: date | None) -> dict[str, np.ndarray]:
    bench = {s.vs_currency: s for s in series if s.coin_id == risk.BENCHMARK}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in risk.MEASURES}
    for s in series:
        idx = risk._rows(s, since)
        cols = ref_measures(s, bench.get(s.vs_currency), 0.02)
        for name in risk.MEASURES:
            parts[name].append(cols[name][idx])
    return {name: np.concatenate(v) for name, v in parts.items()}


def ref_rolling_std(x: np.ndarray, w: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of each full trailing window of ``x`` (NaN otherwise)."""
    win = windows(x, w)
    ok = full_rows(win)
    mean = win.sum(axis=1) / w
    dev = win - mean[:, None]
    var = (dev * dev).sum(axis=1) / (w - 1)
    return trailing(np.where(ok, np.sqrt(var), np.nan), len(x), w)


def ref_rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    win = windows(x, w)
    return trailing(np.where(full_rows(win), win.sum(axis=1) / w, np.nan), len(x), w)


def ref_rolling_cov(x: np.ndarray, y: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def ref_max_drawdown(close: np.ndarray, w: int) -> np.ndarray:
    """Worst fall from the running peak within each full window of closes, as a fraction <= 0."""
    win = windows(close, w)
    ok = full_rows(win)
    peak = np.maximum.accumulate(np.where(np.isnan(win), 0.0, win), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, win / peak - 1.0, 0.0).min(axis=1)
    return trailing(np.where(ok, dd, np.nan), len(close), w)


def ref_historical_var_es(ret: np.ndarray, w: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
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


def ref_measures(s: Series, bench: Series | None, risk_free_rate: float = 0.0) -> dict[str, np.ndarray]:
    """Every gold.coin_risk measure of ``s`` on its dense calendar (NaN where not defined)."""
    n = len(s.close)
    if n < risk.SHORTEST_WINDOW:  # no window can be full: skip the arithmetic (most coins of a first run)
        nan = np.full(n, np.nan)
        return dict.fromkeys(risk.MEASURES, nan)
    cols: dict[str, np.ndarray] = {}
    for w in risk.VOL_WINDOWS:
        cols[f"vol_{w}d"] = ref_rolling_std(s.log_ret, w) * risk.ANNUAL
    for w in risk.DRAWDOWN_WINDOWS:
        cols[f"max_drawdown_{w}d"] = ref_max_drawdown(s.close, w)
    sd = ref_rolling_std(s.log_ret, risk.RISK_WINDOW)
    mean = ref_rolling_mean(s.log_ret, risk.RISK_WINDOW)
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["sharpe_90d"] = np.where(sd > 0, (mean - risk_free_rate / 365.0) / sd * risk.ANNUAL, np.nan)
        # The benchmark alignment is not part of the batching: the reference uses the library's.
        cov, var_c, var_b = ref_rolling_cov(s.log_ret, risk._aligned(s, bench), risk.RISK_WINDOW)
        cols["beta_btc_90d"] = np.where(var_b > 0, cov / var_b, np.nan)
        cols["corr_btc_90d"] = np.where((var_b > 0) & (var_c > 0), cov / np.sqrt(var_c * var_b), np.nan)
    cols["var_95_1d"], cols["es_95_1d"] = ref_historical_var_es(s.ret, risk.RISK_WINDOW)
    return cols


@pytest.mark.parametrize("since", [None, date(2025, 6, 1)])
@pytest.mark.parametrize("chunk_cells", [1, 5_000, 1 << 20])
def test_risk_table_equals_per_coin(since: date | None, chunk_cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lengths shorter than every window, around the 90- and 365-day windows, and long; calendars
    # that start on different days (the benchmark is aligned per coin); two currencies.
    monkeypatch.setattr(risk, "_CHUNK_CELLS", chunk_cells)
    rng = np.random.default_rng(7)
    start = date(2025, 1, 1)
    series = []
    for currency in ("eur", "usd"):
        series.append(random_series(rng, "bitcoin", currency, start, 400))
        for i, n in enumerate([1, 3, 6, 7, 30, 89, 90, 91, 200, 364, 365, 366, 400, 90, 90, 400]):
            first = start + timedelta(days=int(rng.integers(0, 40)))
            series.append(random_series(rng, f"coin-{i:02d}", currency, first, n))
        series.append(random_series(rng, "flat", currency, start, 120))
    series.append(random_series(rng, "no-bench", "gbp", start, 120))
    got = risk.risk_table(series, since, 0.02, SCHEMA)
    want = expected(series, since)
    assert got.num_rows == len(want["vol_7d"]) > 0
    for name in risk.MEASURES:
        values = got[name].to_numpy()
        assert np.array_equal(values, want[name], equal_nan=True), name
        assert got[name].null_count == np.isnan(want[name]).sum()  # null, never NaN, where undefined
    # the same coin and date on every row as the one-coin table
    one_by_one = [risk.coin_risk(s, None, since) for s in series]
    for key in ("coin_id", "vs_currency", "date", "month"):
        assert got[key].to_pylist() == [v for t in one_by_one for v in t[key].to_pylist()]


def test_risk_table_of_no_rows_is_empty() -> None:
    rng = np.random.default_rng(1)
    series = [random_series(rng, "bitcoin", "usd", date(2025, 1, 1), 30)]
    assert risk.risk_table(series, date(2026, 1, 1), 0.0, SCHEMA).num_rows == 0
