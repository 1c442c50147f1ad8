"""Realised statistics of a simulated market, and the real ranges they should fall in.

The simulator is the market every offline test and demo sees, so its realism is measured, not
assumed: :func:`measure` computes what an analyst would look at first (correlations to bitcoin,
annualised volatility by size, stablecoin share, dominance, rank inversions) from the same numbers the
endpoints serve, and :data:`TARGETS` holds the real ranges with where each comes from.
docs/simulator.md shows both side by side; tests/unit/simulator/test_sim_realism.py checks them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geckolake.simulator.market import Market
from geckolake.simulator.universe import DAY

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Target:
    """A real range for one statistic and where it comes from."""

    low: float
    high: float
    source: str


TARGETS: dict[str, Target] = {
    "btc_eth_corr_90d": Target(0.7, 0.9, "public market statistics 2021-2025 (90-day daily returns)"),
    "median_corr_to_btc_top100": Target(0.4, 0.8, "public market statistics: most large alts 0.4-0.8 to BTC"),
    "btc_vol_1y": Target(0.40, 0.70, "BTC realised volatility 2021-2025, 40-70 % a year"),
    "median_vol_rank_2_20": Target(0.50, 1.00, "large caps (ETH, SOL, XRP, ...) 50-100 % a year"),
    "median_vol_rank_21_100": Target(0.60, 1.30, "mid caps: above large caps"),
    "median_vol_rank_101_500": Target(0.80, 1.80, "small caps: higher still"),
    "eth_max_abs_daily_move_1y": Target(
        0.05, 0.30, "ETH's largest daily move in a year: ≈10-20 % (2023-2025), 27 % (2021); issue 17 saw 41 %"
    ),
    "stablecoin_share": Target(
        0.02, 0.15, "recorded /global: USDT+USDC(+BUSD) 2.7 % (2021), 14.7 % (2023), 8.1 % (2025)"
    ),
    "stablecoins_in_top10": Target(1, 3, "recorded /coins/markets and /global top 10: 1-3 stablecoins"),
    "btc_dominance": Target(0.38, 0.65, "recorded /global market_cap_percentage.btc: 38.3 %, 37.9 %, 60.7 %"),
    "top10_share": Target(0.76, 0.88, "recorded /global: market_cap_percentage (top 10) sums to 76-88 %"),
    "rank_inversions_page1": Target(0.02, 0.12, "recorded markets pages: 18 of 250 (7.2 %), 0 of 100, 2 of 30"),
    "pooled_excess_kurtosis_top50": Target(
        1.0, 30.0, "fat tails: real daily returns show excess kurtosis 3-15; we ask for clearly fat (>= 1)"
    ),
}


def measure(market: Market, now_s: int) -> dict[str, float]:
    """The realised statistics of ``market`` as seen at ``now_s`` (daily closes before it)."""
    live_s = market.live_s(now_s)
    board = market.board(live_s)
    coins = market.coins
    order = [int(i) for i in np.argsort(-board.caps, kind="stable") if board.caps[i] > 0]
    today = now_s // DAY
    days = np.arange(today - 365, today + 1, dtype=np.int64) * DAY

    def returns(index: int) -> F64:
        path = market.path(coins[index])
        if path.listing_s > days[0] or (path.death_s is not None and path.death_s <= days[-1]):
            return np.empty(0)
        out: F64 = np.diff(path.log_price(days))
        return out

    def corr(a: F64, b: F64) -> float:
        return float(np.corrcoef(a[-90:], b[-90:])[0, 1])

    def vol(r: F64) -> float:
        return float(np.std(r, ddof=1) * math.sqrt(365))

    risky = [i for i in order if coins[i].kind != "stable" and coins[i].twin is None]
    rets = {i: returns(i) for i in risky[:500]}
    rets = {i: r for i, r in rets.items() if r.size}
    btc, eth = market.universe.by_id["bitcoin"].index, market.universe.by_id["ethereum"].index
    rank = {idx: pos + 1 for pos, idx in enumerate(order)}

    def median_vol(lo: int, hi: int) -> float:
        return float(np.median([vol(r) for i, r in rets.items() if lo <= rank[i] <= hi and i != btc]))

    top100 = [i for i in rets if rank[i] <= 100 and i != btc]
    pooled = np.concatenate([rets[i] / np.std(rets[i]) for i in list(rets)[:50]])
    total = float(board.caps.sum())
    stable = [i for i in order if coins[i].kind == "stable"]
    ranks = [board.ranks[i] for i in order[:250]]
    inversions = sum(1 for a, b in itertools.pairwise(ranks) if a is not None and b is not None and b < a)
    return {
        "btc_eth_corr_90d": corr(rets[btc], rets[eth]),
        "median_corr_to_btc_top100": float(np.median([corr(rets[i], rets[btc]) for i in top100])),
        "btc_vol_1y": vol(rets[btc]),
        "median_vol_rank_2_20": median_vol(2, 20),
        "median_vol_rank_21_100": median_vol(21, 100),
        "median_vol_rank_101_500": median_vol(101, 500),
        "eth_max_abs_daily_move_1y": float(np.max(np.abs(np.expm1(rets[eth])))),
        "stablecoin_share": float(board.caps[stable].sum()) / total,
        "stablecoins_in_top10": float(sum(1 for i in order[:10] if coins[i].kind == "stable")),
        "btc_dominance": float(board.caps[btc]) / total,
        "top10_share": float(board.caps[order[:10]].sum()) / total,
        "rank_inversions_page1": inversions / max(1, len(ranks) - 1),
        "pooled_excess_kurtosis_top50": float(np.mean(pooled**4) - 3.0),
    }
