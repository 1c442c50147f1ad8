"""Every analytics table against an independent pandas/numpy computation on simulator-like data
(bitcoin, ethereum, a stablecoin, a coin with missing days, a coin listed late, a coin that dies)."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from tests.unit.analytics.builders import market, write_market

from geckolake.analytics.refresh import refresh_analytics
from geckolake.config import AnalyticsSettings
from geckolake.lake.catalog import Lake, open_lake

CFG = AnalyticsSettings(index_size=3, movers_universe=4, movers_count=2, correlation_coins=4)
N_DAYS = 130


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = open_lake(tmp_path_factory.mktemp("ref") / "lake")
    write_market(lake, market(N_DAYS))
    refresh_analytics(lake, full=True, config=CFG, forecasts=False)
    return lake


def frame(lake: Lake, name: str) -> pd.DataFrame:
    return lake.read(name).to_pandas()


def dense(daily: pd.DataFrame, coin: str, column: str) -> pd.Series:
    s = daily[daily.coin_id == coin].set_index("date")[column].astype(float)
    s.index = pd.to_datetime(s.index)
    return s.asfreq("D")


def assert_same(got: pd.Series, want: pd.Series) -> None:
    want = want.reindex(got.index)
    assert (got.isna() == want.isna()).all(), (got[got.isna() != want.isna()], want[got.isna() != want.isna()])
    ok = got.notna()
    np.testing.assert_allclose(got[ok].to_numpy(float), want[ok].to_numpy(float), rtol=1e-9, atol=1e-12)


def test_coin_daily_returns_against_closes(sim: Lake) -> None:
    daily = frame(sim, "gold.coin_daily")
    for coin in daily.coin_id.unique():
        close = dense(daily, coin, "close")
        prev = close.shift(1)
        want = (close / prev - 1).where(prev > 0)
        assert_same(dense(daily, coin, "return_1d")[close.notna()], want[close.notna()])
        with np.errstate(divide="ignore", invalid="ignore"):
            logr = np.log(close / prev).where((prev > 0) & (close > 0))
        assert_same(dense(daily, coin, "log_return_1d")[close.notna()], logr[close.notna()])


def test_coin_risk_against_pandas(sim: Lake) -> None:
    daily = frame(sim, "gold.coin_daily")
    riskf = frame(sim, "gold.coin_risk")
    assert len(riskf) == len(daily)
    btc = dense(daily, "bitcoin", "log_return_1d")
    checked = 0
    for coin in daily.coin_id.unique():
        close = dense(daily, coin, "close")
        lr = dense(daily, coin, "log_return_1d")
        sr = dense(daily, coin, "return_1d")
        have = close.notna()
        b = btc.reindex(lr.index)
        want = {
            "vol_7d": lr.rolling(7).std() * math.sqrt(365),
            "vol_30d": lr.rolling(30).std() * math.sqrt(365),
            "vol_90d": lr.rolling(90).std() * math.sqrt(365),
            "max_drawdown_90d": close.rolling(90).apply(lambda x: (x / np.maximum.accumulate(x) - 1).min(), raw=True),
            "sharpe_90d": (lr.rolling(90).mean() / lr.rolling(90).std() * math.sqrt(365)).replace(
                [np.inf, -np.inf], np.nan
            ),
            "beta_btc_90d": lr.rolling(90).cov(b) / b.rolling(90).var(),
            "corr_btc_90d": lr.rolling(90).corr(b),
            "var_95_1d": sr.rolling(90).apply(lambda x: -np.sort(x)[4], raw=True),
            "es_95_1d": sr.rolling(90).apply(lambda x: -np.sort(x)[:5].mean(), raw=True),
            "max_drawdown_365d": close.rolling(365).apply(lambda x: 0.0, raw=True),
        }
        mine = riskf[riskf.coin_id == coin].set_index("date")
        mine.index = pd.to_datetime(mine.index)
        for col, ref in want.items():
            assert_same(mine[col].astype(float), ref[have])
            checked += int(mine[col].notna().sum())
    assert checked > 1000
    # edge cases: a coin listed 40 days ago has no 90-day measures; the dead coin's last windows hold
    # undefined log returns (price 0) and so have no volatility
    last = riskf[riskf.date == riskf.date.max()].set_index("coin_id")
    assert pd.isna(last.loc["newcoin", "vol_90d"]) and pd.notna(last.loc["newcoin", "vol_30d"])
    assert pd.isna(last.loc["deadcoin", "vol_7d"]) and last.loc["deadcoin", "max_drawdown_90d"] == -1.0
    assert last.loc["tether", "vol_30d"] < 0.05


def test_market_daily_against_pandas(sim: Lake) -> None:
    daily = frame(sim, "gold.coin_daily")
    got = frame(sim, "gold.market_daily").set_index("date").sort_index()
    grouped = daily.groupby("date")
    total = grouped.market_cap.sum()
    np.testing.assert_allclose(got.covered_market_cap, total.reindex(got.index), rtol=1e-12)
    np.testing.assert_allclose(got.covered_volume, grouped.volume.sum().reindex(got.index), rtol=1e-12)
    # no /global snapshot in this lake: no total market cap (never a sum posing as one)
    assert got.total_market_cap.isna().all() and got.totals_source.isna().all()
    btc = daily[daily.coin_id == "bitcoin"].set_index("date").market_cap
    np.testing.assert_allclose(got.btc_dominance, (btc / total).reindex(got.index), rtol=1e-12)
    stable = daily[daily.coin_id == "tether"].set_index("date").market_cap
    np.testing.assert_allclose(got.stablecoin_share, (stable / total).reindex(got.index), rtol=1e-12)
    assert (got.advancers == grouped.return_1d.apply(lambda r: (r > 0).sum()).reindex(got.index)).all()
    assert (got.decliners == grouped.return_1d.apply(lambda r: (r < 0).sum()).reindex(got.index)).all()
    # index: top 3 by the previous day's market cap, weighted by it
    level, levels, returns = 100.0, [], []
    for d in got.index:
        prev = daily[daily.date == d - timedelta(days=1)]
        today = daily[daily.date == d].set_index("coin_id").return_1d
        top = prev[prev.market_cap > 0].sort_values(["market_cap", "coin_id"], ascending=[False, True]).head(3)
        top = top[top.coin_id.map(today).notna()]
        r = (top.market_cap * top.coin_id.map(today)).sum() / top.market_cap.sum() if len(top) else None
        if r is not None and levels:
            level *= 1 + r
        levels.append(level)
        returns.append(r)
    np.testing.assert_allclose(got.index_level, levels, rtol=1e-12)
    ref = pd.Series(returns, index=got.index, dtype=float)
    assert_same(got.index_return.astype(float), ref)


def test_top_movers_against_pandas(sim: Lake) -> None:
    daily = frame(sim, "gold.coin_daily")
    movers = frame(sim, "gold.top_movers")
    day = daily.date.max() - timedelta(days=3)
    universe = daily[(daily.date == day) & daily.market_cap.notna()].sort_values(
        ["market_cap", "coin_id"], ascending=[False, True]
    )
    universe = universe.head(4)
    for horizon, h in (("1d", 1), ("7d", 7), ("30d", 30)):
        then = daily[daily.date == day - timedelta(days=h)].set_index("coin_id").close
        ret = (universe.set_index("coin_id").close / universe.coin_id.map(then).to_numpy() - 1).where(
            universe.coin_id.map(then).to_numpy() > 0
        )
        ret = ret.dropna()
        order = sorted(ret.items(), key=lambda kv: (-kv[1], kv[0]))
        got = movers[(movers.date == day) & (movers.horizon == horizon)]
        top = got[got.direction == "top"].sort_values("position")
        assert list(top.coin_id) == [c for c, _ in order[:2]]
        np.testing.assert_allclose(top.period_return, [v for _, v in order[:2]], rtol=1e-12)
        bottom = got[got.direction == "bottom"].sort_values("position")
        assert list(bottom.coin_id) == [c for c, _ in sorted(ret.items(), key=lambda kv: (kv[1], kv[0]))[:2]]


def test_correlations_against_numpy(sim: Lake) -> None:
    daily = frame(sim, "gold.coin_daily")
    corr = frame(sim, "gold.correlations")
    day = daily.date.max()
    top = daily[(daily.date == day) & daily.market_cap.notna()].sort_values(
        ["market_cap", "coin_id"], ascending=[False, True]
    )
    top = list(top.coin_id.head(4))
    for w in (30, 90):
        got = corr[(corr.date == day) & (corr.window_days == w)]
        lr = {
            c: dense(daily, c, "log_return_1d").loc[pd.Timestamp(day) - pd.Timedelta(days=w - 1) : pd.Timestamp(day)]
            for c in top
        }
        full = [c for c in top if len(lr[c]) == w and lr[c].notna().all()]
        assert set(got.coin_a) == set(full) and len(got) == len(full) * (len(full) - 1)
        for row in got.itertuples():
            want = np.corrcoef(lr[row.coin_a].to_numpy(), lr[row.coin_b].to_numpy())[0, 1]
            assert row.corr == pytest.approx(want, rel=1e-9)
    eth = corr[(corr.date == day) & (corr.window_days == 90) & (corr.coin_a == "ethereum")]
    assert eth.sort_values("corr").coin_b.iloc[-1] == "bitcoin"  # built correlated
