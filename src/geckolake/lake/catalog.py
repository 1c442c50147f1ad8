"""The lake: a PyIceberg ``SqlCatalog`` on SQLite with every geckolake table, plus query access.

Local layout::

    <lake>/catalog.db        SQLite Iceberg catalog "geckolake"
    <lake>/warehouse/        Iceberg metadata and Parquet data files
    <lake>/raw/              raw responses (written by ingest)
    <lake>/.writer.lock      see geckolake.lake.lock

Writers hold the writer lock; readers (``connect_duckdb``, ``read``) never do: each sees the
current snapshot of each table, which Iceberg commits atomically.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from geckolake.errors import LakeError
from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified
from geckolake.lake.tables import LAYERS, LINEAGE_COLUMNS, TableDef, all_tables

if TYPE_CHECKING:
    import uuid as uuid_module

    import duckdb
    from pyiceberg.table.metadata import TableMetadata

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CATALOG_NAME = "geckolake"
# Appends merge small manifests so that scan planning stays cheap after thousands of runs.
_TABLE_PROPERTIES = {"commit.manifest-merge.enabled": "true"}
_BUG = "this is a bug in geckolake; please report it"
_LAKE_MARKERS = ("catalog.db", "warehouse", "raw", ".writer.lock", "geckolake.toml")


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
        table = self.table(name)
        table.append(conform(data, table.schema().as_arrow(), name))

    def replace(self, name: str, data: pa.Table | Iterable[pa.Table]) -> None:
        """Replace the whole content of ``name`` with ``data`` in one commit.

        ``data`` may be an iterable of tables, consumed one at a time (bounded memory). Parts are
        cast to the table schema in the writer thread (see ``_write``): a part may carry, say,
        dictionary-encoded strings, decoded there while the next part is made.
        """
        table = self.table(name)
        schema = table.schema().as_arrow()
        parts = [data] if isinstance(data, pa.Table) else data
        _write(table, parts, AlwaysTrue(), lambda part: conform(part, schema, name))

    def overwrite_partitions(self, name: str, data: pa.Table) -> None:
        """Replace the partitions present in ``data`` (identity partitions) in one commit."""
        if data.num_rows == 0:
            return
        table = self.table(name)
        column = _partition_column(table)
        if column is None:
            raise LakeError(f"{name} is not partitioned", hint=_BUG)
        values = pc.unique(data[column]).to_pylist()
        _write(table, [conform(data, table.schema().as_arrow(), name)], isin(column, values))

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


def open_lake(path: Path) -> Lake:
    """Open (creating if needed) the lake at ``path`` with every namespace and table.

    Raises:
        LakeError: the folder cannot be created or written, is not a lake, or its catalog is unusable.
    """
    root = Path(path).expanduser().resolve()
    _check_folder(root)
    try:
        (root / "warehouse").mkdir(exist_ok=True)
        catalog = SqlCatalog(
            CATALOG_NAME,
            uri=f"sqlite:///{root / 'catalog.db'}",
            warehouse=(root / "warehouse").as_uri(),
        )
        for ns in LAYERS:
            catalog.create_namespace_if_not_exists(ns)
        lake = Lake(root, catalog)
        _create_tables(catalog, list(lake.defs.values()))
    except LakeError:
        raise
    except Exception as e:
        raise LakeError(
            f"cannot open the Iceberg catalog of the lake {root}: {e}",
            hint="check the folder is a geckolake lake and not damaged, or pass another --lake",
        ) from e
    return lake


def _partition_column(table: Table) -> str | None:
    fields = table.spec().fields
    return table.schema().find_field(fields[0].source_id).name if fields else None


def _split_by(data: pa.Table, column: str | None) -> list[pa.Table]:
    """``data`` cut into one table per value of ``column``."""
    if column is None or data.num_rows == 0:
        return [data]
    values = pc.unique(data[column])
    if len(values) == 1:
        return [data]
    if len(values) <= 16:  # a few sequential filters beat a sort + random-access take
        return [data.filter(pc.equal(data[column], v)) for v in values]
    data = data.take(pc.sort_indices(data[column]))
    ends = pc.run_end_encode(data[column].combine_chunks()).run_ends.to_pylist()
    starts = [0, *ends[:-1]]
    return [data.slice(a, b - a) for a, b in zip(starts, ends, strict=True)]


def _write(
    table: Table,
    parts: Iterable[pa.Table],
    delete_filter: BooleanExpression,
    prepare: Callable[[pa.Table], pa.Table] | None = None,
) -> None:
    """Delete ``delete_filter`` and append ``parts`` in one transaction (one catalog commit).

    PyIceberg's own partitioned write filters the whole input once per partition (quadratic in
    partitions x rows); here each partition slice is written on its own, slices in parallel
    (Parquet encoding releases the GIL). ``parts`` are consumed one by one, and each is written in
    a background thread while the caller's iterator produces the next (a rebuild's DuckDB queries
    and the Parquet encoding then overlap): at most one part is being written while the next is
    made. ``prepare`` (a cast to the table schema) runs in that thread too. Nothing is committed
    unless every part was prepared and written.
    """
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    counter = itertools.count(0)
    column = _partition_column(table)
    with _quiet_deletes(), table.transaction() as tx:
        tx.delete(delete_filter)
        with tx._append_snapshot_producer({}) as append:
            metadata = tx.table_metadata  # a deep copy per access: take it once
            uuid = append.commit_uuid

            def write(part: pa.Table) -> list[DataFile]:
                if column is not None:
                    return list(_one_partition_files(table, metadata, uuid, part, counter))
                return list(
                    _dataframe_to_data_files(
                        table_metadata=metadata, write_uuid=uuid, df=part, io=table.io, counter=counter
                    )
                )

            def write_part(data: pa.Table) -> list[DataFile]:
                if prepare is not None:
                    data = prepare(data)
                if data.num_rows == 0:
                    return []
                slices = _split_by(data, column)
                del data
                if len(slices) == 1:
                    return write(slices[0])
                with ThreadPoolExecutor(max_workers=min(len(slices), os.cpu_count() or 1)) as pool:
                    return [f for files in pool.map(write, slices) for f in files]

            for data_file in _overlapped(write_part, iter(parts)):
                append.append_data_file(data_file)


def _overlapped(write: Callable[[pa.Table], list[_T]], parts: Iterator[pa.Table]) -> Iterator[_T]:
    """``write`` applied to each of ``parts`` in one background thread, the next part being taken
    from ``parts`` meanwhile; its results in order. A failure of either side is raised here once
    the other side is idle (no write outlives the call)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-write") as pool:
        pending: Future[list[_T]] | None = None
        try:
            for part in parts:
                if pending is not None:
                    yield from pending.result()
                pending = pool.submit(write, part)
                del part  # the writer holds the only reference: freed once written
            if pending is not None:
                yield from pending.result()
                pending = None
        finally:
            if pending is not None:
                # The producer failed (or the consumer stopped) mid-write: let the write finish
                # before the transaction is abandoned; its own error, if any, is secondary.
                wait([pending])


