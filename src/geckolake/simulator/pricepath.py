"""A coin's USD price at any instant, computed lazily and identically on every call.

Three nested levels keep daily, hourly and 5-minute series in agreement where they overlap:

* daily anchors at 00:00 UTC: a fat-tailed random walk with volatility regimes (cached per coin),
  whose daily log return is ``beta * market + sector + idiosyncratic`` (:class:`Factors` holds the
  shared market and sector returns, so coins move together as real crypto does);
* hourly points: a Brownian bridge between two daily anchors (so hour 0 *is* the daily anchor);
* 5-minute points: a Brownian bridge between two hourly points;
* any other instant: linear interpolation between its two 5-minute points.

All noise comes from :mod:`hashing`, so any window costs only the points it contains.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from geckolake.simulator.hashing import key_of, normal, uniform
from geckolake.simulator.universe import DAY, MARKET_SIGMA, SECTOR_SIGMA, STABLE_SIGMA, Coin

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
HOUR = 3600
FIVE = 300


def _regimes(u: F64, calm: float, turbulent: float) -> F64:
    out: F64 = np.where(u < 0.3, calm, np.where(u < 0.85, 1.0, turbulent))
    return out


class Factors:
    """Shared daily log returns of the market and sector factors, by UNIX day, grown on demand.

    One instance per market: every coin reads the same arrays, so the hashing cost is paid once.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._arrays: dict[str, F64] = {}
        self._kr = key_of(seed, "factor", "regime")  # hashed once: regime() runs on every bridge

    def returns(self, name: str, days: I64) -> F64:
        """The factor's daily log return on each day (days >= 0)."""
        arr = self._arrays.get(name)
        top = int(days.max()) + 1 if days.size else 0
        if arr is None or top > len(arr):
            arr = self._arrays[name] = self._build(name, top + 512)
        out: F64 = arr[np.maximum(days, 0)]
        return out

    def regime(self, days: I64) -> F64:
        """Market-wide volatility regime of each day: 30-day blocks of calm / normal / turbulent."""
        out: F64 = _regimes(uniform(self._kr, days // 30), 0.6, 1.6)
        return out

    def _build(self, name: str, size: int) -> F64:
        days = np.arange(size, dtype=np.int64)
        z = normal(key_of(self.seed, "factor", name, "daily"), days)
        if name == "market":
            tails = np.where(uniform(key_of(self.seed, "factor", name, "tail"), days) < 0.035, 2.6, 1.0)
            out: F64 = z * tails * self.regime(days) * MARKET_SIGMA
            return out
        out = z * SECTOR_SIGMA
        return out


class PricePath:
    """The USD price path of one coin."""

    def __init__(self, coin: Coin, seed: int, ref_day: int, factors: Factors | None = None) -> None:
        self.coin = coin
        self.ref_day = ref_day
        self._factors = factors if factors is not None else Factors(seed)
        noise_id = coin.twin or coin.id  # a wrapped/staked twin shares its parent's noise
        self._kd = key_of(seed, noise_id, "daily")
        self._kt = key_of(seed, noise_id, "tail")
        self._kp = key_of(seed, coin.id, "peg")
        self._kh = key_of(seed, coin.id, "hourly")
        self._k5 = key_of(seed, coin.id, "5m")
        self._kv = key_of(seed, coin.id, "volume")
        self._start = coin.listing_day - 1  # one day of slack before listing
        self._anchors: F64 = np.empty(0)
        # Long-run growth so a coin's early prices sit far below today's (bitcoin 2013 ≈ $100).
        age = max(1, ref_day - coin.listing_day)
        growth = coin.ref_price / coin.listing_price if coin.listing_price > 0 else 1.0
        self._drift = math.log(growth) / age if coin.kind != "stable" else 0.0
        self.death_s = None if coin.death_day is None else coin.death_day * DAY + 13 * HOUR
        self.listing_s = coin.listing_day * DAY

    # -- daily anchors ---------------------------------------------------------------------------
    def _regime(self, days: I64) -> F64:
        # volatility regimes are market-wide (crypto calms and panics together)
        return self._factors.regime(days)

    def _ensure(self, last_day: int) -> None:
        need = max(last_day, self.ref_day + 2) + 1 - self._start
        if need <= len(self._anchors):
            return
        size = need + 64  # grow in steps so an advancing wall clock rarely recomputes
        days = np.arange(self._start, self._start + size, dtype=np.int64)
        z = normal(self._kd, days)
        if self.coin.kind == "stable":
            walk = z * STABLE_SIGMA + self._depeg(days)  # a peg: noise around 1.0, no cumulative drift
            ref = 0.0
        else:
            tails = np.where(uniform(self._kt, days) < 0.04, 3.0, 1.0)  # fat tails: rare 3-sigma days
            inc = z * tails * self.coin.idio_sigma * self._regime(days)
            inc = inc + self.coin.beta * self._factors.returns("market", days)
            if self.coin.sector is not None:
                inc = inc + self._factors.returns(self.coin.sector, days)
            if self.coin.twin is not None:
                inc = inc + normal(key_of(self._kd, self.coin.id), days) * 0.0015  # tracking error
            walk = np.cumsum(inc + self._drift)
            ref = float(walk[min(self.ref_day, self._start + size - 1) - self._start])
        self._anchors = math.log(self.coin.ref_price) + walk - ref

    def _depeg(self, days: I64) -> F64:
        """Occasional small de-pegs: in ≈3 % of 30-day blocks, a 0.3–2.5 % dip fading over a few days."""
        block = days // 30
        start = block * 30 + (uniform(key_of(self._kp, "start"), block) * 25).astype(np.int64)
        depth = 0.003 + 0.022 * uniform(key_of(self._kp, "depth"), block)
        active = (uniform(self._kp, block) < 0.03) & (days >= start) & (days < start + 6)
        out: F64 = np.where(active, -depth * np.exp(-(days - start) / 1.5), 0.0)
        return out

    def log_daily(self, days: I64) -> F64:
        days = np.maximum(days, self._start)
        self._ensure(int(days.max()) + 1 if days.size else self.ref_day)
        out: F64 = self._anchors[days - self._start]
        return out

    # -- bridges ---------------------------------------------------------------------------------
    def _bridge(self, key: int, parent: I64, k: I64, n: int, scale: F64) -> F64:
        """Brownian-bridge offset at step k (0..n) of each parent interval; 0 at both ends."""
        uniq, inv = np.unique(parent, return_inverse=True)
        noise = normal(key, (uniq[:, None] * n + np.arange(n)[None, :]).ravel()).reshape(len(uniq), n)
        walk = np.concatenate([np.zeros((len(uniq), 1)), np.cumsum(noise, axis=1)], axis=1)
        bridge = walk - (np.arange(n + 1) / n)[None, :] * walk[:, -1:]
        out: F64 = bridge[inv.ravel(), k] * scale
        return out

    def log_hourly(self, hours: I64) -> F64:
        days, k = np.divmod(hours, 24)
        lo, hi = self.log_daily(days), self.log_daily(days + 1)
        scale = self.coin.sigma_day * self._regime(days) / math.sqrt(24) * 0.8
        out: F64 = lo + (hi - lo) * (k / 24.0) + self._bridge(self._kh, days, k, 24, scale)
        return out

    def log_5m(self, slots: I64) -> F64:
        hours, k = np.divmod(slots, 12)
        if not np.any(k):
            return self.log_hourly(hours)
        lo, hi = self.log_hourly(hours), self.log_hourly(hours + 1)
        scale = self.coin.sigma_day * self._regime(hours // 24) / math.sqrt(288) * 0.8
        out: F64 = lo + (hi - lo) * (k / 12.0) + self._bridge(self._k5, hours, k, 12, scale)
        return out

    # -- public ----------------------------------------------------------------------------------
    def log_price(self, ts: I64) -> F64:
        """Natural log of the USD price at each UNIX second in ``ts``."""
        ts = np.asarray(ts, dtype=np.int64)
        if ts.size == 0:
            return np.empty(0)
        if not np.any(ts % DAY):
            return self.log_daily(ts // DAY)
        if not np.any(ts % HOUR):
            return self.log_hourly(ts // HOUR)
        slot, rest = np.divmod(ts, FIVE)
        lo = self.log_5m(slot)
        if not np.any(rest):
            return lo
        hi = self.log_5m(slot + 1)
        out: F64 = lo + (hi - lo) * (rest / FIVE)
        return out

    def price(self, ts: I64) -> F64:
        """USD price at each UNIX second; 0 once a dead coin has died."""
        ts = np.asarray(ts, dtype=np.int64)
        out: F64 = np.exp(self.log_price(ts))
        if self.death_s is not None:
            out = np.where(ts >= self.death_s, 0.0, out)
        return out

    def supply(self, ts: I64) -> F64:
        """Circulating supply: slow growth, capped by max supply."""
        years = (np.asarray(ts, dtype=np.float64) - self.ref_day * DAY) / (365.0 * DAY)
        out: F64 = self.coin.circulating * np.exp(self.coin.supply_growth * years)
        if self.coin.max_supply is not None:
            out = np.minimum(out, self.coin.max_supply)
        if float(self.coin.circulating).is_integer():
            out = np.round(out)
        return out

    def volume(self, ts: I64, mcap: F64) -> F64:
        """24 h volume: market cap times a turnover that wanders hour by hour."""
        hours = np.asarray(ts, dtype=np.int64) // HOUR
        out: F64 = mcap * self.coin.turnover * np.exp(0.35 * normal(self._kv, hours))
        return out
