"""Fetching goes on while earlier batches commit, and the lake ends up as a sequential run leaves it.

Real components throughout: the simulator over HTTP with a short rate window, the rate-limited
client and the lake. The spies only record times: when each API request arrives at the simulator
and when each batch commit runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.support import lake_hashes

from geckolake import flows
from geckolake.config import Settings
from geckolake.errors import LakeError
from geckolake.flows import pipeline as run_flow
from geckolake.ingest import pipeline
from geckolake.ingest.pipeline import Failed, Fetched, Observer, Run, RunResult, SilentObserver
from geckolake.lake.catalog import open_lake
from geckolake.lake.query import run_query
from geckolake.simulator import SimulatorConfig, running_simulator
from geckolake.simulator.app import SimulatorApp

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COINS = 40  # 1 markets page + 40 daily histories + 4 extras + 6 category memberships = 51 calls
BATCH = 10  # history in 4 batches, so commits and fetches can interleave


class Spies:
    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.commits: list[tuple[float, float]] = []

    def during_commits(self) -> int:
        return sum(1 for t in self.arrivals if any(start < t < end for start, end in self.commits))


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spies]:
    spy = Spies()
    original_view = SimulatorApp.api_view

    async def api_view(self: SimulatorApp, request: Any) -> Any:
        spy.arrivals.append(time.monotonic())
        return await original_view(self, request)

    class TimedRun(Run):
        def _commit_batch(self, landed: list[Fetched], failed: list[Failed]) -> int:
            started = time.monotonic()
            try:
                return super()._commit_batch(landed, failed)
            finally:
                spy.commits.append((started, time.monotonic()))

    monkeypatch.setattr(SimulatorApp, "api_view", api_view)
    monkeypatch.setattr(run_flow, "Run", TimedRun)  # the class the run flow builds
    monkeypatch.setattr(pipeline, "BATCH_SIZE", BATCH)
    yield spy


@dataclass
class Bar:
    name: str
    total: int
    done: int = 0
    committing: int | None = None  # tables, once handed to commit


class Recorder(SilentObserver):
    """The CLI's progress bars as the observer hooks build them (one per batch)."""

    def __init__(self) -> None:
        self.bars: list[Bar] = []

    def phase(self, name: str, total: int) -> None:
        self.bars.append(Bar(name, total))

    def advance(self, n: int = 1) -> None:
        assert self.bars[-1].committing is None, "a bar advanced after its batch went to commit"
        self.bars[-1].done += n

    def committing(self, tables: int) -> None:
        self.bars[-1].committing = tables


def _run(lake: Path, *, overlap: bool, spies: Spies, observer: Observer | None = None) -> RunResult:
    spies.arrivals.clear()
    spies.commits.clear()
    # 12 calls per 0.5 s window = 1,440/min; the client paces at 1,200 × 0.98: no 429 is due, even
    # when a loaded machine delays some requests and sends the next ones closer together.
    cfg = SimulatorConfig(
        port=0, coins=COINS + 20, plan="pro", rate_per_min=12, rate_window_s=0.5, latency_ms=20, now=NOW, clean=True
    )
    with running_simulator(cfg) as url:
        settings = Settings(
            lake=lake, base_url=url, plan="pro", rate_per_min=1200, concurrency=4,
            coins=COINS, history_coins=COINS, history_days=30, as_of=NOW,
        )  # fmt: skip
        return flows.run(settings, overlap=overlap, observer=observer)


def test_fetching_continues_during_commits_and_the_lake_equals_a_sequential_run(tmp_path: Path, spies: Spies) -> None:
    sequential = _run(tmp_path / "sequential", overlap=False, spies=spies)
    assert len(spies.commits) == 7  # markets, 4 history batches, extras, category memberships
    assert spies.during_commits() == 0  # the measure sees no overlap where there is none

    overlapped = _run(tmp_path / "overlapped", overlap=True, spies=spies)
    assert len(spies.commits) == 7
    assert spies.during_commits() >= 5, (spies.arrivals, spies.commits)
    starts = [start for start, _ in spies.commits]
    assert all(a[1] <= b[0] for a, b in zip(spies.commits, spies.commits[1:], strict=False)), "commits overlapped"
    assert starts == sorted(starts)

    for result in (sequential, overlapped):
        assert result.status == "succeeded" and result.api_calls == 51 and result.rate_limited == 0
    assert overlapped.rows == sequential.rows
    assert lake_hashes(tmp_path / "overlapped") == lake_hashes(tmp_path / "sequential")


def test_task_runs_sum_to_the_pipeline_run_and_progress_reads_per_batch(tmp_path: Path, spies: Spies) -> None:
    recorder = Recorder()
    result = _run(tmp_path / "lake", overlap=True, spies=spies, observer=recorder)
    lake = open_lake(tmp_path / "lake")
    _, runs = run_query(lake, "SELECT api_calls, retries, rate_limited FROM ops.pipeline_runs")
    _, sums = run_query(
        lake,
        "SELECT sum(api_calls), sum(retries), sum(rate_limited), sum(bytes_in) FROM ops.task_runs "
        f"WHERE run_id = '{result.run_id}'",
    )
    assert runs == [(51, 0, 0)]
    assert sums[0][:3] == runs[0]
    _, phases = run_query(
        lake,
        "SELECT task, api_calls, rows_in, rows_out > 0 FROM ops.task_runs "
        f"WHERE run_id = '{result.run_id}' AND task IN ('markets', 'history', 'extras') ORDER BY task",
    )
    assert phases == [("extras", 10, 10, True), ("history", COINS, COINS, True), ("markets", 1, 1, True)]
    _, analytics = run_query(
        lake,
        f"SELECT api_calls, rows_out > 0 FROM ops.task_runs WHERE run_id = '{result.run_id}' AND task = 'analytics'",
    )
    assert analytics == [(0, True)]
    _, manifest = run_query(lake, "SELECT sum(size_bytes) FROM ops.raw_manifest")
    assert sums[0][3] >= manifest[0][0] > 0  # bytes received include every body landed
    # Each batch's bar: announced, advanced to its total, then handed to commit, before the next one.
    expected = (
        [Bar("markets", 1, 1, 1)]
        + [Bar("history", BATCH, BATCH, 1)] * 4
        + [Bar("extras", 4, 4, 4), Bar("extras", 6, 6, 1)]
    )
    assert recorder.bars == expected


def test_a_background_commit_that_fails_stops_the_run_with_its_error_and_loses_nothing(
    tmp_path: Path, spies: Spies
) -> None:
    reference = _run(tmp_path / "reference", overlap=True, spies=spies)
    lake = tmp_path / "lake"
    # The history bodies cannot land (a file stands where their raw folder goes): the markets batch
    # commits, the first history batch fails in the commit thread while later batches are fetched.
    blocker = lake / "raw" / "market_chart_range"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    with pytest.raises(LakeError, match="could not write raw file raw/market_chart_range/"):
        _run(lake, overlap=True, spies=spies)
    _, landed = run_query(open_lake(lake), "SELECT endpoint, count(*) FROM ops.raw_manifest GROUP BY 1 ORDER BY 1")
    assert landed == [("coins_markets", 1)]  # nothing after the failed batch is marked done
    _, runs = run_query(open_lake(lake), "SELECT status FROM ops.pipeline_runs")
    assert runs == [("failed",)]

    blocker.unlink()
    again = _run(lake, overlap=True, spies=spies)
    assert again.status == "succeeded" and again.api_calls == reference.api_calls
    assert lake_hashes(lake) == lake_hashes(tmp_path / "reference")
