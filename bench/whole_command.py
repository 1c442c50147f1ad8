"""Whole-command cost, W0 (issue 6, bench 5): `geckolake run` vs a bare HTTP loop, both as processes.

W0: an unlimited-rate simulator with clean data (``clean=True``); markets for the top 2,000 coins
(8 pages of 250) + 365 days of daily history for the top 100, from an empty lake to gold, extras
off (GECKOLAKE_EXTRAS=false) so both sides make exactly the same 108 calls.

* geckolake: the whole ``.venv/bin/geckolake run`` process (interpreter start-up, imports, settings,
  fetch, raw landing, bronze/silver/gold commits), configured by environment variables only;
* bare loop: a subprocess running a small script (``BARE`` below) with one ``httpx.Client``: the
  same markets pages, then the same chart call for the first 100 ids of those pages, bodies kept
  in memory. Start-up is included the same way (a fresh interpreter importing httpx).

* import floor: a fresh interpreter that only imports what any lake-writing command needs
  (``FLOOR_IMPORTS``: the PyIceberg SQL catalog and its PyArrow IO, DuckDB, httpx) and exits. No
  ``geckolake run`` can be faster than this; it shows how much of the ratio is the stack's start-up.

Both talk to the same simulator (in this process's background thread) in the same bench run,
after one untimed warm-up of each (bytecode cache, see ``common.child_env``), alternating,
BENCH_W0_REPS times (default 4); the simulator's GET /__stats is read after each process and
must show the same calls per endpoint for both. Reported: medians and their ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import child_env, emit, log, median
from geckolake.config import Settings
from geckolake.ingest import planner
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COINS, HISTORY_COINS, HISTORY_DAYS = 2000, 100, 365
GECKOLAKE = Path(sys.executable).parent / "geckolake"

BARE = r"""
import json, sys
import httpx
spec = json.loads(sys.argv[1])
with httpx.Client(base_url=spec["base"], timeout=30) as client:
    ids, size = [], 0
    for params in spec["markets"]:
        r = client.get("/coins/markets", params=params)
        r.raise_for_status()
        size += len(r.content)
        ids += [row["id"] for row in r.json()]
    for coin in ids[: spec["k"]]:
        r = client.get(f"/coins/{coin}/market_chart/range", params=spec["chart"])
        r.raise_for_status()
        size += len(r.content)
print(json.dumps({"bytes": size}))
"""


FLOOR_IMPORTS = "import pyiceberg.catalog.sql, pyiceberg.io.pyarrow, duckdb, httpx"


def spec(base: str) -> dict[str, object]:
    """The calls geckolake plans for W0 (markets pages and the daily chart window), for the bare loop."""
    s = Settings(plan="pro", coins=COINS, history_coins=HISTORY_COINS, history_days=HISTORY_DAYS, as_of=NOW)
    markets = [dict(r.params) for r in planner.plan_markets(s)]
    start = planner.history_start(s, NOW)
    chart = {
        "vs_currency": "usd",
        "from": str(int(start.timestamp())),
        "to": str(int(NOW.timestamp())),
        "interval": "daily",
    }
    return {"base": base, "markets": markets, "chart": chart, "k": HISTORY_COINS}


def geckolake_env(url: str, lake: str) -> dict[str, str]:
    """The environment of a W0 ``geckolake run`` (and of the other W0 commands, which ignore it)."""
    return child_env(**{
        "GECKOLAKE_LAKE": lake, "COINGECKO_BASE_URL": url, "GECKOLAKE_PLAN": "pro",
        "GECKOLAKE_RATE_PER_MIN": "600000", "GECKOLAKE_AS_OF": NOW.isoformat(), "GECKOLAKE_COINS": str(COINS),
        "GECKOLAKE_HISTORY_COINS": str(HISTORY_COINS), "GECKOLAKE_HISTORY_DAYS": str(HISTORY_DAYS),
        "GECKOLAKE_EXTRAS": "false",
    })  # fmt: skip


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        log(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"{cmd[0]} failed with {proc.returncode}")
    return elapsed


def stats(root: str) -> dict[str, object]:
    body = httpx.get(root + "/__stats").json()
    httpx.post(root + "/__reset")
    return body["endpoints"]


def main() -> None:
    reps = int(os.environ.get("BENCH_W0_REPS", "4"))
    cfg = SimulatorConfig(port=0, coins=COINS + 500, plan="unlimited", now=NOW, clean=True)
    gl_times: list[float] = []
    bare_times: list[float] = []
    floor_times: list[float] = []
    with running_simulator(cfg) as url, tempfile.TemporaryDirectory() as tmp:
        root = url.rsplit("/api/v3", 1)[0]
        bare_cmd = [sys.executable, "-c", BARE, json.dumps(spec(url))]

        def env_for(lake: str) -> dict[str, str]:
            return geckolake_env(url, lake)

        # One untimed run of each fills the bytecode cache (see common.child_env).
        timed([str(GECKOLAKE), "run"], env_for(str(Path(tmp) / "warm-up")))
        timed(bare_cmd, env_for(str(Path(tmp) / "warm-up")))
        timed([sys.executable, "-c", FLOOR_IMPORTS], env_for(str(Path(tmp) / "warm-up")))
        httpx.post(root + "/__reset")
        for i in range(reps):
            env = env_for(str(Path(tmp) / f"lake-{i}"))
            # Alternate which goes first so that drift in the machine's load hits both alike.
            order = [("geckolake", [str(GECKOLAKE), "run"]), ("bare", bare_cmd)]
            seen = {}
            for name, cmd in order if i % 2 == 0 else order[::-1]:
                t = timed(cmd, env)
                (gl_times if name == "geckolake" else bare_times).append(t)
                seen[name] = stats(root)
            floor_times.append(timed([sys.executable, "-c", FLOOR_IMPORTS], env))
            if seen["geckolake"] != seen["bare"]:
                raise SystemExit(f"the call sets differ: geckolake {seen['geckolake']} vs bare {seen['bare']}")
            calls = sum(sum(v.values()) for v in seen["bare"].values())  # type: ignore[attr-defined,misc]
            log(
                f"rep {i}: geckolake {gl_times[-1]:.2f}s, bare loop {bare_times[-1]:.2f}s, {calls} calls each; "
                f"import floor {floor_times[-1]:.2f}s"
            )
    gl, bare = median(gl_times), median(bare_times)
    params = {
        "workload": "W0", "coins": COINS, "history_coins": HISTORY_COINS, "history_days": HISTORY_DAYS,
        "calls": calls, "repetitions": reps, "geckolake_runs_s": [round(t, 3) for t in gl_times],
        "bare_runs_s": [round(t, 3) for t in bare_times], "calls_per_endpoint": seen["bare"],
        "import_floor_runs_s": [round(t, 3) for t in floor_times], "import_floor": FLOOR_IMPORTS,
    }  # fmt: skip
    emit("whole_command", "geckolake_run_seconds", gl, "s", **params)
    emit("whole_command", "bare_loop_seconds", bare, "s", **params)
    emit("whole_command", "geckolake_vs_bare", gl / bare, "ratio", **params)
    emit("whole_command", "import_floor_seconds", median(floor_times), "s", **params)


if __name__ == "__main__":
    main()
