"""The models transpile to Spark SQL with nothing left untranslated, and DuckDB runs the same files."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from geckolake.lake import duckdb_access
from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.tables import all_tables
from geckolake.transform import batch_scope
from geckolake.transform.dialect import SPARK_FUNCTIONS, to_spark, untranslated
from geckolake.transform.merge import dedup_portable, winner_order
from geckolake.transform.registry import Model, models

MODELS = list(models().values())
# DuckDB-only constructs that must not reach Spark (Spark has none of them, or means else by them)
NOT_SPARK = re.compile(r"QUALIFY|BY NAME|NOT MATERIALIZED|\bHASH\(|\bLIST\(|\bLIST_|EPOCH_US|\bUTC_|UNNEST")


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_every_model_transpiles_with_no_untranslated_function(spec: Model) -> None:
    assert untranslated(spec.sql) == set()
    spark = to_spark(spec.sql).upper()
    assert NOT_SPARK.findall(spark) == []


def _spark_anonymous(sql: str) -> set[str]:
    return {f.name.upper() for f in sqlglot.parse_one(sql, read="spark").find_all(exp.Anonymous)}


# Spark functions SQLGlot does not know but our own mappings write (the parity test runs them on Spark)
OURS = set().union(*(_spark_anonymous(f"SELECT {v.format('a', 'b')}") for v in SPARK_FUNCTIONS.values()))


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_every_function_in_the_spark_text_is_sparks_or_written_by_us(spec: Model) -> None:
    assert _spark_anonymous(to_spark(spec.sql)) <= OURS


@pytest.mark.parametrize("spec", [m for m in MODELS if m.merge in ("partitions", "whole")], ids=lambda m: m.name)
def test_every_dedup_transpiles_to_a_window_and_a_filter(spec: Model) -> None:
    schema = all_tables()[spec.table].schema
    spark = to_spark(dedup_portable(spec.sql, spec.key, schema)).upper()
    assert "ROW_NUMBER() OVER" in spark and NOT_SPARK.findall(spark) == []


def test_every_duckdb_macro_the_models_may_call_has_a_spark_form() -> None:
    macros = set(re.findall(r"MACRO (\w+)\(", duckdb_access._MACROS))
    assert macros and macros <= set(SPARK_FUNCTIONS)


def test_an_unknown_function_is_reported() -> None:
    assert untranslated("SELECT list_last(list(x ORDER BY t)), utc_date(t) FROM s") == {"list_last"}


def test_ordinality_counts_from_one_on_spark() -> None:
    sql = "SELECT p.i AS i FROM t CROSS JOIN UNNEST(t.a) WITH ORDINALITY AS p(x, i)"
    assert "(p.i_0 + 1) AS i" in to_spark(sql)
    assert "POSEXPLODE(t.a) p AS i_0, x" in to_spark(sql)


def test_nested_project_functions_are_all_expanded() -> None:
    assert to_spark("SELECT utc_date(utc_hour_floor(t)) FROM s") == (
        "SELECT (CAST((DATE_TRUNC('HOUR', t)) AS DATE)) FROM s"
    )


def test_the_winner_of_a_key_ends_on_the_rows_own_values_never_a_map() -> None:
    schema = all_tables()["silver.global_market"].schema
    order = winner_order(("updated_at",), schema)
    assert order[:3] == ("_fetched_at", "_raw_sha256", "_raw_path") and order[-1] == "_run_id"
    assert "total_market_cap_usd" in order and "total_market_cap" not in order  # a map


def test_the_portable_dedup_keeps_the_same_rows_in_duckdb() -> None:
    schema = pa.schema([("k", pa.string()), ("v", pa.float64()), ("_fetched_at", pa.int64()),
                        ("_raw_sha256", pa.string()), ("_raw_path", pa.string())])  # fmt: skip
    rows = pa.table(
        {"k": ["a", "a", "a", "b"], "v": [1.0, 3.0, None, 2.0], "_fetched_at": [1, 2, 2, 1],
         "_raw_sha256": ["x", "x", "x", "y"], "_raw_path": ["p", "p", "p", "q"]},
        schema=schema,
    )  # fmt: skip
    con = new_duckdb()
    con.register("rows", rows)
    got = con.sql(dedup_portable("SELECT * FROM rows", ("k",), schema)).fetchall()
    # same fetch, same file: the values decide (greatest first, nulls last)
    assert sorted(got) == [("a", 3.0, 2, "x", "p"), ("b", 2.0, 1, "y", "q")]


BATCH_SQL = {
    "prices": batch_scope.PRICES_SQL,
    "snapshots": batch_scope.SNAPSHOTS_SQL,
    "merged_gold": batch_scope.MERGED_GOLD_SQL,
    **{f"fresh_{m}": batch_scope.fresh_sql(m) for m in batch_scope.GOLD_MODELS},
}


@pytest.mark.parametrize("sql", BATCH_SQL.values(), ids=list(BATCH_SQL))
def test_a_batchs_shared_sql_transpiles_with_nothing_left_for_duckdb_only(sql: str) -> None:
    assert untranslated(sql) == set()
    assert NOT_SPARK.findall(to_spark(sql).upper()) == []
    assert _spark_anonymous(to_spark(sql)) <= OURS
