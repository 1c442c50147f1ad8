"""Fixtures for the end-to-end tests; the helpers themselves live in support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.support import NOW, Cli, SimFactory, base_env

from geckolake.simulator import SimulatorConfig, running_simulator


@pytest.fixture
def simulator() -> SimFactory:
    """``with simulator(now=..., faults=...) as base_url``: a fresh simulator per use."""

    def make(**overrides: object):  # type: ignore[no-untyped-def]
        cfg = {"port": 0, "coins": 600, "seed": 7, "plan": "unlimited", "now": NOW, **overrides}
        return running_simulator(SimulatorConfig(**cfg))  # type: ignore[arg-type]

    return make


@pytest.fixture
def sim_url(simulator: SimFactory) -> Iterator[str]:
    with simulator() as url:
        yield url


@pytest.fixture
def cli(tmp_path: Path, sim_url: str) -> Cli:
    lake = tmp_path / "lake"
    return Cli(lake, sim_url, base_env(lake, sim_url))
