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

    return lake if isinstance(lake, Settings) else Settings(lake=Path(lake))


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
