"""Rate-limit use (issue 6, bench 2): how much of the allowed rate the client keeps busy.

A simulator enforces R = 500 calls/min (a 60 s window opened by the first call) with 50 ms latency.
The run: markets for 500 coins (2 pages) + 30 days of daily history for those 500 coins + the 4
extras + 6 category memberships (stablecoins and the top 5) = 512 calls, i.e. more than one
window's worth, so the limit can bind.

How the rate is measured (server side, honestly): the simulator runs in a child process whose
request handler is wrapped to record when each API request *arrives* and its status. The fetch
phase is the span from the first to the last arrival; any time the pipeline spends not fetching
inside it (waiting for the markets pages before it can plan the history, a commit it waits for)
counts against use, as it would against a real plan. ``use_of_limit`` = (answered calls - 1) /
span × 60 / R. Also reported: the share of 429s (429 answers ÷ all arrivals), the longest idle gap
inside the fetch phase, the median and mean pacing rate between consecutive arrivals (what the
limiter aims at: R × 0.98), and the whole-run rate (calls ÷ wall time of flows.run, start-up,
imports and the last commits and analytics included).

The simulator has its own process because a real API server does not share the client's GIL: in
one process its CPU work (building 250-coin market pages with sparklines) stalls the client's
event loop and the client's commits slow the server, and both would be charged to the client.

Then the server enforces 400/min while the client believes 500, and 300/min (a limit that surely
binds): share of 429s and completion. BENCH_RATE_HISTORY_COINS (default 500) sets the size,
BENCH_RATE_SERVER_RATES (default "500,400,300") the server rates run.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import emit, log
from geckolake import flows
from geckolake.config import Settings
from geckolake.simulator import SimulatorConfig, running_simulator
from geckolake.simulator.app import SimulatorApp

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATENCY_MS = 50


def _serve(cfg: SimulatorConfig, conn: Connection) -> None:
    """Child process: serve, send the URL, and on "stop" send every (monotonic arrival time, status)."""
    arrivals: list[tuple[float, int]] = []
    original = SimulatorApp.api_view

    async def api_view(self: SimulatorApp, request: Any) -> Any:
        arrived = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        response = await original(self, request)
        arrivals.append((arrived, response.status_code))
        return response

    SimulatorApp.api_view = api_view  # type: ignore[method-assign]
    with running_simulator(cfg) as url:
        conn.send(url)
        conn.recv()
    conn.send(arrivals)


@contextmanager
def simulator_process(cfg: SimulatorConfig) -> Iterator[tuple[str, list[tuple[float, int]]]]:
    """Run the simulator in a child process; yield its URL and the list its arrivals fill on exit."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_serve, args=(cfg, theirs), daemon=True)
    child.start()
    arrivals: list[tuple[float, int]] = []
    try:
        if not ours.poll(60):
            raise RuntimeError("the simulator process did not start")
        yield ours.recv(), arrivals
        ours.send("stop")
        arrivals.extend(ours.recv())
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()


def one(server_rate: int, client_rate: int, history_coins: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SimulatorConfig(
            port=0, coins=history_coins + 200, plan="pro", rate_per_min=server_rate, latency_ms=LATENCY_MS,
            now=NOW, clean=True,
        )  # fmt: skip
        with simulator_process(cfg) as (url, recorded):
            s = Settings(
                lake=Path(tmp) / "lake", base_url=url, plan="pro", rate_per_min=client_rate, concurrency=8,
                coins=history_coins, history_coins=history_coins, history_days=30, as_of=NOW,
            )  # fmt: skip
            started = time.perf_counter()
            result = flows.run(s, command="bench")
            elapsed = time.perf_counter() - started
    arrivals = sorted(recorded)
    ok = [t for t, status in arrivals if status == 200]
    n_429 = sum(1 for _, status in arrivals if status == 429)
    span = ok[-1] - ok[0]
    achieved = (len(ok) - 1) / span * 60.0
    gaps = [b - a for a, b in itertools.pairwise(ok)]
    pacing = 60.0 / statistics.median(gaps)
    mean_pacing = 60.0 / statistics.mean(g for g in gaps if g < 1.0)  # without pauses (429s, waits)
    share_429 = n_429 / len(arrivals)
    completed = result.failed_requests == 0 and result.status == "succeeded"
    log(
        f"server {server_rate}/min, client {client_rate}/min: {len(arrivals)} arrivals ({n_429} x 429) "
        f"over {span:.1f}s of fetch phase, run {elapsed:.1f}s; achieved {achieved:.0f}/min, "
        f"pacing median {pacing:.0f}/min, mean {mean_pacing:.0f}/min; longest gap {max(gaps):.2f}s; "
        f"status {result.status}"
    )
    params = {
        "server_rate": server_rate, "client_rate": client_rate, "latency_ms": LATENCY_MS, "calls": len(arrivals),
        "answered": len(ok), "rate_limited": n_429, "fetch_phase_s": round(span, 3), "run_s": round(elapsed, 3),
        "longest_gap_s": round(max(gaps), 3), "median_pacing_per_min": round(pacing, 1),
        "mean_pacing_per_min": round(mean_pacing, 1),
        "whole_run_use": round(len(ok) / elapsed * 60.0 / server_rate, 4),
    }  # fmt: skip
    emit("rate_limit_use", "use_of_limit", achieved / server_rate, "ratio", **params)
    emit("rate_limit_use", "share_429", share_429, "ratio", **params)
    emit("rate_limit_use", "completed", 1.0 if completed else 0.0, "bool", **params)


def main() -> None:
    k = int(os.environ.get("BENCH_RATE_HISTORY_COINS", "500"))
    # BENCH_RATE_SERVER_RATES picks cases, e.g. "500" (default: all three).
    rates = [int(r) for r in os.environ.get("BENCH_RATE_SERVER_RATES", "500,400,300").split(",")]
    for server_rate in rates:
        # At 400/min the client's own pauses could keep a window under the limit; 300/min surely binds.
        one(server_rate, 500, k)


if __name__ == "__main__":
    main()
