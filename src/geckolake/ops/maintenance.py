"""Small-file hygiene: compaction of small data files, expiry of old snapshots, orphan sweep.

Frequent jobs (markets every 5 minutes, prices every minute) add one small file per table per
run. :func:`compact` rewrites a table (or, for partitioned tables, each partition) holding more
than ``small_file_count`` files into one file per partition, in one overwrite commit: same rows,
fewer files. :func:`expire` drops snapshots older than ``keep_snapshots_hours`` while keeping the
newest ``keep_last_snapshots`` (time travel within that window keeps working). Expiry removes
snapshot metadata only; :func:`geckolake.ops.orphans.sweep_orphans` then deletes the files no
retained snapshot references, once older than ``orphan_min_age_hours``.

Bronze tables are compacted only when fully merged into silver (their current snapshot is the
one the last ``ops.transform_log`` row recorded), and a new log row records the compacted
snapshot, so crash recovery never mistakes the rewritten files for an interrupted batch.
Run under the writer lock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from geckolake.ops.orphans import SweepReport, sweep_orphans

if TYPE_CHECKING:
    from geckolake.config import MaintenanceSettings
    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    files_before: dict[str, int] = field(default_factory=dict)
    files_after: dict[str, int] = field(default_factory=dict)
    expired: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    orphans: SweepReport = field(default_factory=SweepReport)


def _files_by_partition(lake: Lake, name: str) -> dict[object, int]:
    table = lake.table(name)
    fields = table.spec().fields
    counts: dict[object, int] = {}
    for task in table.scan().plan_files():
        key = task.file.partition[0] if fields else None
        counts[key] = counts.get(key, 0) + 1
    return counts


def _bronze_merged(lake: Lake, name: str) -> bool:
    rows = lake.read("ops.transform_log", columns=("finished_at", "batch_id", "bronze_snapshots_json")).to_pylist()
    if not rows:
        return False
    last = max(rows, key=lambda r: (r["finished_at"], r["batch_id"]))
    snap = lake.table(name).current_snapshot()
    recorded = json.loads(last["bronze_snapshots_json"]).get(name, "absent")
    return recorded == "absent" or (snap is not None and recorded == snap.snapshot_id)


def compact(lake: Lake, settings: MaintenanceSettings, tables: list[str] | None = None) -> MaintenanceReport:
    """Rewrite tables (or partitions) with more than ``small_file_count`` files; content is unchanged."""
    from geckolake.analytics import source_mark
    from geckolake.lake.catalog import isin

    report = MaintenanceReport()
    bronze_compacted = False
    for name in tables or lake.table_names():
        counts = _files_by_partition(lake, name)
        total = sum(counts.values())
        report.files_before[name] = total
        crowded = [p for p, n in counts.items() if n > 1]
        if total <= settings.small_file_count or not crowded:
            report.files_after[name] = total
            continue
        if name.startswith("bronze.") and not _bronze_merged(lake, name):
            report.skipped[name] = "holds rows not yet merged into silver (an interrupted run); run first"
            report.files_after[name] = total
            continue
        table = lake.table(name)
        before = table.current_snapshot()
        column = table.schema().find_field(table.spec().fields[0].source_id).name if table.spec().fields else None
        if column is None:
            lake.replace(name, lake.read(name))
        else:
            data = lake.read(name, isin(column, crowded))
            if data.num_rows:
                lake.overwrite_partitions(name, data)
        if name == source_mark.SOURCE:
            source_mark.carry_over(lake, None if before is None else before.snapshot_id)
        bronze_compacted |= name.startswith("bronze.")
        report.files_after[name] = sum(_files_by_partition(lake, name).values())
        log.info("compacted %s: %d → %d files", name, total, report.files_after[name])
    if bronze_compacted:
        from geckolake.transform.recovery import log_merged

        log_merged(lake, "compact")
    return report


def expire(lake: Lake, settings: MaintenanceSettings, now: datetime, tables: list[str] | None = None) -> dict[str, int]:
    """Expire snapshots older than the retention, keeping the newest ``keep_last_snapshots``."""
    cutoff_ms = int((now - timedelta(hours=settings.keep_snapshots_hours)).timestamp() * 1000)
    out: dict[str, int] = {}
    for name in tables or lake.table_names():
        table = lake.table(name)
        snaps = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
        current = table.current_snapshot()
        keep = {s.snapshot_id for s in snaps[-settings.keep_last_snapshots :]}
        if current is not None:
            keep.add(current.snapshot_id)
        old = [s.snapshot_id for s in snaps if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep]
        if old:
            table.maintenance.expire_snapshots().by_ids(old).commit()
            out[name] = len(old)
    return out


def maintain(
    lake: Lake,
    settings: MaintenanceSettings,
    now: datetime,
    tables: list[str] | None = None,
    *,
    expire_snapshots: bool = True,
    sweep: bool = True,
) -> MaintenanceReport:
    """Compact, expire snapshots, then sweep the files nothing references any more (each step optional
    but the first)."""
    report = compact(lake, settings, tables)
    if expire_snapshots:
        report.expired = expire(lake, settings, now, tables)
    if sweep:
        report.orphans = sweep_orphans(lake, timedelta(hours=settings.orphan_min_age_hours), tables)
    return report
