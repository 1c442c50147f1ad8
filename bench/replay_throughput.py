"""Replay throughput and memory (issue 3 point 11, issue 6 bench 3): raw → bronze → silver → gold.

Raw market_chart bodies (90 days of hourly points per coin, CoinGecko's shape) are landed with the
real raw store and manifest; then `replay` runs in a fresh child process, timed, with its peak RSS.
Sizes: BENCH_REPLAY_POINTS (comma-separated, default "1000000,5000000,10000000", the issue's three sizes).
Engines: BENCH_REPLAY_ENGINES (comma-separated, default "duckdb"; "duckdb,spark" adds the Spark engine on
local[2], which needs Java): each size is replayed by each engine on the same landed raw files.
Reported: points/s end to end (with and without the analytics refresh) and per stage (raw -> bronze;
bronze -> silver -> gold), seconds per stage (analytics included), peak RSS overall and per stage.
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

from bench.common import child_env, emit, log
from geckolake.api import endpoints as ep
from geckolake.ingest.raw_store import RawStore
from geckolake.lake.catalog import open_lake

NOW = datetime(2026, 11, 20, tzinfo=UTC)
POINTS_PER_BODY = 90 * 24

# The child times replay as a whole and, by wrapping rebuild_all and refresh_analytics, its three
# stages: raw -> bronze (read, gunzip, parse, append), bronze -> silver -> gold (rebuild_all) and the
# gold analytics refresh (owned by analytics/, reported on its own so the rebuild's cost stays
# visible). Peak RSS is also read at the end of each stage (ru_maxrss only grows), to see which
# stage sets it.
CHILD = """
import glob, json, os, resource, sys, threading, time
import geckolake.analytics.refresh as refresh
import geckolake.transform.runner as runner
from geckolake.lake.catalog import open_lake
from geckolake.ingest.replay import replay
stage = {}
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def tree_rss_mb():  # this process and its children (the parse workers), summed
    pids = {os.getpid()}
    for f in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        try: pids |= {int(p) for p in open(f).read().split()}
        except OSError: pass
    total = 0
    for pid in pids:
        try: total += next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
        except (OSError, StopIteration): pass
    return total / 1024
tree_peak = [0.0]
def sample():
    while True:
        tree_peak[0] = max(tree_peak[0], tree_rss_mb()); time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
def timed(name, fn):
    def wrapper(*args, **kwargs):
        stage[name + "_peak_before_mb"] = peak()
        stage[name + "_tree_before_mb"] = tree_peak[0]
        t = time.perf_counter(); out = fn(*args, **kwargs); stage[name] = time.perf_counter() - t
        stage[name + "_peak_after_mb"] = peak()
        return out
    return wrapper
runner.rebuild_all = timed("rebuild", runner.rebuild_all)
refresh.refresh_analytics = timed("analytics", refresh.refresh_analytics)
from geckolake.transform.engine import open_engine
lake = open_lake(__import__('pathlib').Path(sys.argv[1]))
with open_engine(sys.argv[2], master="local[2]") as engine:  # a Spark session starts before the clock
    t = time.perf_counter(); r = replay(lake, workers="auto", engine=engine); dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "rebuild_seconds": stage["rebuild"], "analytics_seconds": stage.get("analytics", 0.0),
                  "bronze_peak_rss_mb": stage["rebuild_peak_before_mb"],
                  "bronze_tree_peak_rss_mb": stage["rebuild_tree_before_mb"],
                  "rebuild_peak_rss_mb": stage["rebuild_peak_after_mb"],
                  "workers_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "tree_peak_rss_mb": max(tree_peak[0], peak()),
                  "points": r.points, "files": r.files, "peak_rss_mb": peak()}))
"""
WARM = (
    "import geckolake.analytics.refresh, geckolake.ingest.replay, geckolake.transform.bronze, "
    "geckolake.transform.runner, pyiceberg.io.pyarrow"
)
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
    sizes = [int(s) for s in os.environ.get("BENCH_REPLAY_POINTS", "1000000,5000000,10000000").split(",")]
    engines = os.environ.get("BENCH_REPLAY_ENGINES", "duckdb").split(",")
    for target in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            lake_path = Path(tmp) / "lake"
            points = land(lake_path, target)
            for engine in engines:
                log(f"landed {points:,} points; replaying on {engine}")
                # Bytecode cache on and warm, as after any install (see bench.common.child_env).
                subprocess.run([sys.executable, "-c", WARM], env=child_env(), check=True)
                proc = subprocess.run(
                    [sys.executable, "-c", CHILD, str(lake_path), engine],
                    capture_output=True,
                    text=True,
                    env=child_env(),
                )
                if proc.returncode != 0:
                    log(proc.stderr)
                    raise SystemExit(1)
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                report(points, r, engine)


def report(points: int, r: dict[str, float], engine: str = "duckdb") -> None:
    params = {"points": points, "bodies": r["files"], "points_per_body": POINTS_PER_BODY, "engine": engine}
    seconds = {
        "end_to_end": r["seconds"],
        "end_to_end_without_analytics": r["seconds"] - r["analytics_seconds"],
        "raw_to_bronze": r["seconds"] - r["rebuild_seconds"] - r["analytics_seconds"],
        "bronze_to_silver_gold": r["rebuild_seconds"],
        "analytics": r["analytics_seconds"],
    }
    log(
        f"[{engine}] replay {r['seconds']:.1f}s (raw->bronze {seconds['raw_to_bronze']:.1f}s, bronze->gold "
        f"{r['rebuild_seconds']:.1f}s, analytics {r['analytics_seconds']:.1f}s), peak {r['peak_rss_mb']:.0f} MiB "
        f"(by end of bronze {r['bronze_peak_rss_mb']:.0f}, of rebuild {r['rebuild_peak_rss_mb']:.0f}); with parse "
        f"workers {r.get('tree_peak_rss_mb', 0):.0f} MiB (bronze stage {r.get('bronze_tree_peak_rss_mb', 0):.0f}, "
        f"largest worker {r.get('workers_peak_rss_mb', 0):.0f})"
    )
    for stage, s in seconds.items():
        if stage != "analytics":  # not a points stage: the analytics work on daily rows
            emit("replay_throughput", "points_per_second", points / s, "points/s", stage=stage, **params)
        emit("replay_throughput", "seconds", s, "s", stage=stage, **params)
    emit("replay_throughput", "peak_rss", r["peak_rss_mb"], "MiB", **params)
    # The parse workers are separate processes: their RSS adds to the replay's (sampled every 50 ms).
    emit("replay_throughput", "peak_rss", r["tree_peak_rss_mb"], "MiB", stage="with_parse_workers", **params)
    for stage, key in (("raw_to_bronze", "bronze_peak_rss_mb"), ("bronze_to_silver_gold", "rebuild_peak_rss_mb")):
        emit("replay_throughput", "peak_rss", r[key], "MiB", stage=f"by_end_of_{stage}", **params)


if __name__ == "__main__":
    main()
