"""Reading a lake: tables, SQL, the run ledger, status and metrics. Never locks, never writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from geckolake.flows.lakes import existing_lake
from geckolake.lake.query import query_arrow, run_query
from geckolake.ops.ledger import recent_runs
from geckolake.ops.metrics import exposition
from geckolake.ops.status import Status
from geckolake.ops.status import status as lake_status

if TYPE_CHECKING:
    import pyarrow as pa

    from geckolake.config import Settings
    from geckolake.lake.catalog import TableStat

Rows = tuple[list[str], list[tuple[Any, ...]]]


def _settings(lake: Settings | Path | str) -> Settings:
    from geckolake.config import Settings

    return lake if isinstance(lake, Settings) else Settings(lake=str(lake))


def query(sql: str, lake: Settings | Path | str = "lake") -> pa.Table:
    """One read-only SQL statement (DuckDB dialect) on the lake's current snapshots, as Arrow.

    ``lake`` is a lake folder or settings; tables are named ``bronze.x``, ``silver.x``, ``gold.x``,
    ``ops.x``. ``query(...).to_pandas()`` gives a DataFrame.

    Raises:
        LakeError: no lake there.
        QueryError: the SQL is invalid, is not a single SELECT, or fails.
    """
    return query_arrow(existing_lake(_settings(lake)), sql)


def sql(settings: Settings, statement: str) -> Rows:
    """:func:`query` as column names and Python rows (what ``geckolake sql`` prints).

    Raises:
        LakeError: no lake there.
        QueryError: the SQL is invalid, is not a single SELECT, or fails.
    """
    return run_query(existing_lake(settings), statement)


def tables(settings: Settings) -> list[TableStat]:
    """Every table with its rows, snapshots and data files.

    Raises:
        LakeError: no lake there.
    """
    return existing_lake(settings).table_stats()


def runs(settings: Settings, limit: int = 20) -> Rows:
    """The run ledger (``ops.pipeline_runs``), newest first.

    Raises:
        LakeError: no lake there.
    """
    return recent_runs(existing_lake(settings), limit)


def status(settings: Settings) -> Status:
    """Health at a glance: last run per job, freshness vs SLA, failing checks, credits this month.

    Raises:
        LakeError: no lake there.
    """
    return lake_status(existing_lake(settings), settings)


def metrics(settings: Settings) -> str:
    """The lake's run, API, data-quality and freshness metrics in Prometheus text format.

    Raises:
        LakeError: no lake there.
    """
    return exposition(existing_lake(settings), settings)


EXPORT_FORMATS = ("csv", "json", "parquet")


def export(settings: Settings, statement: str, path: Path, fmt: str | None = None) -> int:
    """Write the result of one read-only statement to ``path`` as CSV, JSON (an array of row objects)
    or Parquet (``fmt``, else the file's suffix); the rows written.

    The file appears whole or not at all (written beside it, then renamed).

    Raises:
        ConfigError: an unknown format.
        LakeError: no lake there, or the file cannot be written.
        QueryError: the SQL is invalid, is not a single SELECT, or fails.
    """
    import os

    from geckolake.errors import ConfigError, LakeError
    from geckolake.lake.query import to_csv, to_json

    path = Path(path)
    kind = fmt or path.suffix.lstrip(".").lower()
    if kind not in EXPORT_FORMATS:
        what = f"unknown --format {fmt!r} for --output" if fmt else f"cannot tell the format of {path}"
        raise ConfigError(what, hint=f"use a .csv, .json or .parquet file, or --format {'|'.join(EXPORT_FORMATS)}")
    table = query(statement, settings)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, partial)
        else:
            columns, rows = table.column_names, [tuple(r.values()) for r in table.to_pylist()]
            text = to_csv(columns, rows) if kind == "csv" else to_json(columns, rows) + "\n"
            partial.write_text(text)
        os.replace(partial, path)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise LakeError(f"cannot write {path}: {e.strerror or e}", hint="choose a writable --output path") from e
    return table.num_rows
