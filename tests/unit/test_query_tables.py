"""Which views ``run_query`` registers: the tables a statement names, or all of them."""

from __future__ import annotations

from geckolake.lake.query import referenced_tables


def test_referenced_tables_finds_qualified_names() -> None:
    sql = 'SELECT * FROM gold.coin_daily d JOIN "silver"."coins" c USING (coin_id), OPS . task_runs'
    assert referenced_tables(sql) == {"gold.coin_daily", "silver.coins", "ops.task_runs"}


def test_referenced_tables_all_when_none_named_or_catalog_inspected() -> None:
    assert referenced_tables("SELECT 1") is None
    assert referenced_tables("SELECT * FROM information_schema.tables WHERE table_schema = 'gold'") is None
    assert referenced_tables("SELECT * FROM duckdb_views() v, gold.coin_daily") is None
