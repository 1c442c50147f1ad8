"""open_lake, table definitions, append/read, drop_layers, stats, content_hash, DuckDB views."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from geckolake.errors import LakeError
from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.tables import LAYERS, all_tables
from geckolake.lake.testing import bronze_batch

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return open_lake(tmp_path_factory.mktemp("lake") / "lake")


def chart(prices: list[float], fetched_at: datetime = T) -> pa.Table:
    rows = [
        {
            "coin_id": "btc",
            "vs_currency": "usd",
            "granularity": "daily",
            "ts": datetime(2026, 1, d, tzinfo=UTC),
            "price": p,
        }
        for d, p in enumerate(prices, start=1)
    ]
    return bronze_batch("market_chart", rows, fetched_at=fetched_at)


def test_open_lake_creates_every_namespace_and_table(lake: Lake) -> None:
    assert (lake.root / "catalog.db").is_file()
    assert {ns[0] for ns in lake.catalog.list_namespaces()} >= set(LAYERS)
    assert set(lake.table_names()) == set(all_tables())
    assert lake.table("silver.price_history").spec().fields[0].name == "month"


def test_open_lake_is_idempotent(lake: Lake) -> None:
    again = open_lake(lake.root)
    assert again.table_names() == lake.table_names()


def test_unknown_table_is_a_lake_error(lake: Lake) -> None:
    with pytest.raises(LakeError, match=r"no table silver\.nope"):
        lake.table("silver.nope")


def test_folder_that_is_not_a_lake(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LakeError, match="not a geckolake lake"):
        open_lake(tmp_path)
    with pytest.raises(LakeError, match="is a file"):
        open_lake(tmp_path / "notes.txt")
    with pytest.raises(LakeError, match="cannot create the lake folder"):
        open_lake(tmp_path / "notes.txt" / "lake")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(LakeError, match=r"not writable|cannot create"):
            open_lake(ro / "lake")
    finally:
        ro.chmod(0o700)


def test_append_read_and_stats(lake: Lake) -> None:
    lake.drop_layers(("bronze",))
    lake.append("bronze.market_chart", chart([1.0, 2.0, 3.0]))
    lake.append("bronze.market_chart", chart([]))  # no-op: no snapshot
    got = lake.read("bronze.market_chart", "price >= 2", columns=("price",))
    assert sorted(got["price"].to_pylist()) == [2.0, 3.0]
    stats = {s.name: s for s in lake.table_stats()}
    assert (stats["bronze.market_chart"].rows, stats["bronze.market_chart"].snapshots) == (3, 1)
    assert stats["bronze.market_chart"].data_files == 1


def test_drop_layers_empties_tables(lake: Lake) -> None:
    lake.append("bronze.market_chart", chart([1.0]))
    lake.drop_layers(("bronze",))
    assert lake.read("bronze.market_chart").num_rows == 0
    with pytest.raises(LakeError, match="unknown layer"):
        lake.drop_layers(("platinum",))


def test_content_hash_ignores_order_and_lineage_but_not_values(lake: Lake) -> None:
    lake.drop_layers(("bronze",))
    lake.append("bronze.market_chart", chart([1.0, 2.0, 3.0]))
    h1 = lake.content_hash("bronze.market_chart")
    lake.drop_layers(("bronze",))
    reordered = chart([1.0, 2.0, 3.0], fetched_at=datetime(2026, 2, 1, tzinfo=UTC))
    lake.append("bronze.market_chart", reordered.take([2, 0]))
    lake.append("bronze.market_chart", reordered.take([1]))
    assert lake.content_hash("bronze.market_chart") == h1
    lake.drop_layers(("bronze",))
    lake.append("bronze.market_chart", chart([1.0, 2.0, 3.5]))
    assert lake.content_hash("bronze.market_chart") != h1


def test_duckdb_views_follow_commits(lake: Lake) -> None:
    lake.drop_layers(("bronze",))
    con = lake.connect_duckdb()
    assert con.execute("SELECT count(*) FROM bronze.market_chart").fetchone() == (0,)
    # typed empty view
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE bronze.market_chart)").fetchall())
    assert types["ts"] == "TIMESTAMP WITH TIME ZONE"
    lake.append("bronze.market_chart", chart([1.0, 2.0]))
    assert con.execute("SELECT count(*) FROM bronze.market_chart").fetchone() == (0,)  # its snapshot
    con2 = lake.connect_duckdb()
    assert con2.execute("SELECT count(*), sum(price) FROM bronze.market_chart").fetchone() == (2, 3.0)
    tables = con2.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name IN ('bronze', 'silver', 'gold', 'ops')"
    ).fetchone()
    assert tables == (len(all_tables()),)
