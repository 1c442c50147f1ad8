"""The lake: a PyIceberg ``SqlCatalog`` on SQLite with every geckolake table, plus query access.

Local layout::

    <lake>/catalog.db        SQLite Iceberg catalog "geckolake"
    <lake>/warehouse/        Iceberg metadata and Parquet data files
    <lake>/raw/              raw responses (written by ingest)
    <lake>/.writer.lock      see geckolake.lake.lock

Writers hold the writer lock; readers (``connect_duckdb``, ``read``) never do: each sees the
current snapshot of each table, which Iceberg commits atomically. The write path itself is in
:mod:`geckolake.lake.write`, DuckDB connections and views in :mod:`geckolake.lake.duckdb_access`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from geckolake.errors import LakeError
from geckolake.lake.duckdb_access import local_path, new_duckdb, register_view
from geckolake.lake.sql import quote_ident
from geckolake.lake.tables import LAYERS, LINEAGE_COLUMNS, TableDef, all_tables
from geckolake.lake.write import BUG_HINT, conform, partition_column, write_parts

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

CATALOG_NAME = "geckolake"
# Appends merge small manifests so that scan planning stays cheap after thousands of runs.
_TABLE_PROPERTIES = {"commit.manifest-merge.enabled": "true"}
CATALOG_FILE = "catalog.db"
_LAKE_MARKERS = (CATALOG_FILE, "warehouse", "raw", ".writer.lock", ".scheduler.lock", "geckolake.toml")


@dataclass(frozen=True)
class TableStat:
    """Size of one table at its current snapshot."""

    name: str
    rows: int
    snapshots: int
    data_files: int


class Lake:
    """An opened lake: the catalog and its tables. Create with :func:`open_lake`."""

    def __init__(self, root: Path, catalog: SqlCatalog) -> None:
        self.root = root
        self.catalog = catalog
        self.defs: dict[str, TableDef] = all_tables()

    # -- tables --------------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        """The Iceberg table ``name`` ("silver.price_history").

        Raises:
            LakeError: no such table.
        """
        try:
            return self.catalog.load_table(name)
        except NoSuchTableError as e:
            raise LakeError(
                f"no table {name} in the lake {self.root}",
                hint="run `geckolake tables` to list the tables",
            ) from e

    def arrow_schema(self, name: str) -> pa.Schema:
        """The Arrow schema data must have to be written to ``name``."""
        return self.table(name).schema().as_arrow()

    def conform(self, name: str, data: pa.Table) -> pa.Table:
        """``data`` with exactly the table's columns, in order, cast to its types.

        Raises:
            LakeError: a column of the table is missing from ``data`` or cannot be cast.
        """
        return conform(data, self.arrow_schema(name), name)

    def append(self, name: str, data: pa.Table) -> None:
        """Append ``data`` (cast to the table schema) in one commit; no-op when it has no rows."""
        if data.num_rows == 0:
            return
        table = self._evolved(self.table(name))
        table.append(conform(data, table.schema().as_arrow(), name))

    def _evolved(self, table: Table) -> Table:
        """``table`` with the columns its definition added since the lake was made (appended tables).

        Lakes made by an older geckolake lack them; a column is only ever added (nullable), so
        older rows read as null.
        """
        wanted = self.defs.get(".".join(table.name()[-2:]))
        if wanted is None or set(wanted.schema.names) <= set(table.schema().column_names):
            return table
        with table.update_schema() as update:
            update.union_by_name(wanted.schema)
        return table

    def replace(self, name: str, data: pa.Table | Iterable[pa.Table]) -> None:
        """Replace the whole content of ``name`` with ``data`` in one commit.

        ``data`` may be an iterable of tables, consumed one at a time (bounded memory). Parts are
        cast to the table schema in the writer thread (see ``write_parts``): a part may carry, say,
        dictionary-encoded strings, decoded there while the next part is made.
        """
        table = self.table(name)
        schema = table.schema().as_arrow()
        parts = [data] if isinstance(data, pa.Table) else data
        write_parts(table, parts, AlwaysTrue(), lambda part: conform(part, schema, name))

    def overwrite_partitions(self, name: str, data: pa.Table) -> None:
        """Replace the partitions present in ``data`` (identity partitions) in one commit."""
        if data.num_rows == 0:
            return
        table = self.table(name)
        column = partition_column(table)
        if column is None:
            raise LakeError(f"{name} is not partitioned", hint=BUG_HINT)
        values = pc.unique(data[column]).to_pylist()
        write_parts(table, [conform(data, table.schema().as_arrow(), name)], isin(column, values))

    def read(
        self,
        name: str,
        row_filter: str | BooleanExpression = AlwaysTrue(),
        columns: tuple[str, ...] | None = None,
    ) -> pa.Table:
        """Rows of ``name`` at its current snapshot matching ``row_filter``."""
        scan = self.table(name).scan(row_filter=row_filter, selected_fields=columns or ("*",))
        return scan.to_arrow()

    # -- maintenance ---------------------------------------------------------------------------

    def drop_layers(self, layers: Iterable[str] = ("bronze", "silver", "gold")) -> None:
        """Drop and purge every table of ``layers``, then recreate them empty (used by replay)."""
        layers = tuple(layers)
        for ns in layers:
            if ns not in LAYERS:
                raise LakeError(f"unknown layer {ns!r}", hint=f"use one of {', '.join(LAYERS)}")
            for ident in self.catalog.list_tables(ns):
                self.catalog.purge_table(ident)
        _create_tables(self.catalog, [d for d in self.defs.values() if d.namespace in layers])

    def table_stats(self) -> list[TableStat]:
        """Rows, snapshots and data files of every table at its current snapshot."""
        out = []
        for name in self.table_names():
            table = self.table(name)
            snap = table.current_snapshot()
            summary = snap.summary if snap is not None and snap.summary is not None else None
            rows = int(summary.get("total-records") or 0) if summary is not None else 0
            files = int(summary.get("total-data-files") or 0) if summary is not None else 0
            out.append(TableStat(name, rows, len(table.metadata.snapshots), files))
        return out

    def table_names(self) -> list[str]:
        """Full names of every table in the catalog, namespace by namespace."""
        names = []
        for ns in LAYERS:
            names += sorted(".".join(ident) for ident in self.catalog.list_tables(ns))
        return names

    # -- query access --------------------------------------------------------------------------

    def data_files(self, name: str) -> list[str]:
        """Local paths of the Parquet files of the current snapshot of ``name``."""
        return _files_of(self.table(name))

    def connect_duckdb(self, tables: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table over its current snapshot's files.

        Schemas bronze/silver/gold/ops; empty tables get a typed empty view. ``tables`` limits the
        views to those names (names not in the lake are skipped, so a query naming them fails as
        it would without a view); ``None`` registers every table. Never takes the writer lock: the
        files a snapshot lists are immutable.
        """
        con = new_duckdb()
        for ns in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {ns}")
        if tables is None:
            names = self.table_names()
        else:
            names = sorted({t.lower() for t in tables if t.partition(".")[0].lower() in LAYERS})
        for name in names:
            try:
                table = self.catalog.load_table(name)
            except NoSuchTableError:
                if tables is None:
                    raise
                continue
            register_view(con, name, _files_of(table), table.schema().as_arrow())
        return con

    def content_hash(self, name: str) -> str:
        """Order-independent hash of the table's content, lineage columns excluded.

        Lineage and bookkeeping columns (``_run_id``, ``_fetched_at``, ``_raw_sha256``,
        ``_raw_path`` and any other column starting with ``_``) record *when and from which file*
        a row was read, not what it says, so a re-fetch of the same data keeps the hash.
        """
        table = self.table(name)
        cols = [f.name for f in table.schema().fields if f.name not in LINEAGE_COLUMNS and not f.name.startswith("_")]
        con = new_duckdb()
        register_view(con, "t", _files_of(table), table.schema().as_arrow())
        select = ", ".join(quote_ident(c) for c in cols)
        n, total = con.execute(
            f"SELECT count(*), coalesce(sum(hash(r)::HUGEINT), 0)::VARCHAR FROM (SELECT {select} FROM t) r"
        ).fetchone() or (0, "0")
        con.close()
        return hashlib.sha256(f"{name}|{','.join(cols)}|{n}|{total}".encode()).hexdigest()


