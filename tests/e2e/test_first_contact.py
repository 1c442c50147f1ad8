"""First contact and failure modes (issue 19): an unreachable API fails fast with one clear line,
an API gone mid-run ends the run and keeps what arrived, Ctrl-C and SIGTERM commit what had arrived
and the ledger tells the truth."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.support import GECKOLAKE, Cli, base_env, last_run, query

NOW_ARGS = ("--coins", "300", "--history-coins", "60", "--history-days", "90")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The simulator as its own process (so it can be killed), slowed down so a run takes seconds."""
    proc = subprocess.Popen(
        [*GECKOLAKE, "simulator", "--port", "0", "--coins", "600", "--plan", "unlimited", "--latency-ms", "40",
         "--now", "2026-11-20T12:00:00"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/api/v3)", line)
    assert match, line
    try:
        yield proc, match.group(1)
    finally:
        proc.kill()
        proc.wait(10)


def test_an_unreachable_api_fails_fast_with_one_line_naming_the_host(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    url = f"http://127.0.0.1:{_closed_port()}/api/v3"
    started = time.monotonic()
    proc = Cli(lake, url, base_env(lake, url))("run", *NOW_ARGS)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    assert "127.0.0.1" in lines[0] and "COINGECKO_BASE_URL" in lines[0]
    assert elapsed < 30, elapsed
    assert not (lake / "catalog.db").exists()  # nothing was fetched: no lake made


def _run_popen(lake: Path, url: str, rate: str) -> subprocess.Popen[str]:
    env = {**base_env(lake, url), "GECKOLAKE_RATE_PER_MIN": rate}
    return subprocess.Popen(
        [*GECKOLAKE, "run", *NOW_ARGS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_history(lake: Path, run: subprocess.Popen[str]) -> None:
    """Until the markets batch is committed (the lake exists) and the history is being fetched."""
    deadline = time.monotonic() + 60
    while not (lake / "catalog.db").exists():
        assert run.poll() is None and time.monotonic() < deadline, "the run ended before its first commit"
        time.sleep(0.1)
    time.sleep(2)


def _manifest_rows(lake: Path, run_id: object) -> int:
    return int(query(lake, f"SELECT count(*) FROM ops.raw_manifest WHERE run_id = '{run_id}'")[0][0])  # type: ignore[arg-type]


def test_an_api_gone_mid_run_ends_the_run_and_keeps_what_arrived(
    tmp_path: Path, sim_process: tuple[subprocess.Popen[str], str]
) -> None:
    sim, url = sim_process
    lake = tmp_path / "lake"
    run = _run_popen(lake, url, "600")
    _wait_for_history(lake, run)
    sim.kill()
    killed = time.monotonic()
    out, err = run.communicate(timeout=150)
    assert time.monotonic() - killed < 120
    assert run.returncode == 1, out + err
    assert err.strip().splitlines()[-1].startswith("error:") and "Traceback" not in err, err
    ledger = last_run(lake)
    assert ledger["status"] == "failed" and "127.0.0.1" in str(ledger["error"])
    assert _manifest_rows(lake, ledger["run_id"]) >= 3  # the markets pages and the history that arrived


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_commits_what_arrived_and_the_ledger_says_so(
    tmp_path: Path, sim_process: tuple[subprocess.Popen[str], str], sig: signal.Signals
) -> None:
    _, url = sim_process
    lake = tmp_path / "lake"
    run = _run_popen(lake, url, "300")
    _wait_for_history(lake, run)  # history is being fetched at 5 calls/s
    run.send_signal(sig)
    stopped = time.monotonic()
    out, err = run.communicate(timeout=60)
    assert time.monotonic() - stopped < 20
    assert run.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err, err
    ledger = last_run(lake)
    assert ledger["status"] == "interrupted" and "interrupted" in str(ledger["error"])
    seconds = (ledger["finished_at"] - ledger["started_at"]).total_seconds()  # type: ignore[operator]
    assert seconds >= 2
    calls = int(ledger["api_calls"])  # type: ignore[call-overload]
    landed = _manifest_rows(lake, ledger["run_id"])
    # every answer received was landed; at most the requests in flight (concurrency 8) were dropped
    assert calls >= 10 and landed >= calls - 8, (calls, landed)