_MAX_CHUNKS = 16


def _one_partition_files(
    table: Table, metadata: TableMetadata, write_uuid: uuid_module.UUID, part: pa.Table, counter: Iterator[int]
) -> Iterator[DataFile]:
    """Data files of ``part``, whose rows share one value of the (single, identity) partition column.

    ``_split_by`` already cut the data by partition; PyIceberg's ``_dataframe_to_data_files`` would
    group each slice again and copy it through a filter (~15 % of a rebuild's time) to find that
    one value. Same files, same partition key, without the copy.
    """
    from pyiceberg.io.pyarrow import bin_pack_arrow_table, pyarrow_to_schema, write_file
    from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
    from pyiceberg.table import TableProperties, WriteTask
    from pyiceberg.utils.properties import property_as_int

    if part.num_rows == 0:
        return
    if part.num_columns and part.column(0).num_chunks > _MAX_CHUNKS:
        # Many small chunks (a table concatenated from per-coin parts) would make as many small
        # batches and row groups: ~50 % slower to write. One contiguous copy is cheaper.
        part = part.combine_chunks()
    spec, schema = metadata.spec(), metadata.schema()
    (field,) = spec.fields
    if not isinstance(field.transform, IdentityTransform):
        raise LakeError(f"{table.name()} has a non-identity partition", hint=_BUG)
    column = part[schema.find_column_name(field.source_id) or ""]
    key = PartitionKey(
        field_values=[PartitionFieldValue(field=field, value=column[0].as_py())], partition_spec=spec, schema=schema
    )
    task_schema = pyarrow_to_schema(
        part.schema, name_mapping=schema.name_mapping, format_version=metadata.format_version
    )
    target = property_as_int(
        metadata.properties,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT,
    )
    tasks = (
        WriteTask(write_uuid, next(counter), task_schema, batches, partition_key=key)
        for batches in bin_pack_arrow_table(part, target or TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT)
    )
    yield from write_file(io=table.io, table_metadata=metadata, tasks=tasks)