def _files_of(table: Table) -> list[str]:
    return [local_path(task.file.file_path) for task in table.scan().plan_files()]


def isin(column: str, values: Iterable[object]) -> BooleanExpression:
    """Row filter ``column IN values`` (an empty ``values`` matches nothing)."""
    return In(column, list(values))  # type: ignore[call-arg,misc,arg-type]


def is_lake(path: Path) -> bool:
    """True when ``path`` holds a lake (its catalog); opening nothing."""
    return (Path(path) / CATALOG_FILE).is_file()


def require_lake(path: Path) -> None:
    """Fail unless ``path`` holds a lake.

    Raises:
        LakeError: there is no lake at ``path``.
    """
    if not is_lake(path):
        raise LakeError(f"no lake at {path}", hint="run `geckolake run` (or `geckolake demo`) first, or pass --lake")


def open_lake(path: Path, *, read_only: bool = False) -> Lake:
    """Open (creating if needed) the lake at ``path`` with every namespace and table.

    ``read_only`` opens an existing lake for reading only: nothing is created or written, so a lake
    the user may read but not write (a shared folder, a read-only mount) can be queried.

    Raises:
        LakeError: the folder cannot be created or written (or, ``read_only``, holds no lake), is not a
            lake, was copied or moved from where its catalog points, or its catalog is unusable.
    """
    root = Path(path).expanduser().resolve()
    if read_only:
        require_lake(root)
    else:
        check_folder(root)
    check_not_moved(root)
    try:
        if not read_only:
            (root / "warehouse").mkdir(exist_ok=True)
        catalog = SqlCatalog(
            CATALOG_NAME,
            uri=f"sqlite:///{root / CATALOG_FILE}",
            warehouse=(root / "warehouse").as_uri(),
        )
        lake = Lake(root, catalog)
        if not read_only:
            for ns in LAYERS:
                catalog.create_namespace_if_not_exists(ns)
            _create_tables(catalog, list(lake.defs.values()))
    except LakeError:
        raise
    except Exception as e:
        raise LakeError(
            f"cannot open the Iceberg catalog of the lake {root}: {e}",
            hint="check the folder is a geckolake lake and not damaged, or pass another --lake",
        ) from e
    return lake


