"""Acceptance 3: recorded bodies and spec examples come back byte for byte in fixture mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import config
from tests.coingecko_data import RECORDED, SPECS

from geckolake.simulator import build_fixtures_dir, running_simulator
from geckolake.simulator.fixtures import FixtureEntry


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[FixtureEntry]]]:
    root = tmp_path_factory.mktemp("fixtures")
    entries = build_fixtures_dir(root, RECORDED, list(SPECS.values()))
    with running_simulator(config(fixtures=root, plan="unlimited")) as url:
        yield url, entries


def test_every_recorded_body_and_example_is_served_verbatim(replay: tuple[str, list[FixtureEntry]]) -> None:
    url, entries = replay
    recorded = [e for e in entries if not e.source.startswith("spec-")]
    assert len(recorded) == 36
    assert sum(1 for e in entries if e.source.startswith("spec-")) > 40
    with httpx.Client() as client:
        for entry in entries:
            r = client.get(url + entry.request)
            assert r.status_code == entry.status, entry
            expected = entry.file.read_bytes()
            if not entry.source.startswith("spec-"):
                assert expected == (RECORDED / entry.source).read_bytes()
            assert r.content == expected, entry.source


def test_unmatched_request_is_a_coingecko_style_404(replay: tuple[str, list[FixtureEntry]]) -> None:
    url, _ = replay
    r = httpx.get(url + "/coins/markets?vs_currency=zzz")
    assert r.status_code == 404
    assert "error" in r.json()


def test_layout_is_documented_path_plus_sorted_query(tmp_path: Path) -> None:
    entries = build_fixtures_dir(tmp_path, RECORDED)
    files = {e.file.relative_to(tmp_path).as_posix() for e in entries}
    assert "coins/markets/ids=bitcoin&vs_currency=usd.json" in files
    assert "simple/price/_.json" in files  # the 422 without parameters
    assert (tmp_path / "simple/price/_.meta.json").read_text() == '{"status": 422}'
