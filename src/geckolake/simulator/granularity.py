"""Which instants a chart or OHLC answer contains (CoinGecko's granularity rules, FACTS.md).

Charts: grid points ``t`` with ``from <= t <= to``, ``t < now`` and ``t >= listing``, then the live
"now" point when ``to >= now``. Daily grid points are 00:00 UTC. With quirks on, hourly and
5-minute points are jittered (irregular spacing, ms precision, a last grid point that can fall
after "now") and a few hourly points are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geckolake.simulator.hashing import key_of, uniform
from geckolake.simulator.pricepath import FIVE, HOUR
from geckolake.simulator.universe import DAY

I64 = NDArray[np.int64]
STEPS: dict[str, int] = {"5m": FIVE, "hourly": HOUR, "daily": DAY}


@dataclass(frozen=True)
class Grid:
    """Timestamps of one chart answer: grid points (ms) plus the optional live point."""

    value_s: I64  # instant whose price each grid point carries (seconds)
    stamp_ms: I64  # timestamp printed in the body (milliseconds)
    now_point: bool


def auto_step_days(days: float) -> str:
    """market_chart?days=N: N <= 1 → 5-minutely, N <= 90 → hourly, beyond → daily."""
    if days <= 1:
        return "5m"
    if days <= 90:
        return "hourly"
    return "daily"


def auto_step_range(from_s: int, to_s: int, now_s: int) -> str:
    """market_chart/range: a window of up to a day is 5-minutely only if it ends within the last day."""
    span = to_s - from_s
    if span <= DAY:
        return "5m" if to_s >= now_s - DAY else "hourly"
    if span <= 90 * DAY:
        return "hourly"
    return "daily"


def chart_grid(
    step: str, from_s: int, to_s: int, now_s: int, listing_s: int, seed: int, coin_id: str, quirks: bool
) -> Grid:
    """The instants of a chart answer for [from_s, to_s]."""
    size = STEPS[step]
    lo = max(from_s, listing_s)
    hi = min(to_s, now_s - 1)
    if hi < lo:
        base = np.empty(0, dtype=np.int64)
    else:
        first = -(-lo // size) * size
        base = np.arange(first, hi + 1, size, dtype=np.int64)
    value_s = base
    stamp_ms = base * 1000
    if quirks and step != "daily" and base.size:
        value_s, stamp_ms = _jitter(step, base, seed, coin_id, now_s)
    now_point = to_s >= now_s and now_s >= listing_s
    return Grid(value_s, stamp_ms, now_point)


def _jitter(step: str, base: I64, seed: int, coin_id: str, now_s: int) -> tuple[I64, I64]:
    key = key_of(seed, coin_id, "jitter", step)
    u = uniform(key, base)
    ms = (uniform(key ^ 1, base) * 1000).astype(np.int64)
    if step == "hourly":
        # recorded "hourly" data: gaps from ~10 minutes to ~2 hours
        offset = (u * 50 * 60).astype(np.int64)
        keep = uniform(key ^ 2, base) > 0.03
        base, offset, ms = base[keep], offset[keep], ms[keep]
    else:
        # recorded "5-minutely" data: gaps of 2–8 minutes
        offset = ((u - 0.5) * 180).astype(np.int64)
    stamp_s = base + offset
    # price values never come from the future, even when the printed stamp passes "now"
    value_s = np.minimum(stamp_s, now_s)
    return value_s, stamp_s * 1000 + ms


OHLC_AUTO: tuple[tuple[float, int], ...] = ((2, 30 * 60), (30, 4 * HOUR))


def ohlc_candle_s(days: float) -> int:
    """Automatic candle size: 1–2 days → 30 min, 3–30 days → 4 h, 31 days and more → 4 days."""
    for limit, size in OHLC_AUTO:
        if days <= limit:
            return size
    return 4 * DAY


def ohlc_closes(from_s: int, to_s: int, size: int, listing_s: int) -> I64:
    """Candle close times (the OHLC timestamp is the close): whole candles after ``from`` up to
    the one still forming at ``to`` (7 days of 4 h candles → 42, as recorded)."""
    lo = max(from_s, listing_s)
    first = -(-(lo + size) // size) * size
    last = -(-to_s // size) * size
    if last < first:
        return np.empty(0, dtype=np.int64)
    return np.arange(first, last + 1, size, dtype=np.int64)
