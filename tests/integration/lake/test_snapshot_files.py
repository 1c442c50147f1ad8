"""The light read path (``geckolake sql`` on a local lake) sees exactly what PyIceberg's scan sees:
every table, every row, the same column types — including tables with no snapshot, tables whose
files were compacted, and a lake that was copied (which it leaves to the full path to refuse)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import geckolake
from geckolake.lake import tables
from geckolake.lake.catalog import open_lake
from geckolake.lake.location import lake_spec
from geckolake.lake.snapshot_files import LAYERS, local_snapshots


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("light") / "lake"
    geckolake.demo(path, coins=60, history_coins=4, history_days=40)
    geckolake.maintain(geckolake.Settings(lake=path), tables=["gold.coin_daily"])
    return path


def _content(con: object, name: str) -> tuple[list[tuple[str, str]], list[str]]:
    described = con.execute(f"DESCRIBE {name}").fetchall()  # type: ignore[attr-defined]
    rows = con.execute(f"SELECT * FROM {name}").fetchall()  # type: ignore[attr-defined]
    return [(d[0], d[1]) for d in described], sorted(repr(r) for r in rows)


def test_every_table_reads_the_same_as_through_pyiceberg(lake: Path) -> None:
    light = local_snapshots(lake_spec(lake))
    assert light is not None
    full = open_lake(lake, read_only=True)
    names = full.table_names()
    fast, slow = light.connect_duckdb(), full.connect_duckdb()
    empty = 0
    for name in names:
        assert _content(fast, name) == _content(slow, name), name
        empty += not _content(slow, name)[1]
    assert empty and empty < len(names)  # both kinds were compared


def test_the_sql_command_answers_from_the_light_path(lake: Path) -> None:
    _cols, rows = geckolake.sql(geckolake.Settings(lake=lake), "SELECT count(*) FROM gold.coin_daily")
    assert rows[0][0] > 0


def test_a_copied_lake_is_left_to_the_full_path(lake: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(lake, copy)
    assert local_snapshots(lake_spec(copy)) is None
    with pytest.raises(geckolake.LakeError, match="copy of"):
        geckolake.sql(geckolake.Settings(lake=copy), "SELECT 1")


def test_the_layers_are_the_lakes() -> None:
    assert tables.LAYERS == LAYERS
