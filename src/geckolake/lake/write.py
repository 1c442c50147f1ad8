"""The lake's write path: one transaction that deletes, then appends parts written in parallel.

PyIceberg's own partitioned write filters the whole input once per partition; here data is cut by
its (single, identity) partition column once and each slice is written on its own, while the next
part is being produced. ``conform`` casts data to a table's schema first.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import BooleanExpression
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from geckolake.errors import LakeError

if TYPE_CHECKING:
    import uuid as uuid_module

    from pyiceberg.table.metadata import TableMetadata

_T = TypeVar("_T")

BUG_HINT = "this is a bug in geckolake; please report it"


def conform(data: pa.Table, schema: pa.Schema, name: str = "table") -> pa.Table:
    """``data`` reduced to ``schema``'s columns in order and cast to its types.

    Raises:
        LakeError: a column is missing or cannot be cast.
    """
    missing = [f.name for f in schema if f.name not in data.column_names]
    if missing:
        raise LakeError(f"data for {name} lacks columns {', '.join(missing)}", hint=BUG_HINT)
    try:
        return data.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
        raise LakeError(f"data for {name} does not fit its schema: {e}", hint=BUG_HINT) from e


def partition_column(table: Table) -> str | None:
    """The column ``table`` is identity-partitioned by, or None when it is not partitioned."""
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


def write_parts(
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
    column = partition_column(table)
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

            for data_file in overlapped(write_part, iter(parts)):
                append.append_data_file(data_file)


def overlapped(write: Callable[[pa.Table], list[_T]], parts: Iterator[pa.Table]) -> Iterator[_T]:
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
        raise LakeError(f"{table.name()} has a non-identity partition", hint=BUG_HINT)
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
