"""Adopt a local lake that was moved or copied: give it a catalog and Iceberg files of its own.

Iceberg metadata stores absolute locations, so a moved lake's catalog points where it used to be and
a copy's points into the original. :func:`relocate` rebuilds the lake in place from its *own* files:

1. ``catalog.db`` and ``warehouse/`` are set aside under ``.relocate/`` (a crash after this step is
   resumed by running the command again: everything is rebuilt from ``.relocate/``);
2. each table's current snapshot is read from the set-aside files — every metadata, manifest-list and
   manifest read is redirected from the old folder to ``.relocate/warehouse/`` by a PyArrow FileIO
   that rewrites the prefix, so the original lake is never read, let alone written;
3. a fresh catalog and warehouse are made at the lake's own location and each table is written in
   one commit, data file by data file (bounded memory);
4. ``.relocate/`` is deleted.

Raw bodies need nothing: the manifest stores their paths relative to the lake. What is lost is the
tables' snapshot history (time travel to before the move): a new lake starts with one snapshot per
table. That is why this is a command the user runs, not something done silently on open.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO

from geckolake.errors import LakeError
from geckolake.lake.backends import CATALOG_FILE
from geckolake.lake.catalog import RELOCATING, open_lake
from geckolake.lake.location import WAREHOUSE

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)

ASIDE = RELOCATING
_FROM, _TO = "geckolake.relocate.from", "geckolake.relocate.to"


class RelocatedFileIO(PyArrowFileIO):
    """PyArrow's FileIO reading ``<from>/...`` at ``<to>/...`` (set by the two properties above)."""

    def new_input(self, location: str) -> PyArrowFile:
        return super().new_input(_moved(location, self.properties[_FROM], self.properties[_TO]))


def _moved(location: str, old: str, new: str) -> str:
    return new + location[len(old) :] if location.startswith(old) else location


@dataclass(frozen=True)
class Relocated:
    """What :func:`relocate` did: the folder the catalog pointed at, rows per table, and each old table's
    current snapshot id and properties (bookkeeping that names snapshot ids is carried over from them)."""

    origin: str
    rows: dict[str, int]
    old_snapshots: dict[str, int | None] = field(default_factory=dict)
    old_properties: dict[str, dict[str, str]] = field(default_factory=dict)


def origin_of(root: Path) -> str | None:
    """The folder a local lake's catalog points at, when it is not ``root`` (else None)."""
    catalog = root / CATALOG_FILE
    if not catalog.is_file():
        return None
    with contextlib.closing(sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT metadata_location FROM iceberg_tables LIMIT 1").fetchone()
    if row is None or not row[0]:
        return None
    location = str(row[0])
    if location.startswith((root / WAREHOUSE).as_uri() + "/"):
        return None
    return unquote(location.split(f"/{WAREHOUSE}/", 1)[0].removeprefix("file://"))


def relocate(root: Path) -> Relocated:
    """Rebuild the moved or copied lake at ``root`` from its own files (see the module docstring).

    Raises:
        LakeError: ``root`` holds no lake, is already where its catalog points, or a table cannot be read.
    """
    root = root.expanduser().resolve()
    aside = root / ASIDE
    if not aside.is_dir():
        origin = origin_of(root)
        if origin is None:
            raise LakeError(
                f"the lake at {root} is already where its catalog points (or is no lake)", hint="nothing to relocate"
            )
        aside.mkdir()
        # Both renames stay inside the lake; the catalog goes last, so a lake with a catalog still has its files.
        (root / WAREHOUSE).rename(aside / WAREHOUSE)
        (root / CATALOG_FILE).rename(aside / CATALOG_FILE)
    else:  # an earlier relocation stopped half way: start the rebuild again
        for leftover in (root / CATALOG_FILE, root / WAREHOUSE):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            elif leftover.exists():
                leftover.unlink()
    tables = _old_tables(aside / CATALOG_FILE)
    origin = _origin_from(tables)
    lake = open_lake(root, relocating=True)
    rows: dict[str, int] = {}
    old_snapshots: dict[str, int | None] = {}
    old_properties: dict[str, dict[str, str]] = {}
    for name, metadata in tables.items():
        if name not in lake.defs:
            log.warning("not relocated: %s is not a geckolake table", name)
            continue
        rows[name] = 0
        old_snapshots[name], old_properties[name] = _old_state(metadata, origin, aside)

        def parts(name: str = name, metadata: str = metadata) -> Iterator[pa.Table]:
            for part in _current_content(metadata, origin, aside):
                rows[name] += part.num_rows
                yield part

        lake.replace(name, parts())
    shutil.rmtree(aside)
    return Relocated(unquote(origin.removeprefix("file://")), rows, old_snapshots, old_properties)


def _old_state(metadata: str, origin: str, aside: Path) -> tuple[int | None, dict[str, str]]:
    """The set-aside table's current snapshot id and properties, from its metadata JSON."""
    path = _moved(metadata, f"{origin}/{WAREHOUSE}", (aside / WAREHOUSE).as_uri())
    data = json.loads(Path(unquote(path.removeprefix("file://"))).read_text())
    current = data.get("current-snapshot-id")
    return (None if current in (None, -1) else int(current)), dict(data.get("properties") or {})


def _old_tables(catalog: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True)) as db:
        found = db.execute("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables").fetchall()
    return {f"{ns}.{name}": str(meta) for ns, name, meta in found if meta}


def _origin_from(tables: dict[str, str]) -> str:
    """The old warehouse's parent as a URI prefix (``file:///old/lake``)."""
    for metadata in tables.values():
        if f"/{WAREHOUSE}/" in metadata:
            return metadata.split(f"/{WAREHOUSE}/", 1)[0]
    raise LakeError("the set-aside catalog lists no table files", hint="the lake is damaged: rebuild it with a run")


def _current_content(metadata: str, origin: str, aside: Path) -> Iterator[pa.Table]:
    """Each data file of the table's current snapshot, read from the set-aside copy."""
    from pyiceberg.table import StaticTable

    old, new = f"{origin}/{WAREHOUSE}", (aside / WAREHOUSE).as_uri()
    props: dict[str, Any] = {"py-io-impl": f"{__name__}.RelocatedFileIO", _FROM: old, _TO: new}
    try:
        table = StaticTable.from_metadata(_moved(metadata, old, new), properties=props)
        files = [_moved(task.file.file_path, old, new) for task in table.scan().plan_files()]
    except (OSError, ValueError) as e:
        raise LakeError(
            f"cannot read the table at {metadata} from the lake's own files: {e}",
            hint="the lake's warehouse/ is incomplete; restore it, or start a new lake and run `geckolake replay`",
        ) from e
    for file in files:
        path = unquote(file.removeprefix("file://"))
        try:  # ParquetFile, not read_table: no partition columns guessed from the date=... folders
            yield pq.ParquetFile(path).read()
        except (OSError, pa.ArrowException) as e:
            raise LakeError(
                f"cannot read {path} while relocating: {e}",
                hint="restore the lake's warehouse/ files, then run `geckolake relocate` again",
            ) from e
