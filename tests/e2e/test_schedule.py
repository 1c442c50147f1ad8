"""``geckolake schedule`` as a user runs it: SIGTERM mid-run, the metrics port, one scheduler per lake."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.support import Cli, SimFactory, base_env, lake_hashes

SCOPE = ("--coins", "100", "--history-coins", "4", "--history-days", "40")
SCOPE_ENV = {"GECKOLAKE_COINS": "100", "GECKOLAKE_HISTORY_COINS": "4", "GECKOLAKE_HISTORY_DAYS": "40"}


def _jobs(**jobs: str) -> dict[str, dict[str, str]]:
    """``name=kind`` → a ``[schedule] jobs`` table whose crons never come due during a test (Jan 1st, 03:17)."""
    return {name: {"cron": "17 3 1 1 *", "kind": kind} for name, kind in jobs.items()}


class _Lines:
    """Collects a process's stderr lines in a thread, so a test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if m := rx.search(line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))
                self._cond.wait(left)

    def text(self) -> str:
        self._thread.join(10)
        return "\n".join(self.lines)


def _stop(proc: subprocess.Popen[str], timeout: float) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def test_sigterm_mid_run_finishes_the_job_exits_0_and_leaves_a_consistent_lake(
    tmp_path: Path, simulator: SimFactory
) -> None:
    ref_lake = tmp_path / "ref"
    with simulator() as url:
        Cli(ref_lake, url, base_env(ref_lake, url))("run", *SCOPE, check=True)
    reference = lake_hashes(ref_lake)

    lake = tmp_path / "lake"
    with simulator(latency_ms=150) as url:
        cli = Cli(lake, url, base_env(lake, url))
        # every job fires once at start (history first, by name); the others wait in the queue
        schedule = json.dumps({"jobs": _jobs(history="history", markets="markets", watch="watch")})
        proc = cli.popen("schedule", "--run-now", GECKOLAKE_SCHEDULE=schedule, **SCOPE_ENV)
        err = _Lines(proc)
        err.wait_for(r"job history: fired")
        # the run is in progress once its first responses have landed
        deadline = time.monotonic() + 60
        while not any((lake / "raw").rglob("*.json*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert proc.poll() is None, err.text()
        assert "job history: succeeded" not in "\n".join(err.lines), "SIGTERM came too late to be mid-run"

        assert _stop(proc, timeout=120) == 0, err.text()
        log = err.text()
        assert "stop requested" in log
        # the running job finished its commits after the stop; the queued ones were dropped
        assert log.index("stop requested") < log.index("job history: succeeded"), log
        assert "job markets: dropped" in log and "job watch: dropped" in log, log
        assert "scheduler stopped" in log

        assert not (lake / ".scheduler.lock").exists() or _lock_is_free(lake)
        tables = cli("tables", check=True)
        assert "silver.market_snapshots" in tables.stdout
        cli("run", *SCOPE, check=True)
    assert lake_hashes(lake) == reference


def _lock_is_free(lake: Path) -> bool:
    import fcntl
    import os

    fd = os.open(lake / ".scheduler.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_metrics_port_serves_lake_and_scheduler_series_and_a_second_scheduler_is_refused(
    tmp_path: Path, simulator: SimFactory
) -> None:
    lake = tmp_path / "lake"
    with simulator() as url:
        cli = Cli(lake, url, base_env(lake, url))
        schedule = json.dumps({"jobs": _jobs(markets="markets"), "metrics_port": 0})
        proc = cli.popen("schedule", "--run-now", GECKOLAKE_SCHEDULE=schedule, GECKOLAKE_COINS="100")
        err = _Lines(proc)
        try:
            port = int(err.wait_for(r"serving metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))
            err.wait_for(r"job markets: succeeded", timeout=120)

            body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
            families = {f.name: f for f in text_string_to_metric_families(body)}
            assert {"geckolake_scheduler_events", "geckolake_runs", "geckolake_api_calls"} <= set(families), body
            events = {
                (s.labels["job"], s.labels["event"]): s.value
                for s in families["geckolake_scheduler_events"].samples
                if s.name.endswith("_total")
            }
            assert events[("markets", "fired")] == 1 and events[("markets", "succeeded")] == 1
            assert any(
                s.labels == {"command": "markets", "status": "succeeded"} and s.value == 1
                for s in families["geckolake_runs"].samples
            ), body
            assert families["geckolake_scheduler_budget_stopped"].samples[0].value == 0

            second = cli("schedule", GECKOLAKE_SCHEDULE=schedule, timeout=60)
            assert second.returncode != 0
            assert "a scheduler is already running" in second.stdout + second.stderr
        finally:
            if proc.poll() is None:
                assert _stop(proc, timeout=60) == 0, err.text()
    assert "scheduler stopped" in err.text()
