"""Shared simulators for the integration suite: started once per session, fixed clock, few coins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2025, 3, 4, 14, 45, 50, tzinfo=UTC)


def config(**overrides: object) -> SimulatorConfig:
    base: dict[str, object] = {"port": 0, "coins": 300, "seed": 42, "now": NOW}
    base.update(overrides)
    return SimulatorConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def quirky_url() -> Iterator[str]:
    with running_simulator(config(plan="enterprise")) as url:
        yield url


@pytest.fixture(scope="session")
def clean_url() -> Iterator[str]:
    with running_simulator(config(plan="enterprise", clean=True)) as url:
        yield url
