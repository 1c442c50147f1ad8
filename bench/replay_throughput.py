"""Replay throughput and memory (issue 3 point 11, issue 6 bench 3): raw → bronze → silver → gold.

Raw market_chart bodies (90 days of hourly points per coin, CoinGecko's shape) are landed with the
real raw store and manifest; then `replay` runs in a fresh child process, timed, with its peak RSS.
Sizes: BENCH_REPLAY_POINTS (comma-separated, default "1000000,10000000").
Reported: points/s end to end and per stage (raw -> bronze; bronze -> silver -> gold), peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from bench.common import emit, log
from geckolake.api import endpoints as ep
from geckolake.ingest.raw_store import RawStore
from geckolake.lake.catalog import open_lake

NOW = datetime(2026, 11, 20, tzinfo=UTC)
POINTS_PER_BODY = 90 * 24

# The child times replay as a whole and, by wrapping rebuild_all, its two stages: raw -> bronze
# (read, gunzip, parse, append) and bronze -> silver -> gold (rebuild_all).
CHILD = """
import json, resource, sys, time
import geckolake.transform.runner as runner
from geckolake.lake.catalog import open_lake
from geckolake.ingest.replay import replay
stage = {}
original = runner.rebuild_all
def timed_rebuild(lake):
    t = time.perf_counter(); out = original(lake); stage["rebuild"] = time.perf_counter() - t; return out
runner.rebuild_all = timed_rebuild
lake = open_lake(__import__('pathlib').Path(sys.argv[1]))
t = time.perf_counter(); r = replay(lake); dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "rebuild_seconds": stage["rebuild"], "points": r.points, "files": r.files,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
DISTINCT_BODIES = 8  # bodies are reused across coins (the coin is in the request): landing stays fast


def land(lake_path: Path, points: int) -> int:
    lake = open_lake(lake_path)
    store = RawStore(lake_path)
    rng = np.random.default_rng(1)
    coins = max(1, points // POINTS_PER_BODY)
    start_ms = int((NOW - timedelta(days=90)).timestamp() * 1000)
    ts = start_ms + np.arange(POINTS_PER_BODY, dtype=np.int64) * 3_600_000
    rows = []
    bodies = []
    for _ in range(DISTINCT_BODIES):
        price = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, POINTS_PER_BODY)))
        bodies.append(
            orjson.dumps(
                {
                    "prices": np.column_stack([ts, price]).tolist(),
                    "market_caps": np.column_stack([ts, price * 1e7]).tolist(),
                    "total_volumes": np.column_stack([ts, price * 1e5]).tolist(),
                }
            )
        )
    for i in range(coins):
        body = bodies[i % DISTINCT_BODIES]
        req = ep.market_chart_range(f"coin-{i}", "usd", start_ms // 1000, int(NOW.timestamp()), "hourly")
        raw = store.write(req.endpoint, "bench", i, NOW, body)
        rows.append({
            "run_id": "bench", "seq": i, "endpoint": req.endpoint, "path": req.path,
            "params_json": json.dumps(req.params_dict, sort_keys=True), "coin_id": req.coin_id,
            "vs_currency": "usd", "granularity": "hourly", "status": 200, "outcome": "ok", "error": None,
            "fetched_at": NOW, "elapsed_ms": 1.0, "attempts": 1, "sha256": raw.sha256,
            "size_bytes": raw.size_bytes, "raw_path": raw.raw_path,
        })  # fmt: skip
    lake.append("ops.raw_manifest", pa.Table.from_pylist(rows))
    return coins * POINTS_PER_BODY


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_REPLAY_POINTS", "1000000,10000000").split(",")]
    for target in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            lake_path = Path(tmp) / "lake"
            points = land(lake_path, target)
            log(f"landed {points:,} points; replaying")
            proc = subprocess.run([sys.executable, "-c", CHILD, str(lake_path)], capture_output=True, text=True)
            if proc.returncode != 0:
                log(proc.stderr)
                raise SystemExit(1)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            params = {"points": points, "bodies": r["files"], "points_per_body": POINTS_PER_BODY}
            parse_s = r["seconds"] - r["rebuild_seconds"]
            log(f"replay {r['seconds']:.1f}s (raw->bronze {parse_s:.1f}s, bronze->gold {r['rebuild_seconds']:.1f}s), "
                f"peak {r['peak_rss_mb']:.0f} MiB")  # fmt: skip
            emit(
                "replay_throughput",
                "points_per_second",
                points / r["seconds"],
                "points/s",
                stage="end_to_end",
                **params,
            )
            emit(
                "replay_throughput", "points_per_second", points / parse_s, "points/s", stage="raw_to_bronze", **params
            )
            emit(
                "replay_throughput", "points_per_second", points / r["rebuild_seconds"], "points/s",
                stage="bronze_to_silver_gold", **params,
            )  # fmt: skip
            emit("replay_throughput", "seconds", r["seconds"], "s", stage="end_to_end", **params)
            emit("replay_throughput", "peak_rss", r["peak_rss_mb"], "MiB", **params)


if __name__ == "__main__":
    main()
