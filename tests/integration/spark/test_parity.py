"""Spark and DuckDB are interchangeable engines: on one lake (simulator seed 7, ``--as-of``),
``replay --engine spark`` and ``replay --engine duckdb`` give the same silver and gold tables, row for
row (floats within 1e-9 relative), and so does the Glue job on a given SparkSession.

Real components only: the simulator, the CLI in a subprocess (its own local Spark), and one local
SparkSession for this module (the Glue job's). Java 17 must be on the machine; without it the Spark
tests are skipped and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.e2e.support import Cli, base_env, tree_fingerprint
from tests.spark_support import NOW, Snapshot, differences, needs_java, snapshot, two_day_lake

from geckolake import flows
from geckolake.config import Settings
from geckolake.deploy import entry
from geckolake.lake.catalog import open_lake
from geckolake.transform import spark_engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Spark on this module's shared 2 cores: 2 threads, few shuffle partitions.
SPARK_ENV = {"GECKOLAKE_TRANSFORM": '{"spark_master": "local[2]"}'}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two daily runs a day apart (history, hourly points, sparklines, extras) and one prices poll."""
    root = tmp_path_factory.mktemp("spark") / "lake"
    return two_day_lake(root, listed=40, coins=30, history_coins=8, history_days=60, hourly_days=3)


@pytest.fixture(scope="module")
def cli(lake: Path) -> Cli:
    return Cli(lake, "http://unused", {**base_env(lake, "http://unused", NOW), **SPARK_ENV})


@pytest.fixture(scope="module")
def on_duckdb(cli: Cli, lake: Path) -> Snapshot:
    cli("replay", "--engine", "duckdb", check=True)
    return snapshot(lake)


@pytest.mark.slow
@needs_java
def test_replay_on_spark_equals_replay_on_duckdb(cli: Cli, lake: Path, on_duckdb: Snapshot) -> None:
    assert on_duckdb["silver.price_history"].num_rows > 0 and on_duckdb["silver.live_prices"].num_rows > 0
    assert on_duckdb["gold.coin_daily"].num_rows > 0 and on_duckdb["silver.sparkline_prices"].num_rows > 0
    cli("replay", "--engine", "spark", check=True, timeout=600)
    assert differences(on_duckdb, snapshot(lake)) == []
    # and the same counts in the ledger: rows per table, and bronze rows each rule left out
    spark_rows, duckdb_rows = replay_rows(lake)[:2]
    assert spark_rows == duckdb_rows and any(k.startswith("filtered.") for k in spark_rows)


def replay_rows(lake: Path) -> list[dict[str, int]]:
    """The rows each replay recorded in ops.pipeline_runs, newest first."""
    runs = open_lake(lake, read_only=True).read("ops.pipeline_runs").to_pylist()
    replays = sorted((r for r in runs if r["command"] == "replay"), key=lambda r: r["started_at"], reverse=True)
    return [json.loads(r["rows_json"]) for r in replays]


@pytest.mark.slow
@needs_java
def test_the_glue_job_replays_on_its_session_like_duckdb(
    spark: SparkSession, lake: Path, on_duckdb: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(lake.parent)  # no geckolake.toml there
    # partitioned tables collected to the driver a few partitions at a time, as on a large lake
    monkeypatch.setattr(spark_engine, "WRITE_CHUNK_ROWS", 300)
    # the deployed Glue entry point, as Glue calls it, with --engine spark and this module's session;
    # the settings Glue would pass as --GECKOLAKE_* parameters are set in the environment directly
    # (monkeypatch undoes them), and no AWS is here: the metrics are not sent
    for key, value in {"GECKOLAKE_LAKE": str(lake), "GECKOLAKE_AS_OF": NOW.isoformat()}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    argv = ["--JOB_NAME", "geckolake-replay", "--TempDir", "s3://unused", "--geckolake-job", "replay"]
    assert entry.glue_main([*argv, "--engine", "spark"], environ={}, spark=spark) == 0
    assert differences(on_duckdb, snapshot(lake)) == []
    # the engines are interchangeable on an existing lake: DuckDB again, same tables
    flows.replay(Settings(lake=lake, as_of=NOW))
    assert differences(on_duckdb, snapshot(lake)) == []


def test_without_java_the_spark_replay_fails_in_one_line_and_leaves_the_lake(cli: Cli, lake: Path) -> None:
    before = tree_fingerprint(lake / "warehouse")
    proc = cli("replay", "--engine", "spark", JAVA_HOME="/nonexistent-java")  # Spark's launcher uses it first
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the spark engine needs Java, and none was found") and "--engine duckdb" in last
    assert tree_fingerprint(lake / "warehouse") == before


def test_a_failing_spark_job_is_one_clear_error(spark: SparkSession) -> None:
    from geckolake.errors import TerminalError
    from geckolake.transform.engine import open_engine

    with (
        pytest.raises(TerminalError, match=r"the Spark engine failed: .*boom") as info,
        open_engine("spark", spark=spark),
    ):
        spark.sql("SELECT raise_error('boom')").collect()
    assert "SPARK_DRIVER_MEMORY" in str(info.value.hint)
