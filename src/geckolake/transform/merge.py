"""Silver merges: bronze relations registered in DuckDB → every silver table, one row per key.

Which model merges how comes from the model headers (:mod:`geckolake.transform.registry`):
``partitions`` models merge the batch with the existing rows of the partitions it touches and
overwrite only those; ``whole`` models are merged and rewritten whole; ``model`` models (coins,
trending) merge through their own SQL (which reads the ``existing`` relation). Per key the latest
fetch wins (``_fetched_at``, then ``_raw_sha256``, ``_raw_path``, then the row's own values, see
:func:`winner_order`), so a merge is associative and commutative: batch by batch equals all at once,
and every engine picks the same winner.
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
from geckolake.transform.registry import Model, batch_inputs, silver_models
from geckolake.transform.report import TransformReport

if TYPE_CHECKING:
    import duckdb

# Bronze endpoints read by the silver models a run's batches feed (from their headers).
SILVER_INPUTS: tuple[str, ...] = batch_inputs()
# Lineage columns that order the candidates of one key, latest fetch first.
_FETCH_ORDER: tuple[str, ...] = ("_fetched_at", "_raw_sha256", "_raw_path")
# How many bronze units each silver model reads (a unit: a row; for sparklines, one price of a row's
# sparkline) and how many of them its rule keeps. Every unit either becomes a candidate row (then
# one per key survives the merge) or is left out by the rule stated in the model's header, and is
# counted in ``TransformReport.filtered``. The stage models are counted over their own SQL; coins and
# trending merge with ``existing``, so their (parser-guaranteed) conditions are restated here.
_UNITS: dict[str, str] = {
    "price_history": "SELECT count(*) FROM bronze_market_chart",
    "market_snapshots": "SELECT count(*) FROM bronze_coins_markets",
    "sparkline_prices": "SELECT coalesce(sum(array_length(sparkline_7d)), 0) FROM bronze_coins_markets",
    "global_market": "SELECT count(*) FROM bronze_global_market",
    "categories": "SELECT count(*) FROM bronze_categories",
    # a category page's rows are its units (the ranking pages' rows are market_snapshots')
    "category_members": "SELECT count(*) FROM bronze_coins_markets WHERE category IS NOT NULL",
    "coins": "SELECT (SELECT count(*) FROM bronze_coins_markets) + (SELECT count(*) FROM bronze_coins_list)",
    "trending": "SELECT count(*) FROM bronze_trending",
    "live_prices": "SELECT count(*) FROM bronze_simple_price",
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


def filtered_sql(model: str) -> tuple[str, str]:
    """Two counting queries for silver ``model``: its bronze units, and the ones its rule keeps."""
    return _UNITS[model], _KEPT.get(model) or f"SELECT count(*) FROM ({load_sql('silver', model)})"


def count_filtered(con: duckdb.DuckDBPyConnection, model: str, kept: int | None = None) -> int:
    """Bronze units of silver ``model`` that its rule leaves out (``kept``: its candidate rows, when
    the caller counted them already)."""
    units, kept_sql = filtered_sql(model)
    total = (con.execute(units).fetchone() or (0,))[0]
    if kept is None:
        kept = (con.execute(kept_sql).fetchone() or (0,))[0]
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
    for spec in silver_models("partitions") + silver_models("whole"):
        model = spec.stem
        if model in skip:
            continue
        name = spec.table
        tdef = defs[name]
        schema = lake.arrow_schema(name)
        batch = dedup(con, spec.sql, tdef.key, schema)
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
    for spec in silver_models("model"):
        name = spec.table
        report.count_filtered(name, count_filtered(con, spec.stem))
        schema = lake.arrow_schema(name)
        existing = lake.read(name) if incremental else schema.empty_table()
        con.register("existing", existing)
        before = existing.num_rows
        merged = con.sql(spec.sql).to_arrow_table()
        con.unregister("existing")
        if not incremental or _has_rows(con, spec):
            lake.replace(name, merged)
            report.rewritten[name] = merged.num_rows
        report.rows[name] = merged.num_rows - before if incremental else merged.num_rows
    return out


def _has_rows(con: duckdb.DuckDBPyConnection, spec: Model) -> bool:
    """Whether the batch holds any bronze row ``spec`` reads (else its table need not be rewritten)."""
    sources = [f"bronze_{e}" for e in spec.bronze_inputs]
    return any((con.execute(f"SELECT count(*) FROM {s}").fetchone() or (0,))[0] > 0 for s in sources)


def _orderable(typ: pa.DataType) -> bool:
    """Whether every engine can sort values of ``typ`` (Spark cannot sort maps)."""
    if pa.types.is_map(typ):
        return False
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _orderable(typ.value_type)
    if pa.types.is_struct(typ):
        return all(_orderable(typ.field(i).type) for i in range(typ.num_fields))
    return True


def winner_order(key: tuple[str, ...], schema: pa.Schema) -> tuple[str, ...]:
    """The columns that order one key's candidates, each descending with nulls last: the latest
    fetch first (``_fetched_at``, ``_raw_sha256``, ``_raw_path``), then the row's own values.

    Rows of one raw file with one key (a body repeating a point) differ only in their values, so
    ending on the values themselves picks the same winner on every engine, where a row hash would
    be engine-specific. Maps are left out (Spark cannot sort them); no rows differ only in a map.
    """
    own = [f.name for f in schema if f.name not in key and f.name not in _FETCH_ORDER and not f.name.startswith("_")]
    last = ("_run_id",) if "_run_id" in schema.names else ()
    return _FETCH_ORDER + tuple(n for n in own if _orderable(schema.field(n).type)) + last


def _order_clause(alias: str, key: tuple[str, ...], schema: pa.Schema) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quote_ident(c)} DESC NULLS LAST" for c in winner_order(key, schema))


def dedup_portable(select_sql: str, key: tuple[str, ...], schema: pa.Schema) -> str:
    """SQL giving the rows of ``select_sql``, one per ``key``, the same winners as :func:`dedup`, in
    the constructs every engine has (a window and a filter; no QUALIFY, no hash)."""
    columns = ", ".join(quote_ident(n) for n in schema.names)
    return (
        f"SELECT {columns} FROM (SELECT c.*, row_number() OVER (PARTITION BY {_partition_clause('c', key)} "
        f"ORDER BY {_order_clause('c', key, schema)}) AS dedup_pick FROM ({select_sql}) AS c) AS w "
        "WHERE dedup_pick = 1"
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
    """Rows of ``select_sql``, one per ``key``: the latest fetch wins (:func:`winner_order`).

    DuckDB's fast form of :func:`dedup_portable` (same winners). Most keys occur once: those rows
    pass through a hash anti-join, and only the repeated keys go through the sorting window (same
    winners as a window over all rows, a third less time). Repeats are found on one 64-bit hash of
    the key rather than on the key's columns (grouping on one integer costs half as much as on
    strings): a collision only sends rows with distinct keys through the window too, which
    partitions by the key itself, so the winners are the same.

    ``encoded`` maps columns to DuckDB ENUM types holding all their values: those come out
    dictionary-encoded and the rows are not cast to ``schema`` (the caller's writer does it).
    """
    key_hash = "hash(" + _partition_clause("c", key) + ")"
    source, candidates = select_sql, "c"
    if encoded:
        # Cast right on the scan, where DuckDB casts each distinct value once; the window orders
        # on the strings, as without encoding, so the winners are the same.
        source = f"SELECT * REPLACE ({_casts('', encoded)}) FROM ({select_sql})"
        candidates = f"(SELECT c.* REPLACE ({_casts('c.', dict.fromkeys(encoded, 'VARCHAR'))}) FROM c)"
    winners = (
        f"SELECT c.* FROM {candidates} c SEMI JOIN repeated r ON {key_hash} = r.h QUALIFY row_number() OVER "
        f"(PARTITION BY {_partition_clause('c', key)} ORDER BY {_order_clause('c', key, schema)}) = 1"
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
    """``batch`` (already one row per key) merged into ``existing`` (one row per key), one row per
    ``key``: the same winners as :func:`dedup` over their union.

    Both sides hold at most one row per key, so a key is in one side only (its row stays) or in
    both, where the first column of :func:`winner_order`, ``_fetched_at``, usually decides: a
    hash join of the two sides on the key settles those pairs. Only pairs with equal (or null)
    fetch times go through the sorting window. A window over the whole union sorted every
    repeated key by all the row's columns: on a next-day run, ~300k overlapping sparkline points
    took most of the merge and about 1 GiB of memory.
    """
    if existing.num_rows == 0:
        return batch
    con.register("batch_rows", batch)
    con.register("existing_rows", conform(existing, schema))
    try:
        keys = ", ".join(f"b.{quote_ident(k)}" for k in key)
        pairs = con.sql(
            f"SELECT {keys}, coalesce(b._fetched_at > e._fetched_at, false) AS batch_wins, "
            f"coalesce(e._fetched_at > b._fetched_at, false) AS existing_wins "
            f"FROM batch_rows b JOIN existing_rows e ON {_same_key('b', 'e', key)}"
        ).to_arrow_table()
        con.register("pairs", pairs)
        kept = con.sql(
            f"SELECT b.* FROM batch_rows b ANTI JOIN (SELECT * FROM pairs WHERE NOT batch_wins) p "
            f"ON {_same_key('b', 'p', key)} "
            f"UNION ALL SELECT e.* FROM existing_rows e ANTI JOIN (SELECT * FROM pairs WHERE NOT existing_wins) p "
            f"ON {_same_key('e', 'p', key)}"
        ).to_arrow_table()
        parts = [conform(kept, schema)]
        if pc.sum(pc.invert(pc.or_(pairs["batch_wins"], pairs["existing_wins"]))).as_py():
            ties = "(SELECT * FROM pairs WHERE NOT batch_wins AND NOT existing_wins)"
            parts.append(
                dedup(
                    con,
                    f"SELECT b.* FROM batch_rows b SEMI JOIN {ties} p ON {_same_key('b', 'p', key)} "
                    f"UNION ALL SELECT e.* FROM existing_rows e SEMI JOIN {ties} p ON {_same_key('e', 'p', key)}",
                    key,
                    schema,
                )
            )
        con.unregister("pairs")
        return pa.concat_tables(parts)
    finally:
        con.unregister("batch_rows")
        con.unregister("existing_rows")


def _same_key(left: str, right: str, key: tuple[str, ...]) -> str:
    """A join condition on ``key`` under which null key parts match, as the window's PARTITION BY groups them."""
    return " AND ".join(f"{left}.{quote_ident(k)} IS NOT DISTINCT FROM {right}.{quote_ident(k)}" for k in key)
