"""Scheduler with an injected clock: cron fire times, overlap, missed-run policy, one instance per lake."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from geckolake.config import Settings
from geckolake.errors import ConfigError, LakeLocked
from geckolake.lake.lock import scheduler_lock
from geckolake.ops.scheduler import Scheduler

START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, t: datetime) -> None:
        self.t = t
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.t += timedelta(seconds=max(seconds, 0.001))


def _settings(tmp_path: Path, jobs: dict[str, Any] | None = None, **schedule: Any) -> Settings:
    default = {
        "markets": {"cron": "*/5 * * * *", "kind": "markets"},
        "history": {"cron": "40 0 * * *", "kind": "history"},
        "prices": {"cron": "* * * * *", "kind": "prices"},
    }
    return Settings(lake=tmp_path / "lake", plan="pro", schedule={"jobs": jobs or default, **schedule})


def _recording(calls: list[tuple[str, datetime]], clock: FakeClock) -> dict[str, Any]:
    def runner(settings: Settings, name: str) -> str:
        calls.append((name, clock()))
        return "ok"

    return {k: runner for k in ("markets", "history", "prices", "maintenance", "watch")}


def _idle_sleep(sched: list[Scheduler], clock: FakeClock) -> Any:
    def sleep(seconds: float) -> None:
        sched[0].wait_idle(5)  # jobs run instantly in simulated time
        clock.advance(seconds)

    return sleep


def test_jobs_fire_at_their_cron_times(tmp_path: Path) -> None:
    clock, calls, ref = FakeClock(START), [], []  # type: ignore[var-annotated]
    sched = Scheduler(
        _settings(tmp_path), clock=clock, sleep=_idle_sleep(ref, clock), runners=_recording(calls, clock), lock=False
    )
    ref.append(sched)
    sched.run(until=START + timedelta(hours=1))
    by_job: dict[str, list[datetime]] = {}
    for name, at in calls:
        by_job.setdefault(name, []).append(at)
    assert by_job["prices"] == [START + timedelta(minutes=m) for m in range(60)]
    assert by_job["markets"] == [START + timedelta(minutes=m) for m in range(0, 60, 5)]
    assert by_job["history"] == [START + timedelta(minutes=40)]
    assert not [e for e in sched.events if e.kind in ("skipped_running", "missed", "failed")]


def test_overlapping_fire_is_skipped_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock, release, started = FakeClock(START), threading.Event(), threading.Event()
    calls: list[datetime] = []

    def slow(settings: Settings, name: str) -> str:
        calls.append(clock())
        started.set()
        release.wait(10)
        return "ok"

    def sleep(seconds: float) -> None:
        started.wait(5)
        clock.advance(seconds)
        if clock() >= START + timedelta(minutes=11):
            release.set()

    jobs = {"markets": {"cron": "*/5 * * * *", "kind": "markets"}}
    sched = Scheduler(_settings(tmp_path, jobs), clock=clock, sleep=sleep, runners={"markets": slow}, lock=False)
    sched.run(until=START + timedelta(minutes=12))
    skipped = [e for e in sched.events if e.kind == "skipped_running"]
    assert [e.scheduled for e in skipped] == [START + timedelta(minutes=5), START + timedelta(minutes=10)]
    assert calls == [START]
    assert "previous run still running" in caplog.text


@pytest.mark.parametrize(("policy", "runs"), [("run_once", 1), ("skip", 0)])
def test_missed_fires_run_once_without_backlog(tmp_path: Path, policy: str, runs: int) -> None:
    clock, calls, ref = FakeClock(START), [], []  # type: ignore[var-annotated]
    jobs = {"markets": {"cron": "*/5 * * * *", "kind": "markets"}}
    sched = Scheduler(
        _settings(tmp_path, jobs, missed=policy), clock=clock, sleep=_idle_sleep(ref, clock),
        runners=_recording(calls, clock), lock=False,
    )  # fmt: skip
    ref.append(sched)
    sched._init_fires(START)
    clock.advance(3600 + 120)  # the host slept for an hour: 12 fires missed
    sched.tick(clock())
    sched._queue.put(None)
    sched._work()
    assert len(calls) == runs
    kinds = [e.kind for e in sched.events]
    assert ("missed" if policy == "run_once" else "missed_skipped") in kinds
    assert sched.jobs["markets"].next_fire == START + timedelta(minutes=65)


def test_missed_while_down_is_read_from_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, calls, ref = FakeClock(START + timedelta(hours=2, minutes=2)), [], []  # type: ignore[var-annotated]
    jobs = {"history": {"cron": "40 0 * * *", "kind": "history"}}
    sched = Scheduler(
        _settings(tmp_path, jobs), clock=clock, sleep=_idle_sleep(ref, clock), runners=_recording(calls, clock),
        lock=False,
    )  # fmt: skip
    ref.append(sched)
    monkeypatch.setattr(sched, "_last_runs", lambda: {"history": START - timedelta(hours=23, minutes=20)})
    sched.run(until=START + timedelta(hours=2, minutes=3))
    assert [c[0] for c in calls] == ["history"]  # yesterday's run + today's 00:40 missed → run once now
    assert any(e.kind == "missed" for e in sched.events)


def test_one_scheduler_per_lake(tmp_path: Path) -> None:
    with scheduler_lock(tmp_path / "lake"), pytest.raises(LakeLocked, match="already running"):
        Scheduler(_settings(tmp_path), runners=_recording([], FakeClock(START))).run(until=START)
    with scheduler_lock(tmp_path / "lake"):
        pass  # released: the next scheduler starts


def test_invalid_cron_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid cron"):
        Scheduler(_settings(tmp_path, {"x": {"cron": "every minute", "kind": "prices"}}), runners={}, lock=False)


def test_stop_request_finishes_the_running_job(tmp_path: Path) -> None:
    clock, done = FakeClock(START), []
    ref: list[Scheduler] = []

    def job(settings: Settings, name: str) -> str:
        ref[0].request_stop()  # SIGTERM arrives mid-job
        done.append(name)
        return "ok"

    jobs = {"markets": {"cron": "* * * * *", "kind": "markets"}, "prices": {"cron": "* * * * *", "kind": "prices"}}
    sched = Scheduler(
        _settings(tmp_path, jobs), clock=clock, sleep=_idle_sleep(ref, clock),
        runners={"markets": job, "prices": job}, lock=False,
    )  # fmt: skip
    ref.append(sched)
    sched.run(until=START + timedelta(minutes=5))
    assert done == ["markets"]  # the running job finished; the queued one was dropped
    assert [e.kind for e in sched.events if e.job == "markets"][-1] == "succeeded"
