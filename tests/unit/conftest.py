"""Shared unit fixtures: one lake per test module, emptied of bronze/silver/gold for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geckolake.lake.catalog import Lake, open_lake


@pytest.fixture(scope="module")
def module_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return open_lake(tmp_path_factory.mktemp("unit") / "lake")


@pytest.fixture
def lake(module_lake: Lake) -> Iterator[Lake]:
    module_lake.drop_layers(("bronze", "silver", "gold"))
    yield module_lake
