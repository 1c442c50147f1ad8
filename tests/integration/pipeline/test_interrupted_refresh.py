"""A run stopped during its analytics refresh: the next run repairs the analytics in full.

The analytics are derived after a run's commits. The next run fetches only what the lake lacks (the
history is held), so its own refresh touches only today; without the lag check the days the
stopped run committed would keep their half-written analytics (found by the e2e kill -9 test).
Real simulator over HTTP and real lake; the stop is a KeyboardInterrupt raised (as Ctrl-C would be)
after the refresh has written its first table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.support import lake_hashes

from geckolake import flows
from geckolake.analytics import refresh, source_mark
from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _run(lake: Path, url: str) -> None:
    settings = Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=60000, coins=60, history_coins=20, history_days=120, as_of=NOW
    )
    flows.run(settings)


def test_the_run_after_a_stopped_refresh_equals_an_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = SimulatorConfig(port=0, coins=100, plan="unlimited", now=NOW, clean=True)
    with running_simulator(cfg) as url:
        _run(tmp_path / "reference", url)
        reference = lake_hashes(tmp_path / "reference")

        original = refresh._write
        written: list[str] = []

        def stop_after_first_table(lake: Any, name: str, data: Any, since: Any) -> int:
            if written:
                raise KeyboardInterrupt
            written.append(name)
            return original(lake, name, data, since)

        monkeypatch.setattr(refresh, "_write", stop_after_first_table)
        with pytest.raises(KeyboardInterrupt):
            _run(tmp_path / "lake", url)
        monkeypatch.undo()
        assert written == ["gold.coin_risk"]
        assert not source_mark.is_current(open_lake(tmp_path / "lake"))

        _run(tmp_path / "lake", url)
    assert source_mark.is_current(open_lake(tmp_path / "lake"))
    assert lake_hashes(tmp_path / "lake") == reference