def check_not_moved(root: Path) -> None:
    """Fail when the lake's catalog points at another folder's files: the lake was copied or moved.

    The Iceberg catalog stores absolute locations, so a copy would read, and write into, the original
    lake (a replay there would purge the original's files) and a moved lake's files are not where its
    catalog says. Checked on the SQLite catalog directly, before PyIceberg touches anything.

    Raises:
        LakeError: the catalog's tables live under another folder.
    """
    import sqlite3

    if not is_lake(root):
        return
    try:
        with contextlib.closing(sqlite3.connect(f"{(root / CATALOG_FILE).as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT metadata_location FROM iceberg_tables LIMIT 1").fetchone()
    except sqlite3.Error:
        return  # a new or damaged catalog: open_lake says what is wrong with it
    if row is None or not row[0]:
        return
    expected = (root / "warehouse").as_uri() + "/"
    location = str(row[0])
    if location.startswith(expected):
        return
    from urllib.parse import unquote

    origin = unquote(location.split("/warehouse/", 1)[0].removeprefix("file://"))
    if not Path(origin).exists():
        raise LakeError(
            f"the lake at {root} was moved from {origin}: its catalog still points at files there",
            hint=f"move it back to {origin} (geckolake cannot move a lake yet)",
        )
    raise LakeError(
        f"the lake at {root} is a copy of {origin}: its catalog points at the original's files, so using it "
        "would read and change the original",
        hint=f"use the original (--lake {origin}); geckolake cannot copy a lake yet",
    )


def check_folder(root: Path) -> None:
    """Fail unless ``root`` can hold a lake: a folder that is empty, new, or already a lake, and writable.

    Raises:
        LakeError: a file, a non-empty folder that is not a lake, or not writable.
    """
    if root.exists() and not root.is_dir():
        raise LakeError(f"the lake path {root} is a file, not a folder", hint="pass a folder with --lake")
    if root.is_dir() and any(root.iterdir()) and not any((root / m).exists() for m in _LAKE_MARKERS):
        raise LakeError(
            f"{root} is not empty and is not a geckolake lake",
            hint="pass an empty or new folder with --lake (or GECKOLAKE_LAKE)",
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LakeError(
            f"cannot create the lake folder {root}: {e.strerror}",
            hint="pass a writable folder with --lake (or GECKOLAKE_LAKE)",
        ) from e
    if not os.access(root, os.W_OK | os.X_OK):
        raise LakeError(
            f"the lake folder {root} is not writable",
            hint="fix its permissions or pass another folder with --lake (or GECKOLAKE_LAKE)",
        )


def _create_tables(catalog: SqlCatalog, defs: list[TableDef]) -> None:
    existing: dict[str, set[str]] = {}
    for d in defs:
        ns = d.namespace
        if ns not in existing:
            existing[ns] = {".".join(i) for i in catalog.list_tables(ns)}
        if d.name in existing[ns]:
            continue
        schema = assign_fresh_schema_ids(catalog._convert_schema_if_needed(d.schema))
        spec = PartitionSpec()
        if d.partition is not None:
            source = schema.find_field(d.partition)
            spec = PartitionSpec(
                PartitionField(
                    source_id=source.field_id, field_id=1000, transform=IdentityTransform(), name=d.partition
                )
            )
        catalog.create_table_if_not_exists(d.name, schema=schema, partition_spec=spec, properties=_TABLE_PROPERTIES)
        log.debug("created table %s", d.name)
