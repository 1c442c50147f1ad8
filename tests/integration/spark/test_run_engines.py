"""``run`` on either engine, on one lake: Spark and DuckDB take turns and the lake stays consistent.

Three lakes fetch the same two days from one simulator (seed 11, ``--as-of`` 30 November then
1 December, so the second run's batches rewrite a month boundary of gold.coin_daily's returns; 40
days of history, hourly points, sparklines that overlap the first day's, so winners per key matter):
(a) day 1 on DuckDB, day 2 on Spark; (b) day 1 on Spark through the CLI (``geckolake run --engine
spark``, its own local session), day 2 on DuckDB; (c) both on DuckDB. Every silver and gold table is
the same on the three (lineage columns aside, as the lakes fetched separately; floats within 1e-9
relative), and so are the rows each run recorded. Re-applying a batch on Spark changes nothing.

Real components only: the simulator, the CLI in a subprocess, one local SparkSession for this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo
from tests.e2e.support import FETCH_TIME_KEYED, Cli, base_env
from tests.spark_support import Snapshot, differences, needs_java, snapshot

from geckolake import flows
from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.simulator import SimulatorConfig, running_simulator
from geckolake.transform.engine import SparkEngine
from geckolake.transform.merge import SILVER_INPUTS
from geckolake.transform.runner import apply_batch

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.slow, needs_java]

DAY2 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY1 = DAY2 - timedelta(days=1)
SCOPE = {"coins": 20, "history_coins": 5, "history_days": 40, "hourly_days": 2}
# the CLI's own session on the shared 2 cores
SPARK_ENV = {"GECKOLAKE_TRANSFORM": '{"spark_master": "local[2]"}'}
FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in SCOPE.items()]


def _settings(lake: Path, url: str, now: datetime, engine: str) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=60000, concurrency=8, as_of=now,
        transform={"engine": engine, "spark_master": "local[2]"}, **SCOPE,
    )  # fmt: skip


def _runs(lake: Path) -> list[dict[str, int]]:
    """The rows each run of ``lake`` recorded, oldest first. Not silver.trending's: keyed by the fetch's
    wall-clock hour, a second run adds a list or replaces one as an hour passed between them or not."""
    runs = open_lake(lake, read_only=True).read("ops.pipeline_runs").to_pylist()
    rows = [json.loads(r["rows_json"]) for r in sorted(runs, key=lambda r: r["started_at"])]
    return [{k: v for k, v in r.items() if k not in FETCH_TIME_KEYED} for r in rows]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running_simulator(SimulatorConfig(port=0, coins=30, plan="pro", now=DAY2, seed=11)) as base_url:
        yield base_url


def _cli(lake: Path, url: str) -> Cli:
    lake.parent.mkdir(parents=True)
    return Cli(lake, url, {**base_env(lake, url, DAY1), **SPARK_ENV})


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, url: str, spark: SparkSession) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("run-engines")
    lakes = {name: root / name / "lake" for name in ("a", "b", "c")}
    # (a) DuckDB, then Spark on the module's session (as a Glue job or a notebook passes theirs)
    assert flows.run(_settings(lakes["a"], url, DAY1, "duckdb")).status == "succeeded"
    assert flows.run(_settings(lakes["a"], url, DAY2, "spark"), spark=spark).status == "succeeded"
    # (b) Spark as a user runs it, then DuckDB
    _cli(lakes["b"], url)("run", "--engine", "spark", *FLAGS, check=True, timeout=300)
    assert flows.run(_settings(lakes["b"], url, DAY2, "duckdb")).status == "succeeded"
    # (c) DuckDB twice: the reference
    for now in (DAY1, DAY2):
        assert flows.run(_settings(lakes["c"], url, now, "duckdb")).status == "succeeded"
    return lakes


@pytest.fixture(scope="module")
def reference(lakes: dict[str, Path]) -> Snapshot:
    return snapshot(lakes["c"], lineage=False)


def test_the_reference_lake_holds_what_the_comparison_needs(reference: Snapshot) -> None:
    daily = reference["gold.coin_daily"]
    months = set(daily["month"].to_pylist())
    assert {"2026-11", "2026-12"} <= months and len(months) >= 2  # returns across a month boundary
    assert daily.filter(pa.compute.is_valid(daily["return_1d"])).num_rows > 100
    for name in ("silver.price_history", "silver.sparkline_prices", "silver.market_snapshots", "gold.coin_risk"):
        assert reference[name].num_rows > 0, name


@pytest.mark.parametrize("name", ["a", "b"])
def test_runs_on_either_engine_give_the_reference_lake(lakes: dict[str, Path], reference: Snapshot, name: str) -> None:
    assert differences(reference, snapshot(lakes[name], lineage=False)) == []


@pytest.mark.parametrize("name", ["a", "b"])
def test_each_run_records_the_same_rows_on_either_engine(lakes: dict[str, Path], name: str) -> None:
    assert _runs(lakes[name]) == _runs(lakes["c"])


def test_re_applying_a_batch_on_spark_changes_nothing(lakes: dict[str, Path], spark: SparkSession) -> None:
    lake = open_lake(lakes["a"])
    before = snapshot(lakes["a"])
    day2 = max(lake.read("ops.pipeline_runs").to_pylist(), key=lambda r: r["started_at"])["run_id"]
    bronze = {e: lake.read(f"bronze.{e}", EqualTo("_run_id", day2)) for e in SILVER_INPUTS}
    assert bronze["market_chart"].num_rows and bronze["coins_markets"].num_rows
    report = apply_batch(lake, bronze, None, engine=SparkEngine(spark))
    assert report.rows["gold.coin_daily"] > 0 and report.first_day is not None
    assert differences(before, snapshot(lakes["a"])) == []


def test_without_java_a_spark_run_fails_in_one_line_before_any_call(tmp_path: Path, url: str) -> None:
    lake = tmp_path / "nojava" / "lake"
    proc = _cli(lake, url)("run", "--engine", "spark", *FLAGS, JAVA_HOME="/nonexistent-java")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the spark engine needs Java, and none was found") and "--engine duckdb" in last
    # found out before the lake is opened or created, so before any API credit is spent
    assert not (lake / "catalog.db").exists() and not (lake / "raw").exists()
