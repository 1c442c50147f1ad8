"""Compaction keeps every row in fewer files; expiry keeps the newest snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from geckolake.config import MaintenanceSettings
from geckolake.lake.catalog import open_lake
from geckolake.ops.maintenance import compact, expire


def test_compact_then_expire(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    name = "ops.pipeline_runs"
    schema = lake.arrow_schema(name)
    for i in range(12):  # twelve one-row commits, as a one-minute job makes
        lake.append(name, pa.Table.from_pylist([{f.name: None for f in schema} | {"run_id": f"r{i}"}], schema=schema))
    before = lake.content_hash(name)
    settings = MaintenanceSettings(small_file_count=4, keep_snapshots_hours=0, keep_last_snapshots=2)
    report = compact(lake, settings, [name])
    assert (report.files_before[name], report.files_after[name]) == (12, 1)
    assert lake.content_hash(name) == before and lake.read(name).num_rows == 12
    snapshots = len(lake.table(name).metadata.snapshots)
    expired = expire(lake, settings, datetime.now(UTC) + timedelta(seconds=1), [name])
    assert expired[name] == snapshots - 2 and len(lake.table(name).metadata.snapshots) == 2
    assert lake.content_hash(name) == before