@contextmanager
def _quiet_deletes() -> Iterator[None]:
    # PyIceberg warns when an overwrite's delete matches nothing (a new partition, an empty
    # table): expected here, and warnings are errors under pytest.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Delete operation did not match any records")
        yield


def _check_folder(root: Path) -> None:
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


def conform(data: pa.Table, schema: pa.Schema, name: str = "table") -> pa.Table:
    """``data`` reduced to ``schema``'s columns in order and cast to its types.

    Raises:
        LakeError: a column is missing or cannot be cast.
    """
    missing = [f.name for f in schema if f.name not in data.column_names]
    if missing:
        raise LakeError(f"data for {name} lacks columns {', '.join(missing)}", hint=_BUG)
    try:
        return data.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
        raise LakeError(f"data for {name} does not fit its schema: {e}", hint=_BUG) from e


def new_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set to UTC, using only built-in extensions."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(_MACROS)
    return con


# UTC calendar helpers on epoch microseconds: DuckDB's TIMESTAMPTZ functions (CAST AS DATE,
# date_trunc, strftime) go through ICU and cost ~10x more per row. Data here is after 1970.
_MACROS = """
CREATE OR REPLACE MACRO utc_date(t) AS DATE '1970-01-01' + CAST(epoch_us(t) // 86400000000 AS INTEGER);
CREATE OR REPLACE MACRO utc_month(t) AS strftime(utc_date(t), '%Y-%m');
CREATE OR REPLACE MACRO is_utc_midnight(t) AS epoch_us(t) % 86400000000 = 0;
CREATE OR REPLACE MACRO utc_hour_floor(t) AS make_timestamp(epoch_us(t) - epoch_us(t) % 3600000000);
"""


TEMP_DIR = ".tmp"


def spill_to(con: duckdb.DuckDBPyConnection, root: Path, memory_limit: str) -> None:
    """Cap DuckDB's memory at ``memory_limit`` ("1GB"); beyond it, sorts, joins and aggregates spill
    to ``<root>/.tmp/duckdb`` (its default cap is 80 % of RAM, and in-memory connections never spill)."""
    folder = root / TEMP_DIR / "duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    con.execute(f"SET temp_directory = {quote_literal(str(folder))}")


def register_view(con: duckdb.DuckDBPyConnection, name: str, files: list[str], schema: pa.Schema) -> None:
    """Create view ``name`` over Parquet ``files`` (or a typed empty relation when there are none)."""
    target = quote_qualified(name)
    if files:
        listing = ", ".join(quote_literal(f) for f in files)
        cols = ", ".join(quote_ident(f.name) for f in schema)
        con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT {cols} FROM read_parquet([{listing}])")
    else:
        empty_name = "__empty_" + name.replace(".", "__")
        con.register(empty_name, schema.empty_table())
        con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT * FROM {quote_ident(empty_name)}")


def local_path(uri: str) -> str:
    """A local filesystem path for a ``file://`` URI (other URIs are returned unchanged)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path) if parsed.scheme else uri
    return uri
