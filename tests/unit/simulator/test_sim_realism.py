"""The simulated market's realised statistics fall in the real ranges docs/simulator.md lists."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from geckolake.simulator.market import Market
from geckolake.simulator.realism import TARGETS, measure
from geckolake.simulator.universe import DAY

NOW = int(datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module", params=[42, 7])
def realised(request: pytest.FixtureRequest) -> dict[str, float]:
    return measure(Market(2000, request.param, NOW // DAY, quirks=True), NOW)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_realised_statistic_falls_in_its_real_range(realised: dict[str, float], name: str) -> None:
    target = TARGETS[name]
    assert target.low <= realised[name] <= target.high, f"{name}={realised[name]:.3f} ({target.source})"


def test_volatility_rises_as_size_falls(realised: dict[str, float]) -> None:
    assert (
        realised["btc_vol_1y"]
        < realised["median_vol_rank_2_20"]
        < realised["median_vol_rank_21_100"]
        < realised["median_vol_rank_101_500"]
    )


def test_every_statistic_has_a_target() -> None:
    assert set(measure(Market(300, 42, NOW // DAY, quirks=True), NOW)) == set(TARGETS)


def test_stablecoins_hold_their_peg_with_small_depegs() -> None:
    market = Market(300, 42, NOW // DAY, quirks=False)
    days = (NOW // DAY - 3 * 365 + np.arange(3 * 365)) * DAY
    for coin in market.coins:
        if coin.kind == "stable" and coin.listing_day * DAY <= days[0]:
            prices = market.path(coin).price(days)
            assert prices.min() > 0.97 and prices.max() < 1.01, coin.id


def test_a_wrapped_twin_keeps_its_parents_price_ratio() -> None:
    market = Market(30, 42, NOW // DAY, quirks=False)
    days = np.arange(NOW // DAY - 365, NOW // DAY, dtype=np.int64) * DAY
    ratio = market.path(market.universe.by_id["wrapped-bitcoin"]).price(days) / market.path(
        market.universe.by_id["bitcoin"]
    ).price(days)
    assert np.all(np.abs(ratio / ratio[-1] - 1) < 0.1)
