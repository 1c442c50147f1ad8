"""The orphan sweep deletes exactly the files no retained snapshot reaches, and nothing else."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from geckolake.config import MaintenanceSettings
from geckolake.lake.catalog import Lake, open_lake
from geckolake.ops.maintenance import compact, expire
from geckolake.ops.orphans import fs_path, referenced_files, sweep_orphans

NAME = "ops.pipeline_runs"


def files_under(path: Path) -> set[str]:
    return {str(p) for p in path.rglob("*") if p.is_file()}


def table_dir(lake: Lake) -> Path:
    return Path(fs_path(lake.table(NAME).location()))


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """Twelve one-row commits, compacted into one file, then all but the last two snapshots expired."""
    lake = open_lake(tmp_path / "lake")
    schema = lake.arrow_schema(NAME)
    for i in range(12):
        lake.append(NAME, pa.Table.from_pylist([{f.name: None for f in schema} | {"run_id": f"r{i}"}], schema=schema))
    settings = MaintenanceSettings(small_file_count=4, keep_snapshots_hours=0, keep_last_snapshots=2)
    compact(lake, settings, [NAME])
    expire(lake, settings, datetime.now(UTC) + timedelta(seconds=1), [NAME])
    return lake


def test_the_sweep_leaves_exactly_the_referenced_files(lake: Lake) -> None:
    before = lake.content_hash(NAME)
    on_disk = files_under(table_dir(lake))
    referenced = {fs_path(p) for p in referenced_files(lake.table(NAME))}
    assert referenced < on_disk  # the expired snapshots' files are still there

    report = sweep_orphans(lake, timedelta(0), [NAME])

    assert report.files[NAME] == len(on_disk - referenced) > 12  # the 12 small data files and more
    assert files_under(table_dir(lake)) == referenced
    lake = open_lake(lake.root)
    assert lake.content_hash(NAME) == before and lake.read(NAME).num_rows == 12
    table = lake.table(NAME)
    for snapshot in table.metadata.snapshots:  # time travel to every retained snapshot still works
        rows = table.scan(snapshot_id=snapshot.snapshot_id).to_arrow().num_rows
        assert snapshot.summary is not None and rows == int(snapshot.summary["total-records"])
    assert sweep_orphans(lake, timedelta(0), [NAME]).files == {}


def test_young_files_and_files_outside_the_tables_are_kept(lake: Lake) -> None:
    stray = table_dir(lake) / "data" / "00000-0-crashed-write.parquet"  # a write no commit took
    stray.write_bytes(b"PAR1")
    raw = lake.root / "raw" / "note.json.gz"
    raw.parent.mkdir(exist_ok=True)
    raw.write_bytes(b"x")
    old = time.time() - 2 * 86400
    os.utime(raw, (old, old))

    young = sweep_orphans(lake, timedelta(hours=1), [NAME])
    assert young.files == {}  # everything unreferenced was written seconds ago
    assert stray.exists()

    os.utime(stray, (old, old))
    sweep_orphans(lake, timedelta(hours=24))
    assert not stray.exists()
    assert raw.exists()


def test_dry_run_counts_and_deletes_nothing(lake: Lake) -> None:
    on_disk = files_under(table_dir(lake))
    report = sweep_orphans(lake, timedelta(0), [NAME], dry_run=True)
    assert report.dry_run and report.files[NAME] > 0 and report.bytes[NAME] > 0
    assert files_under(table_dir(lake)) == on_disk


def test_a_table_with_an_unreadable_manifest_is_left_alone(lake: Lake) -> None:
    table = lake.table(NAME)
    manifest = table.current_snapshot().manifests(table.io)[0].manifest_path  # type: ignore[union-attr]
    Path(fs_path(manifest)).unlink()
    on_disk = files_under(table_dir(lake))

    report = sweep_orphans(lake, timedelta(0), [NAME])

    assert NAME in report.skipped and "nothing deleted" in report.skipped[NAME]
    assert report.files == {}
    assert files_under(table_dir(lake)) == on_disk
