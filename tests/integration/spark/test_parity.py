"""Spark and DuckDB are interchangeable engines: on one lake (simulator seed 7, ``--as-of``),
``replay --engine spark`` and ``replay --engine duckdb`` give the same silver and gold tables, row for
row (floats within 1e-9 relative), and so does the Glue job on a given SparkSession.

Real components only: the simulator, the CLI in a subprocess (its own local Spark), and one local
SparkSession for this module (the Glue job's). Java 17 must be on the machine; without it the Spark
tests are skipped and say so.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from tests.e2e.support import Cli, base_env, tree_fingerprint

from geckolake import flows
from geckolake.config import Settings
from geckolake.deploy import entry
from geckolake.lake.catalog import open_lake
from geckolake.lake.tables import all_tables
from geckolake.simulator import SimulatorConfig, running_simulator
from geckolake.transform import spark_engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
JAVA = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")) if os.environ.get("JAVA_HOME") else None
JAVA = JAVA or shutil.which("java")
needs_java = pytest.mark.skipif(
    JAVA is None, reason="Java is missing: the Spark engine needs Java 17 (java on PATH or JAVA_HOME)"
)
# Spark on this module's shared 2 cores: 2 threads, few shuffle partitions.
SPARK_ENV = {"GECKOLAKE_TRANSFORM": '{"spark_master": "local[2]"}'}
# Floats: the same formulas in another order of operations (ln, sums inside Spark's aggregates)
# may differ in the last bits; 1e-9 relative, and 1e-15 absolute for values that are ~0 (returns).
REL, ABS = 1e-9, 1e-15
Snapshot = dict[str, pa.Table]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two daily runs a day apart (history, hourly points, sparklines, extras) and one prices poll."""
    root = tmp_path_factory.mktemp("spark") / "lake"
    with running_simulator(SimulatorConfig(port=0, coins=40, plan="pro", now=NOW, seed=7)) as url:
        for now in (NOW - timedelta(days=1), NOW):
            settings = Settings(
                lake=root, base_url=url, plan="pro", rate_per_min=60000, coins=30, history_coins=8,
                history_days=60, hourly_days=3, as_of=now,
            )  # fmt: skip
            assert flows.run(settings).status == "succeeded"
        assert flows.prices(settings).status == "succeeded"
    return root


@pytest.fixture(scope="module")
def cli(lake: Path) -> Cli:
    return Cli(lake, "http://unused", {**base_env(lake, "http://unused", NOW), **SPARK_ENV})


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    if JAVA is None:
        pytest.skip("Java is missing: the Spark engine needs Java 17 (java on PATH or JAVA_HOME)")
    from geckolake.transform.spark_engine import build_session

    logging.getLogger("py4j").setLevel(logging.WARNING)  # its goodbyes at exit go to closed streams
    session = build_session("local[2]", app_name="geckolake-tests")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


def snapshot(lake: Path) -> Snapshot:
    opened = open_lake(lake, read_only=True)
    names = [n for n in all_tables() if n.split(".")[0] in ("silver", "gold")]
    return {n: opened.read(n) for n in names}


@pytest.fixture(scope="module")
def on_duckdb(cli: Cli, lake: Path) -> Snapshot:
    cli("replay", "--engine", "duckdb", check=True)
    return snapshot(lake)


def _plain(value: Any) -> Any:
    """Lists, maps (as sorted pairs) and structs as tuples, comparable and hashable."""
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _sorted_rows(table: pa.Table, key: tuple[str, ...]) -> list[tuple[Any, ...]]:
    rows = [tuple(_plain(v) for v in r.values()) for r in table.to_pylist()]
    at = [table.column_names.index(k) for k in key] if key else []
    # by key when the table has one (floats that differ in the last bit must not reorder rows)
    return sorted(rows, key=lambda r: repr(tuple(r[i] for i in at)) if at else repr(r))


def differences(a: Snapshot, b: Snapshot) -> list[str]:
    """Every cell that differs between ``a`` and ``b`` beyond the float tolerance (at most 5 per table)."""
    out: list[str] = []
    for name in a:
        ta, tb = a[name], b[name]
        if ta.num_rows != tb.num_rows:
            out.append(f"{name}: {ta.num_rows} rows vs {tb.num_rows}")
            continue
        key = all_tables()[name].key
        found = 0
        for ra, rb in zip(_sorted_rows(ta, key), _sorted_rows(tb, key), strict=True):
            for column, x, y in zip(ta.column_names, ra, rb, strict=True):
                same = (
                    math.isclose(x, y, rel_tol=REL, abs_tol=ABS)
                    if isinstance(x, float) and isinstance(y, float)
                    else x == y
                )
                if not same and found < 5:
                    out.append(f"{name}.{column}: {x!r} vs {y!r}")
                    found += 1
    return out


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
    assert last.startswith("error: Spark could not start") and last.endswith("Spark needs Java 17 on PATH or JAVA_HOME")
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
