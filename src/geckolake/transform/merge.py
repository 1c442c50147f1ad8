"""Silver merges: bronze relations registered in DuckDB → every silver table, one row per key.

Partitioned silver tables merge the batch with the existing rows of the partitions it touches and
overwrite only those; small keyed tables are merged and rewritten whole; ``coins`` and ``trending``
merge through their own SQL (which reads the ``existing`` relation). Per key the latest fetch wins
(``_fetched_at``, then ``_raw_sha256``, ``_raw_path``, then a hash of the row), so a merge is
associative and commutative: batch by batch equals all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.lake.catalog import Lake, isin
from geckolake.lake.sql import quote_ident
from geckolake.lake.tables import all_tables
from geckolake.lake.write import conform
from geckolake.transform.models import load_sql
from geckolake.transform.report import TransformReport

if TYPE_CHECKING:
    import duckdb

# Bronze endpoints read by the silver models.
SILVER_INPUTS: tuple[str, ...] = (
    "coins_markets",
    "market_chart",
    "coins_list",
    "global_market",
    "categories",
    "trending",
)
# Silver tables merged by key and partition: table -> model.
PARTITIONED_SILVER: tuple[str, ...] = ("market_snapshots", "price_history", "sparkline_prices")
# Small silver tables merged by key and rewritten whole.
KEYED_SMALL_SILVER: tuple[str, ...] = ("global_market", "categories", "category_members")
# How many bronze units each silver model reads (a unit: a row; for sparklines, one price of a row's
# sparkline) and how many of them its rule keeps. Every unit either becomes a candidate row (then
# one per key survives the merge) or is left out by the rule stated in the model's header, and is
# counted in ``TransformReport.filtered``. The stage models are counted over their own SQL; coins and
# trending merge with ``existing``, so their (parser-guaranteed) conditions are restated here.
_UNITS: dict[str, str] = {
    "price_history": "SELECT count(*) FROM bronze_market_chart",
    "market_snapshots": "SELECT count(*) FROM bronze_coins_markets",
    "sparkline_prices": "SELECT coalesce(sum(len(sparkline_7d)), 0) FROM bronze_coins_markets",
    "global_market": "SELECT count(*) FROM bronze_global_market",
    "categories": "SELECT count(*) FROM bronze_categories",
    # a category page's rows are its units (the ranking pages' rows are market_snapshots')
    "category_members": "SELECT count(*) FROM bronze_coins_markets WHERE category IS NOT NULL",
    "coins": "SELECT (SELECT count(*) FROM bronze_coins_markets) + (SELECT count(*) FROM bronze_coins_list)",
    "trending": "SELECT count(*) FROM bronze_trending",
}
_KEPT: dict[str, str] = {
    "coins": (
        "SELECT (SELECT count(*) FROM bronze_coins_markets WHERE coin_id IS NOT NULL AND category IS NULL) "
        "+ (SELECT count(*) FROM bronze_coins_list WHERE coin_id IS NOT NULL)"
    ),
    "trending": (
        "SELECT count(*) FROM bronze_trending "
        "WHERE item_type IS NOT NULL AND item_id IS NOT NULL AND _fetched_at IS NOT NULL"
    ),
}


def count_filtered(con: duckdb.DuckDBPyConnection, model: str, kept: int | None = None) -> int:
    """Bronze units of silver ``model`` that its rule leaves out (``kept``: its candidate rows, when
    the caller counted them already)."""
    total = (con.execute(_UNITS[model]).fetchone() or (0,))[0]
    if kept is None:
        sql = _KEPT.get(model) or f"SELECT count(*) FROM ({load_sql('silver', model)})"
        kept = (con.execute(sql).fetchone() or (0,))[0]
    return int(total) - int(kept)


def merge_silver(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    report: TransformReport,
    *,
    incremental: bool,
    skip: tuple[str, ...] = (),
) -> dict[str, pa.Table]:
    """Merge the registered bronze relations into every silver table.

    Returns, per partitioned silver table, the batch's deduplicated rows (incremental) or the
    table's whole new content (rebuild), for gold.
    """
    defs = all_tables()
    out: dict[str, pa.Table] = {}
    for model in PARTITIONED_SILVER + KEYED_SMALL_SILVER:
        if model in skip:
            continue
        name = f"silver.{model}"
        tdef = defs[name]
        schema = lake.arrow_schema(name)
        batch = dedup(con, load_sql("silver", model), tdef.key, schema)
        report.rows[name] = batch.num_rows
        report.count_filtered(name, count_filtered(con, model))
        out[model] = batch
        if not incremental:
            lake.replace(name, batch)
            report.rewritten[name] = batch.num_rows
            continue
        if batch.num_rows == 0:
            continue
        if tdef.partition is not None:
            values = pc.unique(batch[tdef.partition]).to_pylist()
            existing = lake.read(name, isin(tdef.partition, values))
            merged = _dedup_union(con, batch, existing, tdef.key, schema)
            lake.overwrite_partitions(name, merged)
        else:
            merged = _dedup_union(con, batch, lake.read(name), tdef.key, schema)
            lake.replace(name, merged)
        report.rewritten[name] = merged.num_rows
    for model in ("coins", "trending"):
        name = f"silver.{model}"
        report.count_filtered(name, count_filtered(con, model))
        schema = lake.arrow_schema(name)
        existing = lake.read(name) if incremental else schema.empty_table()
        con.register("existing", existing)
        before = existing.num_rows
        merged = con.sql(load_sql("silver", model)).to_arrow_table()
        con.unregister("existing")
        if not incremental or _has_rows(con, model):
            lake.replace(name, merged)
            report.rewritten[name] = merged.num_rows
        report.rows[name] = merged.num_rows - before if incremental else merged.num_rows
    return out


def _has_rows(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    sources = ("bronze_coins_markets", "bronze_coins_list") if model == "coins" else ("bronze_trending",)
    return any((con.execute(f"SELECT count(*) FROM {s}").fetchone() or (0,))[0] > 0 for s in sources)


def _order_clause(alias: str) -> str:
    return (
        f"{alias}._fetched_at DESC NULLS LAST, {alias}._raw_sha256 DESC NULLS LAST, "
        f"{alias}._raw_path DESC NULLS LAST, hash({alias}) DESC"
    )


def _partition_clause(alias: str, key: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{quote_ident(k)}" for k in key)


def dedup(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    key: tuple[str, ...],
    schema: pa.Schema,
    *,
    encoded: Mapping[str, str] | None = None,
) -> pa.Table:
    """Rows of ``select_sql``, one per ``key``: the latest fetch wins.

    Most keys occur once: those rows pass through a hash anti-join, and only the repeated keys go
    through the sorting window (same winners as a window over all rows, a third less time).
    Repeats are found on one 64-bit hash of the key rather than on the key's columns (grouping on
    one integer costs half as much as on strings): a collision only sends rows with distinct keys
    through the window too, which partitions by the key itself, so the winners are the same.

    ``encoded`` maps columns to DuckDB ENUM types holding all their values: those come out
    dictionary-encoded and the rows are not cast to ``schema`` (the caller's writer does it).
    """
    key_hash = "hash(" + _partition_clause("c", key) + ")"
    source, candidates = select_sql, "c"
    if encoded:
        # Cast right on the scan, where DuckDB casts each distinct value once; the window orders
        # (and hashes rows) on the strings, as without encoding, so the winners are the same.
        source = f"SELECT * REPLACE ({_casts('', encoded)}) FROM ({select_sql})"
        candidates = f"(SELECT c.* REPLACE ({_casts('c.', dict.fromkeys(encoded, 'VARCHAR'))}) FROM c)"
    winners = (
        f"SELECT c.* FROM {candidates} c SEMI JOIN repeated r ON {key_hash} = r.h QUALIFY row_number() OVER "
        f"(PARTITION BY {_partition_clause('c', key)} ORDER BY {_order_clause('c')}) = 1"
    )
    if encoded:
        winners = f"SELECT * REPLACE ({_casts('', encoded)}) FROM ({winners})"
    sql = (
        f"WITH c AS NOT MATERIALIZED ({source}), "
        f"repeated AS (SELECT {key_hash} AS h FROM c GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT c.* FROM c ANTI JOIN repeated r ON {key_hash} = r.h UNION ALL {winners}"
    )
    rows = con.sql(sql).to_arrow_table()
    return rows.select(schema.names) if encoded else conform(rows, schema)


def _casts(alias: str, types: Mapping[str, str]) -> str:
    return ", ".join(f"{alias}{quote_ident(c)}::{t} AS {quote_ident(c)}" for c, t in types.items())


def _dedup_union(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    existing: pa.Table,
    key: tuple[str, ...],
    schema: pa.Schema,
) -> pa.Table:
    """``batch`` (already one row per key) merged into ``existing``, one row per ``key``: the latest
    fetch wins. Nothing to merge with (a new lake, new partitions) needs no second pass."""
    if existing.num_rows == 0:
        return batch
    con.register("batch_rows", batch)
    con.register("existing_rows", conform(existing, schema))
    try:
        return dedup(con, "SELECT * FROM batch_rows UNION ALL SELECT * FROM existing_rows", key, schema)
    finally:
        con.unregister("batch_rows")
        con.unregister("existing_rows")
