"""Read-only SQL over the lake (DuckDB views on each table's current snapshot)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from geckolake.errors import QueryError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


class Lake(Protocol):
    """What a query needs of a lake: DuckDB views of its tables (``catalog.Lake`` or the light reader)."""

    def connect_duckdb(self, tables: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection: ...


ALLOWED = {"SELECT", "EXPLAIN"}
# "gold.coin_daily", "GOLD . coin_daily", '"gold"."coin_daily"' — the lake's qualified table names.
_TABLE_REF = re.compile(r'\b(bronze|silver|gold|ops)"?\s*\.\s*"?(\w+)', re.IGNORECASE)
# Statements that look at the catalog itself see every view.
_CATALOG_REF = re.compile(r"\b(information_schema|duckdb_\w+|pg_catalog|sqlite_master)\b", re.IGNORECASE)


def referenced_tables(sql: str) -> set[str] | None:
    """The lake tables ``sql`` may reference ("gold.coin_daily"), or None for "all of them".

    A superset is fine (a name in a string literal or comment only costs its view); None when the
    statement names no lake table or inspects the catalog, so every view is registered.
    """
    if _CATALOG_REF.search(sql):
        return None
    names = {f"{ns.lower()}.{name.lower()}" for ns, name in _TABLE_REF.findall(sql)}
    return names or None


def run_query(lake: Lake, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement; returns column names and rows.

    Raises:
        QueryError: the SQL is invalid, is not a single SELECT, or fails.
    """
    with _statement(lake, sql) as cur:
        return [d[0] for d in cur.description or []], cur.fetchall()


def query_arrow(lake: Lake, sql: str) -> pa.Table:
    """Run one read-only statement; the result as an Arrow table (``.to_pandas()`` for pandas).

    Raises:
        QueryError: the SQL is invalid, is not a single SELECT, or fails.
    """
    with _statement(lake, sql) as cur:
        return cur.to_arrow_table()


@contextmanager
def _statement(lake: Lake, sql: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """``sql`` checked (one SELECT) and executed on views of the tables it names; yields the cursor."""
    import duckdb

    con = lake.connect_duckdb(referenced_tables(sql))
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as e:
            raise QueryError(f"invalid SQL: {_first_line(e)}", hint="check the query's syntax") from None
        if len(statements) != 1:
            raise QueryError(
                "give exactly one SQL statement", hint='e.g. geckolake sql "SELECT * FROM gold.coin_daily"'
            )
        kind = statements[0].type.name
        if kind not in ALLOWED:
            raise QueryError(f"{kind} statements are not allowed", hint="geckolake sql is read-only: use SELECT")
        try:
            yield con.execute(sql)  # errors while fetching in the with block are the query's too
        except duckdb.Error as e:
            raise QueryError(
                f"query failed: {_first_line(e)}", hint="`geckolake tables` lists the tables you can query"
            ) from None
    finally:
        con.close()


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def to_json(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    return json.dumps([{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows], default=str)


def _plain(v: Any) -> Any:
    """``v`` with nested dates, decimals and map keys made JSON-friendly."""
    if isinstance(v, dict):
        return {k if isinstance(k, str) else str(_plain(k)): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return _jsonable(v)


def _csv_cell(v: Any) -> Any:
    """A CSV cell: lists, maps and structs as compact JSON (not Python reprs), scalars as they are."""
    if isinstance(v, dict | list | tuple):
        return json.dumps(_plain(v), separators=(",", ":"), default=str)
    return _jsonable(v)


def to_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """Rows as CSV with a header; list, map and struct values are written as JSON."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_csv_cell(v) for v in row] for row in rows])
    return buf.getvalue()
