"""gold.coin_daily's returns: coin_daily.sql leaves them out, coin_daily_returns.sql fills them in.

A day's return needs the previous day's close, which may lie outside the days being recomputed
(another chunk of a rebuild, a month an incremental batch did not touch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from geckolake.lake.write import conform
from geckolake.transform.models import load_sql

if TYPE_CHECKING:
    import duckdb

# gold.coin_daily columns that coin_daily_returns.sql computes from the previous day's close.
RETURN_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("return_1d", pa.float64()),
    ("log_return_1d", pa.float64()),
    ("quality", pa.string()),
)


def with_null_returns(rows: pa.Table) -> pa.Table:
    """coin_daily.sql rows with the columns coin_daily_returns.sql fills in, still null."""
    for name, typ in RETURN_COLUMNS:
        if name not in rows.column_names:
            rows = rows.append_column(name, pa.nulls(rows.num_rows, typ))
    return rows


def daily_returns(con: duckdb.DuckDBPyConnection, rows: pa.Table, closes: pa.Table) -> pa.Table:
    """gold.coin_daily ``rows`` completed with returns and quality (coin_daily_returns.sql).

    ``closes`` holds at most one row per (coin, currency, day) and must contain each row's previous
    day when the lake has it.
    """
    schema = rows.schema
    con.register("daily", rows)
    con.register("closes", closes.select(["coin_id", "vs_currency", "date", "close"]))
    try:
        return conform(con.sql(load_sql("gold", "coin_daily_returns")).to_arrow_table(), schema)
    finally:
        con.unregister("daily")
        con.unregister("closes")
