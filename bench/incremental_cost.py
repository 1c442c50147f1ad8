"""Incremental cost (issue 6, bench 4): compute time of a next-day run as the history grows.

A lake holding C coins (default 1,000) × 1, 2 and 5 years of daily history is built without HTTP:
bronze rows (CoinGecko's shapes, built column-wise like ``geckolake.lake.testing.bronze_batch``)
go through the real ``apply_batch`` in chunks of BENCH_INCR_BUILD_DAYS days, forward in time, with
the matching ``ops.raw_manifest`` rows. Each history day has, per coin, a daily 00:00 price point,
one market snapshot (with a 1-point sparkline, so every date partition exists) and one manifest row.

At each checkpoint (1, 2, 5 years) the compute of a next-day run is timed, exactly as
``ingest/pipeline.py`` does it minus the HTTP and the JSON parsing:

1. ``planner.read_lake_state`` (what the planner reads from the lake);
2. ``apply_batch`` of the markets batch (C snapshots with 168-point sparklines) + manifest append;
3. ``apply_batch`` of the daily history in batches of 200 coins (``BATCH_SIZE``), one new 00:00
   point and the live "now" point per coin, each followed by its manifest append.

The run is repeated (BENCH_INCR_REPS, default 3; the same batches re-applied, which the merges make
idempotent) and the median reported, with the flatness ratio (5 years ÷ 1 year).
Sizes: BENCH_INCR_COINS (1000), BENCH_INCR_YEARS ("1,2,5").
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench.common import emit, log, median
from geckolake.ingest import planner
from geckolake.ingest.pipeline import BATCH_SIZE
from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.tables import bronze_schemas
from geckolake.transform.runner import apply_batch

DAY = timedelta(days=1)
START = datetime(2021, 1, 1, tzinfo=UTC)
US = 1_000_000


def columnar_bronze(endpoint: str, columns: Mapping[str, Any], n: int, *, fetched_at: Any, run_id: str) -> pa.Table:
    """A bronze table for ``endpoint`` from whole columns (absent columns null), lineage filled in.

    Same result as ``geckolake.lake.testing.bronze_batch`` but built column-wise: building
    millions of rows through Python dicts would dominate the benchmark's set-up time.
    """
    schema = bronze_schemas()[0][endpoint]
    arrays = []
    for f in schema:
        if f.name in columns:
            arrays.append(
                pa.array(columns[f.name], type=f.type) if not isinstance(columns[f.name], pa.Array) else columns[f.name]
            )
        elif f.name == "_run_id":
            arrays.append(pa.array([run_id] * n, type=f.type))
        elif f.name == "_fetched_at":
            arrays.append(
                pa.array(fetched_at, type=f.type)
                if isinstance(fetched_at, np.ndarray)
                else pa.array([fetched_at] * n, type=f.type)
            )
        elif f.name in ("_raw_sha256", "_raw_path"):
            arrays.append(pa.array([f"{endpoint}/{run_id}"] * n, type=f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def coin_ids(coins: int) -> list[str]:
    return [f"coin-{i:05d}" for i in range(coins)]


def days_batch(ids: Sequence[str], first: datetime, days: int, run_id: str) -> dict[str, pa.Table]:
    """History days [first, first + days): one daily 00:00 point and one snapshot per coin per day."""
    c, d = len(ids), days
    n = c * d
    day_us = (np.arange(d, dtype=np.int64) * 86_400 + int(first.timestamp())) * US
    ts = np.tile(day_us, c).astype("datetime64[us]")
    coin_col = np.repeat(np.array(ids, dtype=object), d)
    rng = np.random.default_rng(int(first.timestamp()) + days)
    price = 100 * np.exp(rng.normal(0, 0.02, n))
    fetched = (np.tile(day_us, c) + 3_600 * US).astype("datetime64[us]")  # fetched at 01:00
    chart = columnar_bronze(
        "market_chart",
        {
            "coin_id": coin_col, "vs_currency": ["usd"] * n, "granularity": ["daily"] * n, "ts": ts,
            "price": price, "market_cap": price * 1e7, "total_volume": price * 1e5, "is_last": [False] * n,
        },
        n, fetched_at=fetched, run_id=run_id,
    )  # fmt: skip
    snap_ts = (np.tile(day_us, c) + 1_800 * US).astype("datetime64[us]")  # last_updated 00:30
    ranks = np.repeat(np.arange(1, c + 1, dtype=np.int64), d)
    markets = columnar_bronze(
        "coins_markets",
        {
            "coin_id": coin_col, "symbol": coin_col, "name": coin_col, "vs_currency": ["usd"] * n,
            "current_price": price, "market_cap": price * 1e7, "market_cap_rank": ranks,
            "total_volume": price * 1e5, "last_updated": snap_ts,
            "sparkline_7d": pa.array([[float(p)] for p in price], type=pa.list_(pa.float64())),
            "page": (ranks - 1) // 250 + 1, "position": (ranks - 1) % 250 + 1,
        },
        n, fetched_at=fetched, run_id=run_id,
    )  # fmt: skip
    return {"market_chart": chart, "coins_markets": markets}


def manifest_rows(ids: Sequence[str], days: Sequence[datetime], run_id: str) -> pa.Table:
    """ops.raw_manifest rows of daily runs: ceil(C/250) markets pages + one daily chart call per coin."""
    cols: dict[str, list[Any]] = {
        k: [] for k in ("endpoint", "path", "params_json", "coin_id", "granularity", "fetched_at")
    }
    pages = -(-len(ids) // 250)
    for day in days:
        at = day + timedelta(hours=1)
        for p in range(pages):
            cols["endpoint"].append("coins_markets")
            cols["path"].append("/coins/markets")
            cols["params_json"].append(json.dumps({"page": p + 1, "per_page": 250, "vs_currency": "usd"}))
            cols["coin_id"].append(None)
            cols["granularity"].append(None)
            cols["fetched_at"].append(at)
        frm = json.dumps({"from": int((day - DAY).timestamp()) + 1, "to": int(at.timestamp()), "vs_currency": "usd"})
        for coin in ids:
            cols["endpoint"].append("market_chart_range")
            cols["path"].append(f"/coins/{coin}/market_chart/range")
            cols["params_json"].append(frm)
            cols["coin_id"].append(coin)
            cols["granularity"].append("daily")
            cols["fetched_at"].append(at)
    n = len(cols["endpoint"])
    return pa.table({
        "run_id": [run_id] * n, "seq": list(range(n)),
        **{k: cols[k] for k in ("endpoint", "path", "params_json", "coin_id")},
        "vs_currency": ["usd"] * n, "granularity": cols["granularity"], "status": [200] * n, "outcome": ["ok"] * n,
        "error": pa.nulls(n, pa.string()), "fetched_at": pa.array(cols["fetched_at"], pa.timestamp("us", "UTC")),
        "elapsed_ms": [1.0] * n, "attempts": [1] * n, "sha256": ["0" * 64] * n, "size_bytes": [100] * n,
        "raw_path": [f"raw/{run_id}"] * n,
    })  # fmt: skip


def next_day_batches(ids: Sequence[str], day: datetime) -> tuple[dict[str, pa.Table], list[dict[str, pa.Table]]]:
    """The bronze of a run at ``day`` 01:00: the markets batch and the history batches of 200 coins."""
    c = len(ids)
    now = day + timedelta(hours=1)
    rng = np.random.default_rng(int(day.timestamp()))
    price = 100 * np.exp(rng.normal(0, 0.02, c))
    ranks = np.arange(1, c + 1, dtype=np.int64)
    spark = pa.array([list(p * np.exp(rng.normal(0, 0.001, 168))) for p in price], type=pa.list_(pa.float64()))
    markets = columnar_bronze(
        "coins_markets",
        {
            "coin_id": list(ids), "symbol": list(ids), "name": list(ids), "vs_currency": ["usd"] * c,
            "current_price": price, "market_cap": price * 1e7, "market_cap_rank": ranks, "total_volume": price * 1e5,
            "last_updated": [now - timedelta(minutes=1)] * c, "sparkline_7d": spark,
            "page": (ranks - 1) // 250 + 1, "position": (ranks - 1) % 250 + 1,
        },
        c, fetched_at=now, run_id="next-day",
    )  # fmt: skip
    history = []
    for i in range(0, c, BATCH_SIZE):
        part = ids[i : i + BATCH_SIZE]
        n = 2 * len(part)
        pp = np.repeat(price[i : i + len(part)], 2)
        chart = columnar_bronze(
            "market_chart",
            {
                "coin_id": [x for coin in part for x in (coin, coin)], "vs_currency": ["usd"] * n,
                "granularity": ["daily"] * n, "ts": [day, now - timedelta(minutes=1)] * len(part),
                "price": pp, "market_cap": pp * 1e7, "total_volume": pp * 1e5, "is_last": [False, True] * len(part),
            },
            n, fetched_at=now, run_id="next-day",
        )  # fmt: skip
        history.append({"market_chart": chart})
    return markets, history


def next_day_run(lake: Lake, ids: Sequence[str], day: datetime) -> dict[str, float]:
    """Time the compute of one next-day run (see the module docstring); seconds per part."""
    markets, history = next_day_batches(ids, day)
    manifest = manifest_rows(ids, [day], "next-day")
    pages = -(-len(ids) // 250)
    t0 = time.perf_counter()
    lake.append("ops.raw_manifest", manifest.slice(0, pages))
    apply_batch(lake, {"coins_markets": markets}, None)
    t1 = time.perf_counter()
    state = planner.read_lake_state(lake, "usd")
    t2 = time.perf_counter()
    for i, batch in enumerate(history):
        apply_batch(lake, batch, None)
        lake.append("ops.raw_manifest", manifest.slice(pages + i * BATCH_SIZE, BATCH_SIZE))
    t3 = time.perf_counter()
    assert len(state.daily_end) == len(ids), "the lake should hold every coin's history"
    return {"markets_batch": t1 - t0, "read_lake_state": t2 - t1, "history_batches": t3 - t2, "total": t3 - t0}


def main() -> None:
    coins = int(os.environ.get("BENCH_INCR_COINS", "1000"))
    years = [int(y) for y in os.environ.get("BENCH_INCR_YEARS", "1,2,5").split(",")]
    reps = int(os.environ.get("BENCH_INCR_REPS", "3"))
    chunk = int(os.environ.get("BENCH_INCR_BUILD_DAYS", "365"))
    ids = coin_ids(coins)
    totals: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lake = open_lake(Path(tmp) / "lake")
        built = 0  # days of history in the lake
        for y in sorted(years):
            target = 365 * y
            while built < target:
                days = min(chunk, target - built)
                first = START + built * DAY
                t = time.perf_counter()
                apply_batch(lake, days_batch(ids, first, days, f"build-{built}"), None)
                lake.append(
                    "ops.raw_manifest", manifest_rows(ids, [first + k * DAY for k in range(days)], f"build-{built}")
                )
                built += days
                log(f"built {built} days × {coins} coins ({time.perf_counter() - t:.1f}s for {days} days)")
            day = START + built * DAY
            runs = [next_day_run(lake, ids, day) for _ in range(reps)]
            parts = {k: median([r[k] for r in runs]) for k in runs[0]}
            totals[y] = parts["total"]
            stats = {s.name: (s.rows, s.data_files) for s in lake.table_stats()}
            log(f"{y}y: next-day run {[round(r['total'], 2) for r in runs]} s; medians {parts}")
            params = {
                "coins": coins, "history_years": y, "history_days": built, "repetitions": reps,
                "price_history_rows": stats["silver.price_history"][0],
                "raw_manifest_rows": stats["ops.raw_manifest"][0],
                "runs_s": [round(r["total"], 3) for r in runs],
                "parts_median_s": {k: round(v, 3) for k, v in parts.items()},
            }  # fmt: skip
            emit("incremental_cost", "next_day_seconds", parts["total"], "s", **params)
    if len(totals) > 1:
        lo, hi = min(totals), max(totals)
        emit(
            "incremental_cost", "flatness_ratio", totals[hi] / totals[lo], "ratio",
            coins=coins, numerator_years=hi, denominator_years=lo,
        )  # fmt: skip


if __name__ == "__main__":
    main()
