"""Query latency (issue 6, bench 6): typical dashboard queries on gold, and CLI start-up.

The lake: one real pipeline run against an unlimited-rate simulator with clean data (markets for
the top 1,000 coins with their 7-day hourly sparklines, 365 days of daily history for the top 100).
Each query of QUERIES runs

* via the library: ``run_query(open_lake(path), sql)`` in this process, BENCH_QUERY_REPS times
  (default 10; the lake opened once, as a dashboard process would; every call opens its own
  DuckDB connection over the current snapshots, as ``run_query`` does);
* via the CLI: ``geckolake sql --format json "<sql>"`` as a subprocess, BENCH_QUERY_CLI_REPS times
  (default 4), start-up included, bytecode cache warm (see ``common.child_env``); its CPU time
  (user + sys, from ``wait4``) is reported too, steadier than wall time on a shared machine.

Reported per query and path: p50 and p95 (linear interpolation; with few samples p95 is close to
the maximum). Plus ``geckolake --help`` wall time p50/p95 over BENCH_HELP_REPS runs (default 10),
and one figure with the bytecode cache off (what every process paid when PYTHONDONTWRITEBYTECODE=1
and the virtualenv had no ``__pycache__``; ``make setup`` now compiles it): an empty
PYTHONPYCACHEPREFIX hides the venv's ``__pycache__``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import child_env, emit, log, median, percentile
from bench.measure import run_measured
from geckolake import flows
from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.lake.query import run_query
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GECKOLAKE = Path(sys.executable).parent / "geckolake"

QUERIES = {
    # Market overview: the latest day's close and volume of the 20 biggest coins.
    "top20_latest": (
        "SELECT d.coin_id, d.close, d.volume, d.market_cap FROM gold.coin_daily d "
        "WHERE d.vs_currency = 'usd' AND d.date = (SELECT max(date) FROM gold.coin_daily) "
        "ORDER BY d.market_cap DESC NULLS LAST LIMIT 20"
    ),
    # One coin's chart: a year of daily OHLC.
    "coin_ohlc_365d": (
        "SELECT date, open, high, low, close, volume FROM gold.coin_daily "
        "WHERE coin_id = 'bitcoin' AND vs_currency = 'usd' ORDER BY date DESC LIMIT 365"
    ),
    # Top movers over 30 days.
    "movers_30d": (
        "WITH b AS (SELECT coin_id, date, close FROM gold.coin_daily WHERE vs_currency = 'usd' "
        "AND date >= (SELECT max(date) - 30 FROM gold.coin_daily)) "
        "SELECT coin_id, arg_max(close, date) / arg_min(close, date) - 1 AS change_30d FROM b "
        "GROUP BY coin_id HAVING count(*) > 20 ORDER BY change_30d DESC LIMIT 10"
    ),
    # Total market cap per day over 90 days.
    "market_cap_90d": (
        "SELECT date, sum(market_cap) AS total_market_cap FROM gold.coin_daily WHERE vs_currency = 'usd' "
        "AND date >= (SELECT max(date) - 90 FROM gold.coin_daily) GROUP BY date ORDER BY date"
    ),
    # 7-day moving average of one coin.
    "coin_ma7": (
        "SELECT date, close, avg(close) OVER (ORDER BY date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma7 "
        "FROM gold.coin_daily WHERE coin_id = 'ethereum' AND vs_currency = 'usd' ORDER BY date"
    ),
    # Today's snapshot aggregates, the whole market.
    "aggregates_today": (
        "SELECT coin_id, symbol, avg_price, min_price, max_price, records_count FROM gold.coin_aggregates "
        "WHERE date = (SELECT max(date) FROM gold.coin_aggregates) ORDER BY avg_price DESC"
    ),
}


def build(lake: Path) -> None:
    with running_simulator(SimulatorConfig(port=0, coins=1200, plan="unlimited", now=NOW, clean=True)) as url:
        s = Settings(
            lake=lake, base_url=url, plan="pro", rate_per_min=600_000, concurrency=8, coins=1000,
            history_coins=100, history_days=365, extras=False, as_of=NOW,
        )  # fmt: skip
        flows.run(s, command="bench-query")


def wall(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr[-2000:]}")
    return elapsed


def report(query: str, via: str, times: list[float], **params: object) -> None:
    p50, p95 = percentile(times, 50), percentile(times, 95)
    log(f"{query:>18} {via:>7}: p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  (n={len(times)})")
    emit("query_latency", "p50", p50 * 1000, "ms", query=query, via=via, repetitions=len(times), **params)
    emit("query_latency", "p95", p95 * 1000, "ms", query=query, via=via, repetitions=len(times), **params)


def main() -> None:
    reps = int(os.environ.get("BENCH_QUERY_REPS", "10"))
    cli_reps = int(os.environ.get("BENCH_QUERY_CLI_REPS", "4"))
    help_reps = int(os.environ.get("BENCH_HELP_REPS", "10"))
    with tempfile.TemporaryDirectory() as tmp:
        lake_path = Path(tmp) / "lake"
        build(lake_path)
        lake = open_lake(lake_path)
        rows = {s.name: s.rows for s in lake.table_stats()}
        sizes = {"coin_daily_rows": rows["gold.coin_daily"], "coin_aggregates_rows": rows["gold.coin_aggregates"]}
        log(f"lake built: {sizes}")
        env = child_env(GECKOLAKE_LAKE=str(lake_path))
        wall([str(GECKOLAKE), "sql", "--format", "json", "SELECT 1"], env)  # warm the bytecode cache
        for name, sql in QUERIES.items():
            _columns, result = run_query(lake, sql)  # warm-up; checks the query returns rows
            if not result:
                raise SystemExit(f"query {name} returned no rows")
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                run_query(lake, sql)
                times.append(time.perf_counter() - t)
            report(name, "library", times, rows=len(result), **sizes)
            # Wall and the child's own CPU (wait4): on a shared machine the CPU figure is the steadier.
            samples = [run_measured([str(GECKOLAKE), "sql", "--format", "json", sql], env)[0] for _ in range(cli_reps)]
            report(name, "cli", [x.wall_s for x in samples], rows=len(result), **sizes)
            cpu = [x.cpu_user_s + x.cpu_sys_s for x in samples]
            log(f"{name:>18} {'cli cpu':>7}: p50 {percentile(cpu, 50) * 1000:7.1f} ms")
            emit("query_latency", "cpu_p50", percentile(cpu, 50) * 1000, "ms", query=name, via="cli",
                 repetitions=len(cpu), rows=len(result), **sizes)  # fmt: skip
    help_env = child_env()
    wall([str(GECKOLAKE), "--help"], help_env)
    helps = [wall([str(GECKOLAKE), "--help"], help_env) for _ in range(help_reps)]
    log(f"geckolake --help: p50 {median(helps):.3f}s")
    emit(
        "cli_startup", "help_p50", percentile(helps, 50) * 1000, "ms", command="geckolake --help", repetitions=help_reps
    )
    emit(
        "cli_startup", "help_p95", percentile(helps, 95) * 1000, "ms", command="geckolake --help", repetitions=help_reps
    )
    with tempfile.TemporaryDirectory() as empty:
        cold_env = help_env | {"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
        cold = [wall([str(GECKOLAKE), "--help"], cold_env) for _ in range(3)]
    emit(
        "cli_startup", "help_no_bytecode_cache_p50", median(cold) * 1000, "ms",
        command="geckolake --help", repetitions=3, note="PYTHONDONTWRITEBYTECODE=1, empty PYTHONPYCACHEPREFIX",
    )  # fmt: skip


if __name__ == "__main__":
    main()
