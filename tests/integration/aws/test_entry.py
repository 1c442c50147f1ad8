"""The deployed jobs' entry point: the lake lock between concurrent jobs, metrics (its parameters:
tests/unit/deploy/test_glue_args.py). No AWS: the flows are replaced by stand-ins and CloudWatch by a recorder."""

from __future__ import annotations

from typing import Any

import pytest

from geckolake.deploy import entry, jobs
from geckolake.errors import LakeLocked


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _locked_then(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    calls: list[int] = []

    def flow(settings: Any) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise LakeLocked("the lake is being written")
        return "done"

    monkeypatch.setitem(jobs.RUNNERS, "fake", flow)
    return calls


def test_a_job_that_finds_the_lake_locked_tries_again_until_it_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, clock = _locked_then(monkeypatch, 3), Clock()
    result = entry.run_waiting("fake", None, entry.OnLocked(60.0), sleep=clock.sleep, clock=clock)
    assert result == ("done", False) and len(calls) == 4 and clock.slept == [15.0, 15.0, 15.0]


def test_past_its_wait_a_glue_job_fails_and_a_poll_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    _locked_then(monkeypatch, 100)
    clock = Clock()
    with pytest.raises(LakeLocked):
        entry.run_waiting("fake", None, entry.OnLocked(20.0), sleep=clock.sleep, clock=clock)
    assert clock.slept == [15.0, 5.0]
    clock = Clock()
    assert entry.run_waiting("fake", None, entry.OnLocked(20.0, skip=True), sleep=clock.sleep, clock=clock) == (
        None,
        True,
    )


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        self.sent += [{"ns": Namespace, **m} for m in MetricData]


def test_a_skipped_poll_succeeds_and_says_so_in_its_metrics(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GECKOLAKE_LAKE", str(tmp_path / "no-lake"))
    _locked_then(monkeypatch, 100)
    cw = Recorder()
    done = entry.execute("fake", "Ns", on_locked=entry.OnLocked(0.0, skip=True), cloudwatch_client=cw)
    assert done.summary == "fake: skipped, another job holds the lake's writer lock"
    sent = {m["MetricName"]: m["Value"] for m in cw.sent}
    assert sent["JobSucceeded"] == 1.0 and sent["JobFailed"] == 0.0 and sent["JobSkipped"] == 1.0
    assert {m["ns"] for m in cw.sent} == {"Ns"}


def test_a_failed_job_is_counted_as_failed_and_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GECKOLAKE_LAKE", str(tmp_path / "no-lake"))

    class Failed:
        status, run_id, error = "failed", "r1", "the API was unreachable"
        api_calls, retries, rate_limited, failed_requests, rows = 3, 1, 0, 2, {"silver.coins": 5}

    monkeypatch.setitem(jobs.RUNNERS, "fake", lambda settings: Failed())
    cw = Recorder()
    with pytest.raises(jobs.JobFailed, match="fake: failed"):
        entry.execute("fake", "Ns", cloudwatch_client=cw)
    sent = {m["MetricName"]: m["Value"] for m in cw.sent}
    assert (sent["JobFailed"], sent["JobSucceeded"], sent["ApiCalls"], sent["RowsWritten"]) == (1.0, 0.0, 3.0, 5.0)
