"""The next day side by side (issue 18): an incremental `geckolake run` vs an incremental dlt load.

W0 (``versus``) compares first loads. What a user pays every day after is the next-day run: the
lake (or dlt pipeline) already holds W0, the market has moved one day, and the run must add that
day without losing or duplicating anything. Two simulators with the same seed serve the market as
of W0's ``NOW`` and of ``NOW + 1 day`` (the simulator's prices are a function of time, so day 2
extends day 1's history).

Per round, for each command, a fresh folder gets W0 against the day-1 simulator (untimed), then
the next-day run against the day-2 simulator is measured (``measure.run_measured``) with its calls:

* ``geckolake``: ``geckolake run`` with ``GECKOLAKE_AS_OF`` one day later on the same lake; its
  planner decides what to fetch (the markets pages and each top-100 coin's history since its last
  stored point), merges into silver and gold, refreshes analytics and runs the checks;
* ``dlt``: the same ``rest_api`` pipeline loaded again (``bench/peers/dlt_rest_api.py``) with the
  markets replaced and the price history merged on (coin_id, ts), for the chart window a dlt user
  would ask for: from day 1's ``NOW`` to day 2's. It lands rows only.

Both must make the same calls per endpoint (checked each round, as in ``versus``). Rounds run
A B / B A. Reported as JSON lines (medians, min–max, per-round ratios) and a markdown table on
stderr. Knobs: BENCH_VERSUS_ROUNDS (default 5), BENCH_VERSUS_COMMANDS (``geckolake,dlt``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from bench import peers
from bench.common import child_env, log
from bench.measure import Sample, run_measured
from bench.versus import calls_since_reset, report, rounds_of
from bench.whole_command import COINS, GECKOLAKE, HISTORY_COINS, HISTORY_DAYS, NOW, geckolake_env, spec
from geckolake.simulator import SimulatorConfig, running_simulator

COMMANDS = ("geckolake", "dlt")
NEXT = NOW + timedelta(days=1)

# A command's two runs on one work folder: (day-1 W0, day-2 next-day) argv and environment.
Run = Callable[[str], tuple[list[str], dict[str, str]]]


def commands(day1: str, day2: str) -> dict[str, tuple[Run, Run]]:
    w0 = spec(day1)
    # The day-2 window a dlt user would load: from where day 1's window ended to now.
    chart = {**w0["chart"], "from": str(int(NOW.timestamp())), "to": str(int(NEXT.timestamp()))}  # type: ignore[dict-item]
    next_day = {**w0, "base": day2, "chart": chart}

    def geckolake_run(url: str, as_of: str) -> Run:
        def run(work: str) -> tuple[list[str], dict[str, str]]:
            env = geckolake_env(url, str(Path(work) / "lake"))
            env["GECKOLAKE_AS_OF"] = as_of
            return [str(GECKOLAKE), "run"], env

        return run

    def dlt_run(day: dict[str, object]) -> Run:
        def run(work: str) -> tuple[list[str], dict[str, str]]:
            python = peers.ensure(peers.DLT)
            arg = json.dumps({**day, "workdir": work, "loader_file_format": "parquet", "history_write": "merge"})
            return [str(python), str(peers.DLT.script_path), arg], child_env()

        return run

    return {
        "geckolake": (geckolake_run(day1, NOW.isoformat()), geckolake_run(day2, NEXT.isoformat())),
        "dlt": (dlt_run(w0), dlt_run(next_day)),
    }


def main() -> None:
    rounds = int(os.environ.get("BENCH_VERSUS_ROUNDS", "5"))
    names = [c for c in os.environ.get("BENCH_VERSUS_COMMANDS", ",".join(COMMANDS)).split(",") if c]
    if "dlt" in names:
        log(f"dlt peer: {peers.ensure(peers.DLT)}")
    base = SimulatorConfig(port=0, coins=COINS + 500, plan="unlimited", now=NOW, clean=True)
    results: list[dict[str, Sample]] = []
    per_endpoint: dict[str, dict[str, dict[str, int]]] = {}
    outputs: dict[str, str] = {}
    with (
        running_simulator(base) as day1,
        running_simulator(replace(base, now=NEXT)) as day2,
        tempfile.TemporaryDirectory(prefix="bench-versus-next-") as tmp,
    ):
        root2 = day2.rsplit("/api/v3", 1)[0]
        cmds = commands(day1, day2)

        def once(name: str, work: str) -> tuple[Sample, dict[str, dict[str, int]]]:
            os.makedirs(work)
            first, second = cmds[name]
            run_measured(*first(work))  # W0 on day 1, untimed
            httpx.post(root2 + "/__reset")
            sample, out = run_measured(*second(work))
            outputs[name] = out.strip().splitlines()[-1] if out.strip() else ""
            seen = calls_since_reset(root2)
            return replace(sample, calls=sum(sum(v.values()) for v in seen.values())), seen

        for i, row, seen_by in rounds_of(names, rounds, once, tmp):
            counts = {n: {ep: sum(v.values()) for ep, v in seen_by[n].items()} for n in names}
            if len({json.dumps(c, sort_keys=True) for c in counts.values()}) > 1:
                raise SystemExit(f"round {i}: the next-day calls differ per endpoint: {counts}")
            per_endpoint = seen_by
            results.append(row)
            log(f"round {i}: " + ", ".join(f"{n} {row[n].wall_s:.2f}s/{row[n].calls} calls" for n in names))
    params = {
        "workload": "W0 next day", "coins": COINS, "history_coins": HISTORY_COINS, "history_days": HISTORY_DAYS,
        "rounds": rounds, "calls_per_endpoint": per_endpoint.get(names[0], {}),
        "dlt_requirements": list(peers.DLT.requirements), "dlt_rows": outputs.get("dlt"),
    }  # fmt: skip
    report("versus_next_day", names, results, params)


if __name__ == "__main__":
    main()
