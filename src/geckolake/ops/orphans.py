"""Orphan-file sweep: delete files under a table's location that its metadata no longer references.

Snapshot expiry (PyIceberg 0.12) drops snapshot metadata but leaves the data files, manifests and
manifest lists that only those snapshots used; every commit also leaves its previous metadata
file behind, and a process killed mid-write leaves data files no commit took. On a lake fed every
minute that is most of its disk after a few weeks.

A file is kept when any of these reaches it: the current metadata file, the metadata log, a
statistics file, or any retained snapshot's manifest list, manifests and data or delete files
(deleted manifest entries included, as Iceberg's own ``remove_orphan_files`` does). Everything
else under the table's location that is older than ``min_age`` is deleted. The age guard keeps
files a reader opened recently; the writer lock (taken by every caller) keeps out a commit in
flight. Listing and deleting go through the table's own PyArrow filesystem (the one PyIceberg
writes with, configured by the catalog), and paths are compared in the form PyIceberg gives them.

A table whose metadata cannot be fully read is skipped, never swept: a missing manifest would make
its data files look unreferenced.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from pyarrow import fs as pafs
from pyiceberg.io.pyarrow import PyArrowFileIO

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    """Per table: files found unreferenced and old enough, their bytes, and tables left alone."""

    files: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False


def sweep_orphans(
    lake: Lake, min_age: timedelta, tables: list[str] | None = None, *, dry_run: bool = False
) -> SweepReport:
    """Delete (or with ``dry_run`` only count) every table's unreferenced files older than ``min_age``.

    Call under the lake's writer lock.
    """
    report = SweepReport(dry_run=dry_run)
    cutoff = time.time() - min_age.total_seconds()
    for name in tables or lake.table_names():
        table = lake.table(name)
        if not isinstance(table.io, PyArrowFileIO):
            report.skipped[name] = f"its file IO is {type(table.io).__name__}, not PyArrow's; nothing deleted"
            continue
        try:
            referenced = {fs_path(p) for p in referenced_files(table)}
        except (OSError, ValueError) as e:  # unreadable manifest: never guess
            report.skipped[name] = f"cannot read its metadata ({e}); nothing deleted"
            log.warning("orphan sweep skipped %s: %s", name, e)
            continue
        scheme, netloc, root = PyArrowFileIO.parse_location(table.location())
        filesystem = table.io.fs_by_scheme(scheme, netloc)
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        orphans = [
            info
            for info in infos
            if info.type == pafs.FileType.File
            and info.path not in referenced
            and info.mtime is not None
            and info.mtime.timestamp() < cutoff
        ]
        if not orphans:
            continue
        if not dry_run:
            for info in orphans:
                filesystem.delete_file(info.path)
        report.files[name] = len(orphans)
        report.bytes[name] = sum(info.size or 0 for info in orphans)
        log.info("%s %d orphan files of %s", "found" if dry_run else "deleted", len(orphans), name)
    return report


def referenced_files(table: Table) -> set[str]:
    """Every file the table's current metadata reaches, as written in the metadata (URIs).

    Raises:
        OSError, ValueError: a manifest list or manifest cannot be read.
    """
    meta = table.metadata
    paths = {table.metadata_location}
    paths |= {entry.metadata_file for entry in meta.metadata_log}
    paths |= {s.statistics_path for s in meta.statistics}
    paths |= {s.statistics_path for s in meta.partition_statistics}
    seen: set[str] = set()
    for snapshot in meta.snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            if manifest.manifest_path in seen:
                continue
            seen.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                paths.add(entry.data_file.file_path)
    return paths | seen


def fs_path(location: str) -> str:
    """``location`` as the table's PyArrow filesystem names it (a local path, or ``bucket/key``)."""
    return PyArrowFileIO.parse_location(location)[2]
