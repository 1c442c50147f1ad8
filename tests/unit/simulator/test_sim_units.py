"""Unit tests: rate limiter, fault plan, price path consistency, config parsing."""

from __future__ import annotations

import numpy as np
import pytest

from geckolake.errors import ConfigError
from geckolake.simulator import parse_faults
from geckolake.simulator.faults import FaultPlan, drift
from geckolake.simulator.pricepath import PricePath
from geckolake.simulator.ratelimit import RateLimiter
from geckolake.simulator.universe import DAY, build_universe


def test_rate_limiter_window_opens_on_demand() -> None:
    t = [100.0]
    rl = RateLimiter(3, 60.0, clock=lambda: t[0])
    assert [rl.check()[0] for _ in range(5)] == [True, True, True, False, False]
    assert rl.check()[1]["retry-after"] == "60"
    t[0] += 60
    assert rl.check()[0]


def test_fault_plan_rates_and_reproducibility() -> None:
    plan = FaultPlan({"500": 0.1, "drift": 0.05}, seed=1)
    kinds = [plan.kind_for(i) for i in range(20_000)]
    assert abs(kinds.count("500") / 20_000 - 0.1) < 0.01
    assert kinds == [FaultPlan({"500": 0.1, "drift": 0.05}, seed=1).kind_for(i) for i in range(20_000)]


def test_drift_variants() -> None:
    body = b'[{"id":"bitcoin","current_price":1.5,"roi":null}]'
    assert b"sim_new_field" in drift(body, 0)
    assert b"roi" not in drift(body, 1)
    assert b'"1.5"' in drift(body, 2)


def test_parse_faults_rejects_nonsense() -> None:
    assert parse_faults("500=0.05, timeout=0.02") == {"500": 0.05, "timeout": 0.02}
    for bad in ("boom=0.1", "500=x", "500=0.8,drift=0.5"):
        with pytest.raises(ConfigError):
            parse_faults(bad)


def test_price_levels_agree_where_they_overlap() -> None:
    ref = 20_000
    coin = build_universe(50, 3, ref).coins[30]
    path = PricePath(coin, 3, ref)
    midnights = np.arange(ref - 50, ref, dtype=np.int64) * DAY
    hours = np.arange(midnights[0], midnights[-1] + 1, 3600, dtype=np.int64)
    fives = np.arange(midnights[-3], midnights[-1] + 1, 300, dtype=np.int64)
    daily = dict(zip(midnights.tolist(), path.price(midnights).tolist(), strict=True))
    hourly = dict(zip(hours.tolist(), path.price(hours).tolist(), strict=True))
    five = dict(zip(fives.tolist(), path.price(fives).tolist(), strict=True))
    assert all(hourly[t] == v for t, v in daily.items())
    assert all(hourly[t] == v for t, v in five.items() if t in hourly)
    mixed = np.array([midnights[-1], midnights[-1] + 7], dtype=np.int64)
    assert path.price(mixed)[0] == daily[int(midnights[-1])]
