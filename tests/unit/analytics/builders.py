"""Gold inputs for the analytics tests, written through the Lake API (no HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from geckolake.lake.catalog import Lake
from geckolake.lake.testing import bronze_batch
from geckolake.transform.runner import apply_batch

START = date(2025, 1, 1)


def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def daily_points(
    coin: str, prices: Mapping[date, float], caps: Mapping[date, float] | None = None
) -> list[dict[str, Any]]:
    """/market_chart daily points at 00:00 UTC: the point at D+1 00:00 is D's close."""
    return [
        {
            "coin_id": coin,
            "vs_currency": "usd",
            "granularity": "daily",
            "ts": midnight(d),
            "price": p,
            "market_cap": (caps or {}).get(d, p * 1e6),
            "total_volume": p * 1e4,
        }
        for d, p in sorted(prices.items())
    ]


def snapshot(coin: str, ts: datetime, price: float, cap: float, rank: int | None = None) -> dict[str, Any]:
    return {
        "coin_id": coin,
        "symbol": coin[:3],
        "name": coin.title(),
        "vs_currency": "usd",
        "current_price": price,
        "market_cap": cap,
        "market_cap_rank": rank,
        "total_volume": cap / 100,
        "last_updated": ts,
    }


def write(
    lake: Lake,
    *,
    points: list[dict[str, Any]] | None = None,
    snaps: list[dict[str, Any]] | None = None,
    fetched_at: datetime | None = None,
) -> Any:
    fetched = fetched_at or datetime(2030, 1, 1, tzinfo=UTC)
    batch = {}
    if points:
        batch["market_chart"] = bronze_batch("market_chart", points, fetched_at=fetched)
    if snaps:
        batch["coins_markets"] = bronze_batch("coins_markets", snaps, fetched_at=fetched)
    return apply_batch(lake, batch, None)


def random_walk(seed: int, n: int, start: float, sigma: float, drift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.normal(drift, sigma, n)))


def market(n_days: int, seed: int = 7) -> dict[str, dict[date, float]]:
    """Simulator-like daily prices at midnights: bitcoin, ethereum (correlated), a stablecoin, a coin
    listed late, a coin that dies (price 0), a coin with missing days."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 0.03, n_days)
    days = [START + timedelta(days=i) for i in range(n_days)]
    btc = 60000 * np.exp(np.cumsum(common))
    eth = 3000 * np.exp(np.cumsum(1.2 * common + rng.normal(0, 0.02, n_days)))
    usdt = 1 + rng.normal(0, 0.001, n_days)
    alt = 5 * np.exp(np.cumsum(0.8 * common + rng.normal(0.001, 0.05, n_days)))
    out = {
        "bitcoin": dict(zip(days, btc.tolist(), strict=True)),
        "ethereum": dict(zip(days, eth.tolist(), strict=True)),
        "tether": dict(zip(days, usdt.tolist(), strict=True)),
        "altcoin": {d: p for i, (d, p) in enumerate(zip(days, alt.tolist(), strict=True)) if i % 17 != 5},
    }
    late = random_walk(seed + 1, n_days, 0.5, 0.08)
    out["newcoin"] = {d: p for i, (d, p) in enumerate(zip(days, late.tolist(), strict=True)) if i >= n_days - 40}
    dying = random_walk(seed + 2, n_days, 2.0, 0.06, -0.01)
    out["deadcoin"] = {
        d: (p if i < n_days - 10 else 0.0) for i, (d, p) in enumerate(zip(days, dying.tolist(), strict=True))
    }
    return out


def caps_for(prices: Mapping[str, Mapping[date, float]]) -> dict[str, dict[date, float]]:
    supply = {"bitcoin": 19.7e6, "ethereum": 120e6, "tether": 110e9, "altcoin": 1e9, "newcoin": 1e8, "deadcoin": 5e8}
    return {c: {d: p * supply.get(c, 1e6) for d, p in ps.items()} for c, ps in prices.items()}


def write_market(lake: Lake, prices: Mapping[str, Mapping[date, float]], days: tuple[date, date] | None = None) -> Any:
    """Write the daily points of ``prices`` with dates in [days[0], days[1]] (all when None)."""
    caps = caps_for(prices)
    points: list[dict[str, Any]] = []
    for coin, ps in prices.items():
        sel = {d: p for d, p in ps.items() if days is None or days[0] <= d <= days[1]}
        points += daily_points(coin, sel, caps[coin])
    return write(lake, points=points)
