"""Spark writes the lake's Iceberg tables itself (``transform/spark_iceberg.py``): a replay on a session
with an Iceberg catalog for the lake commits every silver table and the gold models through Spark's
Iceberg writer into the lake's own SQLite catalog, and geckolake reads back the same content (every
silver and gold table) as the PyIceberg-written path (DuckDB's replay); a DuckDB replay over Spark's
commits works too.

Real components: the simulator, Apache Iceberg 1.10.2's Spark runtime (PyPI
``snowpark-connect-deps-iceberg==1.0.2``), Debian's SQLite JDBC driver, a local Spark in a child
process (the jars load when a JVM starts; this process may already run one without them).
Skipped, saying why, without Java or the jars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.spark_support import JAVA, NOW, Snapshot, differences, snapshot, two_day_lake

from geckolake import flows
from geckolake.config import Settings
from geckolake.errors import ConfigError
from geckolake.lake.catalog import open_lake
from geckolake.lake.tables import all_tables
from geckolake.transform import spark_iceberg


def _missing() -> str | None:
    if JAVA is None:
        return "Java is missing: Spark needs Java 17 (java on PATH or JAVA_HOME)"
    try:
        spark_iceberg.runtime_jars()
    except ConfigError as e:
        return f"{e} ({e.hint})"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]

# The child: a local session with the lake's Iceberg catalog, handed to the replay as a Glue job's is.
CHILD = """
import json, sys
from geckolake import flows
from geckolake.config import Settings
from geckolake.lake.location import lake_spec
from geckolake.transform.spark_iceberg import iceberg_session
settings = Settings(lake=sys.argv[1], as_of=sys.argv[2], transform={"engine": "spark"})
session = iceberg_session(lake_spec(settings), master="local[2]", app_name="geckolake-iceberg-test")
session.conf.set("spark.sql.shuffle.partitions", "2")
result = flows.replay(settings, spark=session)
session.stop()
print(json.dumps(result.rows))
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small daily runs a day apart and one prices poll (every silver and gold table has rows)."""
    root = tmp_path_factory.mktemp("iceberg") / "lake"
    return two_day_lake(root, listed=20, coins=15, history_coins=4, history_days=30, hourly_days=2)


# The rebuild's tables: every silver table and the gold models. gold.coin_risk (computed on Spark per
# coin) and the other analytics tables are committed by the driver, on both write paths.
GOLD_MODELS = ("gold.coin_aggregates", "gold.coin_daily")


def _rebuilt() -> list[str]:
    return [n for n in all_tables() if n.startswith("silver.") or n in GOLD_MODELS]


def test_spark_commits_the_tables_itself_and_geckolake_reads_the_same_content(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(lake.parent)  # no geckolake.toml there
    flows.replay(Settings(lake=lake, as_of=NOW))  # DuckDB, committed by PyIceberg
    on_duckdb: Snapshot = snapshot(lake)
    assert on_duckdb["gold.coin_daily"].num_rows > 0 and on_duckdb["silver.live_prices"].num_rows > 0

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(lake), NOW.isoformat()],
        cwd=lake.parent, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])

    opened = open_lake(lake, read_only=True)
    for name in _rebuilt():
        summary = opened.table(name).current_snapshot().summary  # type: ignore[union-attr]
        # Spark's Iceberg writer stamps its commits; PyIceberg's carry no such key
        assert summary.get("engine-name") == "spark" and "spark.app.id" in summary.additional_properties, name
        assert rows[name] == on_duckdb[name].num_rows, name
    risk = opened.table("gold.coin_risk").current_snapshot().summary  # type: ignore[union-attr]
    assert risk.get("engine-name") is None  # the driver's commit
    assert differences(on_duckdb, snapshot(lake)) == []

    # and back: DuckDB (PyIceberg's commits) over Spark's, same content again
    flows.replay(Settings(lake=lake, as_of=NOW))
    assert differences(on_duckdb, snapshot(lake)) == []
