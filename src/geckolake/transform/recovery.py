"""Crash recovery: which bronze rows are merged into silver and gold, and which an interrupted run left.

Every completed merge (a batch, a rebuild, a bronze compaction) appends one ``ops.transform_log``
row recording the bronze snapshots it covered; bronze committed after that snapshot and never
merged is found again and merged by the next batch.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from geckolake.lake.catalog import Lake
from geckolake.lake.duckdb_access import local_path
from geckolake.lake.write import conform
from geckolake.transform.merge import SILVER_INPUTS

log = logging.getLogger(__name__)


def log_merged(lake: Lake, kind: str) -> None:
    """Record that every bronze row committed so far is merged into silver and gold."""
    snapshots = {}
    for endpoint in SILVER_INPUTS:
        snap = lake.table(f"bronze.{endpoint}").current_snapshot()
        snapshots[f"bronze.{endpoint}"] = snap.snapshot_id if snap is not None else None
    row = {
        "batch_id": uuid.uuid4().hex,
        "kind": kind,
        "finished_at": datetime.now(UTC),
        "bronze_snapshots_json": json.dumps(snapshots, sort_keys=True),
    }
    lake.append("ops.transform_log", pa.Table.from_pylist([row]))


def unmerged_files(lake: Lake) -> dict[str, list[tuple[str, int]]]:
    """The data files (location, rows) of bronze committed after the last completed merge, per endpoint.

    Bronze is append-only, so they are the data files of the current snapshot that the snapshot
    recorded by the last ``ops.transform_log`` row did not have: an interrupted run's rows, and,
    called right after a batch's appends, the batch's own rows too (what the Spark engine reads).
    """
    log_rows = lake.read("ops.transform_log", columns=("finished_at", "batch_id", "bronze_snapshots_json"))
    merged: dict[str, int | None] = {}
    if log_rows.num_rows:
        last = max(log_rows.to_pylist(), key=lambda r: (r["finished_at"], r["batch_id"]))
        merged = json.loads(last["bronze_snapshots_json"])
    out: dict[str, list[tuple[str, int]]] = {}
    for endpoint in SILVER_INPUTS:
        name = f"bronze.{endpoint}"
        table = lake.table(name)
        current = table.current_snapshot()
        then = merged.get(name)
        if current is None or then == current.snapshot_id:
            continue
        known = {s.snapshot_id for s in table.metadata.snapshots}
        old = {t.file.file_path for t in table.scan(snapshot_id=then).plan_files()} if then in known else set()
        tasks = table.scan().plan_files()
        new = [(t.file.file_path, t.file.record_count) for t in tasks if t.file.file_path not in old]
        if new:
            out[endpoint] = new
    return out


def unmerged_bronze(lake: Lake) -> dict[str, pa.Table]:
    """Bronze rows committed after the last completed merge (an interrupted run's), per endpoint
    (the rows of :func:`unmerged_files`)."""
    out: dict[str, pa.Table] = {}
    for endpoint, files in unmerged_files(lake).items():
        name = f"bronze.{endpoint}"
        schema = lake.arrow_schema(name)
        parts = [conform(pq.read_table(local_path(f)), schema, name) for f, _ in files]
        out[endpoint] = pa.concat_tables(parts)
        log.warning("merging %d bronze rows of %s left by an interrupted run", out[endpoint].num_rows, name)
    return out
