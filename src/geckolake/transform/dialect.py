"""The models' SQL on other engines: DuckDB text transpiled to Spark SQL with SQLGlot and our own functions.

The model files are DuckDB SQL restricted to what transpiles faithfully (no QUALIFY, no
``UNION BY NAME``, no ``SELECT *`` that repeats an output column, no row hashes), plus a few
project functions: the DuckDB macros of :mod:`geckolake.lake.duckdb_access` (``utc_date``,
``utc_month``, ``is_utc_midnight``, ``utc_hour_floor``, ``ordered_avg``) and DuckDB built-ins
SQLGlot passes through untranslated (``epoch_us``, ``to_hours``, ``map_values``). :data:`SPARK_FUNCTIONS` says what
each becomes on Spark; :func:`untranslated` lists any other function SQLGlot does not know, which
would reach Spark unchanged (``tests/unit/transform/test_dialect.py`` keeps that list empty).

Spark sessions must run with ``spark.sql.session.timeZone=UTC``: the calendar functions below rely
on it, as the DuckDB macros rely on the connection's UTC time zone.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.parsers.duckdb import DuckDBParser

# Each project function as Spark SQL; {0}, {1} are its arguments.
SPARK_FUNCTIONS: dict[str, str] = {
    "utc_date": "CAST({0} AS DATE)",
    "utc_month": "DATE_FORMAT({0}, 'yyyy-MM')",
    "is_utc_midnight": "UNIX_MICROS({0}) % 86400000000 = 0",
    "utc_hour_floor": "DATE_TRUNC('HOUR', {0})",
    "epoch_us": "UNIX_MICROS({0})",
    "to_hours": "MAKE_DT_INTERVAL(0, CAST({0} AS INT), 0, 0)",
    "map_values": "MAP_VALUES({0})",
    # DuckDB's list_avg(list(x ORDER BY t)): the non-null values added one by one in t order, then
    # divided by their count; the same fold here gives the same bits on both engines.
    "ordered_avg": (
        "AGGREGATE(ARRAY_SORT(COLLECT_LIST(CASE WHEN {0} IS NOT NULL THEN STRUCT({1} AS t, {0} AS x) END)), "
        "STRUCT(CAST(0 AS DOUBLE) AS s, CAST(0 AS BIGINT) AS n), "
        "(acc, e) -> STRUCT(acc.s + e.x AS s, acc.n + 1 AS n), "
        "acc -> CASE WHEN acc.n > 0 THEN acc.s / acc.n END)"
    ),
}


class ModelDialect(DuckDB):
    """DuckDB as the model files use it: ``utc_date(x)`` is our macro, not MySQL's ``UTC_DATE()``."""

    class Parser(DuckDBParser):
        FUNCTIONS: ClassVar[dict[str, Any]] = {
            k: v for k, v in DuckDBParser.FUNCTIONS.items() if k.lower() not in SPARK_FUNCTIONS
        }


def parse(sql: str) -> exp.Expr:
    """A model's SQL as a SQLGlot tree (DuckDB with our functions)."""
    tree = sqlglot.parse_one(sql, read=ModelDialect)
    assert tree is not None
    return tree


def untranslated(sql: str) -> set[str]:
    """Functions of ``sql`` that SQLGlot does not know and we do not map: they would reach Spark as is."""
    return {f.name.lower() for f in parse(sql).find_all(exp.Anonymous)} - set(SPARK_FUNCTIONS)


@cache
def _template(name: str) -> exp.Expr:
    text = SPARK_FUNCTIONS[name].format(*(f"__arg{i}" for i in range(4)))
    tree = sqlglot.parse_one(text, read="spark")
    assert tree is not None
    return tree


def _expand(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.Anonymous) or node.name.lower() not in SPARK_FUNCTIONS:
        return node
    args = node.expressions

    def fill(part: exp.Expr) -> exp.Expr:
        if isinstance(part, exp.Column) and not part.table and part.name.startswith("__arg"):
            # arguments may call project functions themselves (utc_date(utc_hour_floor(t)))
            return args[int(part.name.removeprefix("__arg"))].copy().transform(_expand)
        return part

    return exp.paren(_template(node.name.lower()).copy().transform(fill), copy=False)


def _ordinality_from_one(tree: exp.Expr) -> exp.Expr:
    """``UNNEST ... WITH ORDINALITY AS p(x, i)`` counts from 1; Spark's POSEXPLODE from 0.

    The ordinal column becomes ``i_0`` and every ``p.i`` reads ``(p.i_0 + 1)``.
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        offset = unnest.args.get("offset")
        alias = unnest.args.get("alias")
        if not isinstance(offset, exp.Identifier) or alias is None:
            continue
        name, table, zero = offset.name, alias.name, f"{offset.name}_0"
        unnest.set("offset", exp.to_identifier(zero))

        def shift(node: exp.Expr, name: str = name, table: str = table, zero: str = zero) -> exp.Expr:
            if isinstance(node, exp.Column) and node.name == name and node.table == table:
                return exp.paren(exp.Add(this=exp.column(zero, table=table), expression=exp.Literal.number(1)))
            return node

        tree = tree.transform(shift)
    return tree


@cache
def to_spark(sql: str) -> str:
    """A model's SQL (or any SQL in the models' dialect) as Spark SQL.

    Raises:
        sqlglot.errors.ParseError: ``sql`` is not valid DuckDB SQL.
    """
    tree = _ordinality_from_one(parse(sql).transform(_expand))
    return tree.sql(dialect="spark", comments=False)
