"""Run every benchmark, each in its own process (so peak memory is its own), and collect results.

    python -m bench                 # all
    python -m bench replay_throughput simulator_throughput   # some
    python -m bench versus          # W0 side by side with dlt, the bare loop, the import floor
    python -m bench versus_next_day # the next day after W0, incremental, side by side with dlt

Prints every result as a JSON line and writes them all to bench/results/latest.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "simulator_throughput",
    "rate_limit_use",
    "api_efficiency",
    "replay_throughput",
    "incremental_cost",
    "whole_command",
    "query_latency",
    "analytics",
    "versus",
    "versus_next_day",
]


def main(argv: list[str]) -> int:
    names = argv or [b for b in BENCHES if (HERE / f"{b}.py").exists()]
    results: list[dict[str, object]] = []
    failed = []
    for name in names:
        print(f"# bench {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, stdout=subprocess.PIPE, text=True
        )
        for line in proc.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                print(line, flush=True)
                results.append(json.loads(line))
        if proc.returncode != 0:
            failed.append(name)
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
