"""Hand-computed values of each risk measure on tiny cases (no lake)."""

from __future__ import annotations

import math
import statistics
from datetime import date

import numpy as np
import pytest

from geckolake.analytics import risk
from geckolake.analytics.series import Series

NAN = float("nan")


def test_volatility_is_sample_std_of_the_full_trailing_window_times_sqrt_365() -> None:
    r = np.array([0.01, -0.02, 0.03, 0.0, 0.01, -0.01, 0.02, 0.05])
    got = risk.rolling_std(r, 7)
    assert np.isnan(got[:6]).all()  # null until the window is full
    assert got[6] == pytest.approx(statistics.stdev(r[:7].tolist()), rel=1e-12)
    assert got[7] == pytest.approx(statistics.stdev(r[1:8].tolist()), rel=1e-12)
    # a missing day leaves every window containing it not full
    r[3] = NAN
    assert np.isnan(risk.rolling_std(r, 7)).all()


def test_max_drawdown_is_the_worst_fall_from_the_running_peak() -> None:
    close = np.full(90, 100.0)
    close[10], close[50], close[60] = 200.0, 50.0, 300.0
    got = risk.max_drawdown(close, 90)
    assert got[89] == pytest.approx(50 / 200 - 1)  # -0.75: the trough after the 200 peak
    assert np.isnan(got[:89]).all()
    # after the 300 peak prices fall to 100: -2/3 is smaller in size than -0.75
    assert risk.max_drawdown(np.array([100.0, 120.0, 90.0, 130.0, 65.0]), 5)[4] == pytest.approx(-0.5)
    assert risk.max_drawdown(np.array([1.0, 2.0, 3.0]), 3)[2] == 0.0  # only rises: no drawdown
    assert risk.max_drawdown(np.array([2.0, 1.0, 0.0]), 3)[2] == -1.0  # a dead coin


def test_historical_var_and_es_at_95() -> None:
    r = np.full(90, 0.01)
    r[[3, 20, 40, 60, 80]] = [-0.1, -0.08, -0.06, -0.04, -0.02]
    var, es = risk.historical_var_es(r, 90)
    # k = ceil(0.05 * 90) = 5: VaR = -(5th smallest), ES = -(mean of the 5 smallest)
    assert var[89] == pytest.approx(0.02) and es[89] == pytest.approx(0.06)
    assert np.isnan(var[:89]).all()


def series(coin: str, log_ret: np.ndarray) -> Series:
    n = len(log_ret)
    close = 100 * np.exp(np.nancumsum(log_ret))
    return Series(coin, "usd", date(2025, 1, 1), np.ones(n, bool), close, close * 1e6, np.expm1(log_ret), log_ret)


def test_beta_corr_and_sharpe() -> None:
    rng = np.random.default_rng(1)
    b = rng.normal(0, 0.03, 100)
    btc = series("bitcoin", b)
    double = series("x", 2 * b)
    out = risk.coin_risk(double, btc, None)
    beta, corr = out["beta_btc_90d"], out["corr_btc_90d"]
    assert beta[99].as_py() == pytest.approx(2.0) and corr[99].as_py() == pytest.approx(1.0)
    assert beta[88].as_py() is None  # 89 returns: not full
    # Sharpe (risk-free 0) = mean / std x sqrt(365) of the 90 log returns
    w = (2 * b)[10:100]
    assert out["sharpe_90d"][99].as_py() == pytest.approx(w.mean() / w.std(ddof=1) * math.sqrt(365), rel=1e-12)
    # bitcoin against itself
    self_out = risk.coin_risk(btc, btc, None)
    assert self_out["beta_btc_90d"][99].as_py() == pytest.approx(1.0)
    # a constant stablecoin: volatility 0, Sharpe and correlation undefined
    flat = risk.coin_risk(series("usdt", np.zeros(100)), btc, None)
    assert flat["vol_90d"][99].as_py() == 0.0
    assert flat["sharpe_90d"][99].as_py() is None and flat["corr_btc_90d"][99].as_py() is None
    assert flat["beta_btc_90d"][99].as_py() == 0.0
