"""The CoinGecko simulator: a faithful fake API v3 for tests, the offline demo and benchmarks.

    from geckolake.simulator import SimulatorConfig, running_simulator, serve

    with running_simulator(SimulatorConfig(port=0, coins=300)) as base_url:
        ...  # base_url == "http://127.0.0.1:PORT/api/v3"

See docs/simulator.md for the market model, plan rules, quirks, faults and fixture layout.
"""

from __future__ import annotations

from geckolake.simulator.config import PLAN_RULES, SIM_PLANS, SimulatorConfig, parse_faults
from geckolake.simulator.fixtures import build_fixtures_dir
from geckolake.simulator.server import running_simulator, serve

__all__ = [
    "PLAN_RULES",
    "SIM_PLANS",
    "SimulatorConfig",
    "build_fixtures_dir",
    "parse_faults",
    "running_simulator",
    "serve",
]
