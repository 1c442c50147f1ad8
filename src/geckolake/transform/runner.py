"""Bronze → silver → gold: incremental per batch (``apply_batch``) or from scratch (``rebuild_all``).

Both run the same SQL models (``transform/silver``, ``transform/gold``) in DuckDB over Arrow and
commit through PyIceberg, one commit per table written:

* bronze tables are appended;
* partitioned silver tables (by ``month`` or ``date``) merge the batch with the existing rows of
  the partitions it touches, keep one row per key (latest ``_fetched_at`` wins; ties broken by
  ``_raw_sha256``, ``_raw_path``, then a hash of the row) and overwrite only those partitions;
* small silver tables (coins, global_market, categories, trending) are merged and rewritten whole;
* gold is recomputed for the (coin, currency, day) groups the batch touched and those partitions
  are overwritten.

Every merge is "pick the winner per key" over a union, which is associative and commutative, so
applying batches one by one gives the same silver and gold as one rebuild over all of bronze.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from geckolake.lake.catalog import Lake, isin
from geckolake.lake.duckdb_access import local_path, new_duckdb, spill_to
from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified
from geckolake.lake.tables import all_tables
from geckolake.lake.write import conform
from geckolake.transform.models import load_sql

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

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
KEYED_SMALL_SILVER: tuple[str, ...] = ("global_market", "categories")
GOLD_MODELS: tuple[str, ...] = ("coin_aggregates", "coin_daily")


@dataclass
class TransformReport:
    """What one ``apply_batch`` or ``rebuild_all`` did.

    ``rows``: rows of the batch that landed in each table (bronze: appended; silver: distinct keys
    of the batch; gold: groups recomputed). ``rewritten``: rows physically written per table
    (merged partitions included). ``recovered``: bronze rows of an interrupted earlier batch that
    were merged along with this one. ``first_day``: the earliest UTC day whose gold rows or daily
    inputs (prices, snapshots, /global, categories) the batch touched (None: none, or a rebuild);
    analytics recompute from there. ``seconds``: wall time.
    """

    rows: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    seconds: float = 0.0

    def total(self, layer: str) -> int:
        """Rows landed in the tables of ``layer`` ("bronze", "silver", "gold")."""
        return sum(n for name, n in self.rows.items() if name.startswith(layer + "."))


def apply_batch(lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None) -> TransformReport:
    """Append a parsed batch to bronze and merge it into silver and gold.

    ``bronze`` maps endpoint names ("coins_markets", "market_chart", ...) to tables with the bronze
    schemas; ``quarantine`` holds rejected records. Re-applying the same batch changes no silver
    or gold content.

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    started = time.perf_counter()
    report = TransformReport()
    # Bronze rows an interrupted batch appended but never merged: merge them now (merges are
    # idempotent, so re-merging rows that did reach silver changes nothing).
    recovered = _unmerged_bronze(lake)
    report.recovered = {f"bronze.{e}": t.num_rows for e, t in recovered.items()}
    conformed: dict[str, pa.Table] = {}
    for endpoint, data in bronze.items():
        name = f"bronze.{endpoint}"
        conformed[endpoint] = lake.conform(name, data)
        lake.append(name, conformed[endpoint])
        report.rows[name] = data.num_rows
    for endpoint, data in recovered.items():
        new = conformed.get(endpoint)
        conformed[endpoint] = data if new is None else pa.concat_tables([data, new])
    if quarantine is not None and quarantine.num_rows:
        lake.append("bronze.quarantine", quarantine)
        report.rows["bronze.quarantine"] = quarantine.num_rows

    con = new_duckdb()
    try:
        for endpoint in SILVER_INPUTS:
            data = conformed.get(endpoint)
            if data is None:
                data = lake.arrow_schema(f"bronze.{endpoint}").empty_table()
            con.register(f"bronze_{endpoint}", data)
        staged = _silver(lake, con, report, incremental=True)
        report.first_day = _first_day(con, staged)
        _gold_incremental(lake, con, report, staged)
    finally:
        con.close()
    _log_merged(lake, "batch")
    report.seconds = time.perf_counter() - started
    log.info("applied batch in %.2fs: %s", report.seconds, report.rows)
    return report


def rebuild_all(lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
    """Recompute silver and gold entirely from bronze (used by replay).

    Gives the same silver and gold content as applying every batch in turn; bronze rows of
    ``exclude_runs`` (runs the quality gate rejected) are left out, as their batches were. Memory stays bounded
    whatever the size of bronze: price history goes through in chunks of at most
    ``REBUILD_CHUNK_ROWS`` bronze rows, and DuckDB spills to the lake's temp folder beyond
    ``REBUILD_MEMORY_LIMIT``.

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    started = time.perf_counter()
    report = TransformReport()
    # Only the bronze inputs: registering all 31 tables costs a catalog load each.
    con = lake.connect_duckdb(tables=[f"bronze.{e}" for e in SILVER_INPUTS])
    try:
        spill_to(con, lake.root, REBUILD_MEMORY_LIMIT)
        excluded = ", ".join(quote_literal(r) for r in sorted(exclude_runs))
        kept = f" WHERE _run_id NOT IN ({excluded})" if exclude_runs else ""
        for endpoint in SILVER_INPUTS:
            view, table = quote_ident(f"bronze_{endpoint}"), quote_qualified(f"bronze.{endpoint}")
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {table}{kept}")
        staged = _silver(lake, con, report, incremental=False, skip=("price_history",))
        snapshots = staged["market_snapshots"]
        con.register("snapshots", snapshots)
        name = "gold.coin_aggregates"
        result = con.sql(load_sql("gold", "coin_aggregates")).to_arrow_table()
        lake.replace(name, result)
        report.rows[name] = report.rewritten[name] = result.num_rows
        del result
        daily: list[pa.Table] = []
        lake.replace("silver.price_history", _rebuild_price_history(lake, con, snapshots, daily, report))
        report.rewritten["silver.price_history"] = report.rows["silver.price_history"]
        # Returns need the previous day's close, which may sit in another chunk: computed once over
        # all days (gold.coin_daily has one row per coin and day, small next to the prices).
        gold_schema = lake.arrow_schema("gold.coin_daily")
        days = pa.concat_tables(daily) if daily else _with_null_returns(gold_schema.empty_table())
        del daily
        days = _daily_returns(con, days, days)
        lake.replace("gold.coin_daily", days)
        report.rows["gold.coin_daily"] = report.rewritten["gold.coin_daily"] = days.num_rows
    finally:
        con.close()
    for name, rebuild in _rebuilt_elsewhere().items():
        report.rows[name] = report.rewritten[name] = rebuild(lake)
    _log_merged(lake, "rebuild")
    report.seconds = time.perf_counter() - started
    log.info("rebuilt silver and gold in %.2fs: %s", report.seconds, report.rows)
    return report


def _rebuilt_elsewhere() -> dict[str, Callable[[Lake], int]]:
    """Silver tables fed by their own job (not by a run's batches), each with its from-bronze rebuild.

    ``silver.live_prices`` (from ``bronze.simple_price``) is merged by the prices poll, not by
    ``apply_batch``; a rebuild recomputes it from all of bronze like the rest of silver.
    """
    from geckolake.ingest.prices import rebuild_live_prices

    return {"silver.live_prices": rebuild_live_prices}


# Bronze price rows rebuilt at a time: bounds memory whatever the size of bronze. A month with more
# rows is cut into ranges of coin ids (a key, and a coin's day, never spans two chunks).
REBUILD_CHUNK_ROWS = 1_000_000
# DuckDB's own memory during a rebuild (its default is 80 % of RAM); beyond it, it spills to disk.
REBUILD_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class _Chunk:
    """Months of price history rebuilt together, limited to coin ids in [low, high) (None: unbounded)."""

    months: tuple[str, ...]
    low: str | None = None
    high: str | None = None

    def coin_filter(self, column: str) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{column} >= {quote_literal(self.low)}")
        if self.high is not None:
            parts.append(f"{column} < {quote_literal(self.high)}")
        return "".join(f" AND {p}" for p in parts)

    def coin_mask(self, coins: pa.ChunkedArray) -> pa.ChunkedArray | None:
        masks = []
        if self.low is not None:
            masks.append(pc.greater_equal(coins, pa.scalar(self.low)))
        if self.high is not None:
            masks.append(pc.less(coins, pa.scalar(self.high)))
        if not masks:
            return None
        return masks[0] if len(masks) == 1 else pc.and_(masks[0], masks[1])


def _rebuild_price_history(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    snapshots: pa.Table,
    daily: list[pa.Table],
    report: TransformReport,
) -> Iterator[pa.Table]:
    """silver.price_history rebuilt chunk by chunk (see ``_plan_chunks``); gold.coin_daily of each
    chunk's months and coins, without returns, is computed along the way and appended to ``daily``.

    A chunk also takes the daily points at 00:00 of the first day after it: they close the
    chunk's last day (see coin_daily.sql).
    """
    tdef = all_tables()["silver.price_history"]
    schema = lake.arrow_schema("silver.price_history")
    gold_schema = lake.arrow_schema("gold.coin_daily")
    stage = load_sql("silver", "price_history")
    counts = con.execute(
        f"SELECT strftime(m, '%Y-%m'), coin_id, count(*) FROM (SELECT date_trunc('month', utc_date(ts)) AS m, "
        f"coin_id FROM ({stage})) GROUP BY m, coin_id ORDER BY m, coin_id"
    ).fetchall()
    snapshot_months = pc.unique(pc.strftime(snapshots["snapshot_ts"], "%Y-%m")).to_pylist()
    encoded = _lineage_enums(con, "bronze_market_chart")
    report.rows["silver.price_history"] = 0
    for chunk in _plan_chunks(counts, snapshot_months, REBUILD_CHUNK_ROWS):
        first, last = date.fromisoformat(chunk.months[0] + "-01"), _next_month(chunk.months[-1])
        listing = ", ".join(quote_literal(m) for m in chunk.months)
        coins = chunk.coin_filter("s.coin_id")
        # Filters on the raw ts (pushed into the scan) rather than on the computed month.
        own = _dedup(
            con,
            f"SELECT s.* REPLACE ({_month_case(first, last, 's.ts')} AS month) FROM ({stage}) s "
            f"WHERE s.ts >= {_ts_literal(first)} AND s.ts < {_ts_literal(last)}{coins}",
            tdef.key,
            schema,
            encoded=encoded,
        )
        closing = _dedup(
            con,
            f"SELECT s.* REPLACE ({quote_literal(f'{last:%Y-%m}')} AS month) FROM ({stage}) s "
            f"WHERE s.granularity = 'daily' "
            f"AND s.ts = {_ts_literal(last)}{coins}",
            tdef.key,
            schema,
            encoded=encoded,
        )
        days = pc.cast(snapshots["snapshot_ts"], pa.timestamp("us"))
        day_start, day_end = _ts(first), _ts(last + timedelta(days=1))
        in_range = pc.and_(pc.greater_equal(days, day_start), pc.less(days, day_end))
        coin_mask = chunk.coin_mask(snapshots["coin_id"])
        if coin_mask is not None:
            in_range = pc.and_(in_range, coin_mask)
        con.register("own_prices", own)
        con.register("closing_prices", closing)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW prices AS SELECT * FROM own_prices UNION ALL SELECT * FROM closing_prices"
        )
        con.register("snapshots", snapshots.filter(in_range))
        result = con.sql(
            f"SELECT * FROM ({load_sql('gold', 'coin_daily')}) WHERE month IN ({listing})"
        ).to_arrow_table()
        daily.append(_cast(_with_null_returns(result), gold_schema))
        con.execute("DROP VIEW prices")
        con.unregister("own_prices")
        con.unregister("closing_prices")
        report.rows["silver.price_history"] += own.num_rows
        del closing, result
        yield own


def _month_case(first: date, last: date, column: str) -> str:
    """``utc_month(column)`` for timestamps in [``first``, ``last``) (first days of months), as
    comparisons of the raw timestamp: formatting a date per row costs a rebuild more."""
    month, whens = first, []
    while (after := _next_month(f"{month:%Y-%m}")) < last:
        whens.append(f"WHEN {column} < {_ts_literal(after)} THEN {quote_literal(f'{month:%Y-%m}')}")
        month = after
    last_month = quote_literal(f"{month:%Y-%m}")
    return f"CASE {' '.join(whens)} ELSE {last_month} END" if whens else last_month


def _ts_literal(day: date) -> str:
    """Midnight UTC at the start of ``day``."""
    return quote_literal(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _plan_chunks(counts: list[tuple[str, str, int]], extra_months: list[str], limit: int) -> Iterator[_Chunk]:
    """Chunks of at most ``limit`` rows (unless one coin's month alone is more) from the rows per
    (month, coin id), sorted. Whole months are grouped while they fit; a larger month is cut into
    ranges of coin ids that cover every id (snapshot-only coins included). ``extra_months`` (months
    with snapshots) get a chunk even without price rows, for their gold days."""
    by_month: dict[str, list[tuple[str, int]]] = {m: [] for m in extra_months}
    for month, coin, n in counts:
        by_month.setdefault(month, []).append((coin, n))
    totals = {m: sum(n for _, n in coins) for m, coins in by_month.items()}
    for months in _chunks(sorted(totals.items()), limit):
        if len(months) > 1 or totals[months[0]] <= limit:
            yield _Chunk(tuple(months))
            continue
        low: str | None = None
        rows = 0
        for coin, n in by_month[months[0]]:
            if rows and rows + n > limit:
                yield _Chunk(tuple(months), low, coin)
                low, rows = coin, 0
            rows += n
        yield _Chunk(tuple(months), low, None)


def _chunks(counts: list[tuple[str, int]], limit: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    rows = 0
    for month, n in counts:
        if chunk and rows + n > limit:
            yield chunk
            chunk, rows = [], 0
        chunk.append(month)
        rows += n
    if chunk:
        yield chunk


def _previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


def _next_month(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year + mon // 12, mon % 12 + 1, 1)


def _ts(d: date) -> pa.Scalar:
    return pa.scalar(datetime(d.year, d.month, d.day), pa.timestamp("us"))


# -- crash recovery ------------------------------------------------------------------------------


def _log_merged(lake: Lake, kind: str) -> None:
    """Record that every bronze row committed so far is merged into silver and gold."""
    snapshots = {}
    for endpoint in SILVER_INPUTS:
        snap = lake.table(f"bronze.{endpoint}").current_snapshot()
        snapshots[f"bronze.{endpoint}"] = snap.snapshot_id if snap is not None else None
    row = {
        "batch_id": uuid.uuid4().hex,
        "kind": kind,
        "finished_at": datetime.now(UTC),
        "bronze_snapshots_json": json.dumps(snapshots, sort_keys=True),
    }
    lake.append("ops.transform_log", pa.Table.from_pylist([row]))


def _unmerged_bronze(lake: Lake) -> dict[str, pa.Table]:
    """Bronze rows committed after the last completed merge (an interrupted run's), per endpoint.

    Bronze is append-only, so they are the data files of the current snapshot that the snapshot
    recorded by the last ``ops.transform_log`` row did not have.
    """
    log_rows = lake.read("ops.transform_log", columns=("finished_at", "batch_id", "bronze_snapshots_json"))
    merged: dict[str, int | None] = {}
    if log_rows.num_rows:
        last = max(log_rows.to_pylist(), key=lambda r: (r["finished_at"], r["batch_id"]))
        merged = json.loads(last["bronze_snapshots_json"])
    out: dict[str, pa.Table] = {}
    for endpoint in SILVER_INPUTS:
        name = f"bronze.{endpoint}"
        table = lake.table(name)
        current = table.current_snapshot()
        then = merged.get(name)
        if current is None or then == current.snapshot_id:
            continue
        known = {s.snapshot_id for s in table.metadata.snapshots}
        old = {t.file.file_path for t in table.scan(snapshot_id=then).plan_files()} if then in known else set()
        new = [t.file.file_path for t in table.scan().plan_files() if t.file.file_path not in old]
        if not new:
            continue
        schema = table.schema().as_arrow()
        parts = [conform(pq.read_table(local_path(f)), schema, name) for f in new]
        out[endpoint] = pa.concat_tables(parts)
        log.warning("merging %d bronze rows of %s left by an interrupted run", out[endpoint].num_rows, name)
    return out


# -- silver --------------------------------------------------------------------------------------


def _silver(
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
        batch = _dedup(con, load_sql("silver", model), tdef.key, schema)
        report.rows[name] = batch.num_rows
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


def _dedup(
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
    return rows.select(schema.names) if encoded else _cast(rows, schema)


def _casts(alias: str, types: Mapping[str, str]) -> str:
    return ", ".join(f"{alias}{quote_ident(c)}::{t} AS {quote_ident(c)}" for c, t in types.items())


# Lineage columns of a price point handed over dictionary-encoded during a rebuild: one value per
# raw file, 64-70 characters, they cost DuckDB more to export to Arrow as strings than every other
# column of the row together; as ENUMs they are exported as small indices.
_ENCODED_LINEAGE: tuple[str, ...] = ("_raw_sha256", "_raw_path")
# An exported ENUM column carries every value of the type: beyond this many raw files, plain
# strings cost less than a dictionary per chunk.
_MAX_ENUM_VALUES = 1 << 16


def _lineage_enums(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """DuckDB ENUM types of the values of ``_ENCODED_LINEAGE`` in ``source``: column -> type
    (none when a column has more than ``_MAX_ENUM_VALUES`` values)."""
    counts = con.execute(
        "SELECT " + ", ".join(f"count(DISTINCT {quote_ident(c)})" for c in _ENCODED_LINEAGE) + f" FROM {source}"
    ).fetchone()
    if counts is None or max(counts) > _MAX_ENUM_VALUES:
        return {}
    types = {}
    for column in _ENCODED_LINEAGE:
        name = f"lineage{column}"
        con.execute(
            f"CREATE OR REPLACE TYPE {name} AS ENUM "
            f"(SELECT DISTINCT {quote_ident(column)} FROM {source} WHERE {quote_ident(column)} IS NOT NULL)"
        )
        types[column] = name
    return types


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
    con.register("existing_rows", _cast(existing, schema))
    try:
        return _dedup(con, "SELECT * FROM batch_rows UNION ALL SELECT * FROM existing_rows", key, schema)
    finally:
        con.unregister("batch_rows")
        con.unregister("existing_rows")


def _cast(data: pa.Table, schema: pa.Schema) -> pa.Table:
    return data.select(schema.names).cast(schema)


# gold.coin_daily columns that coin_daily_returns.sql computes from the previous day's close.
_RETURN_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("return_1d", pa.float64()),
    ("log_return_1d", pa.float64()),
    ("quality", pa.string()),
)


def _with_null_returns(rows: pa.Table) -> pa.Table:
    """coin_daily.sql rows with the columns coin_daily_returns.sql fills in, still null."""
    for name, typ in _RETURN_COLUMNS:
        if name not in rows.column_names:
            rows = rows.append_column(name, pa.nulls(rows.num_rows, typ))
    return rows


def _daily_returns(con: duckdb.DuckDBPyConnection, rows: pa.Table, closes: pa.Table) -> pa.Table:
    """gold.coin_daily ``rows`` completed with returns and quality (coin_daily_returns.sql).

    ``closes`` holds at most one row per (coin, currency, day) and must contain each row's previous
    day when the lake has it.
    """
    schema = rows.schema
    con.register("daily", rows)
    con.register("closes", closes.select(["coin_id", "vs_currency", "date", "close"]))
    try:
        return _cast(con.sql(load_sql("gold", "coin_daily_returns")).to_arrow_table(), schema)
    finally:
        con.unregister("daily")
        con.unregister("closes")


def _first_day(con: duckdb.DuckDBPyConnection, staged: Mapping[str, pa.Table]) -> date | None:
    """The earliest UTC day the staged silver rows of a batch touch (a daily point also closes the
    day before)."""
    parts = {
        "price_history": "SELECT min(utc_date(ts) - CASE WHEN granularity = 'daily' THEN 1 ELSE 0 END) FROM t",
        "market_snapshots": "SELECT min(utc_date(snapshot_ts)) FROM t",
        "global_market": "SELECT min(utc_date(updated_at)) FROM t",
        "categories": "SELECT min(snapshot_date) FROM t",
    }
    days: list[date] = []
    for model, sql in parts.items():
        data = staged.get(model)
        if data is None or data.num_rows == 0:
            continue
        con.register("t", data)
        row = con.execute(sql).fetchone()
        con.unregister("t")
        if row and row[0] is not None:
            days.append(row[0])
    return min(days) if days else None


# -- gold ----------------------------------------------------------------------------------------


def _gold_incremental(
    lake: Lake, con: duckdb.DuckDBPyConnection, report: TransformReport, staged: Mapping[str, pa.Table]
) -> None:
    """Recompute gold for the (coin, currency, day) groups the batch touched."""
    con.register("batch_prices", staged["price_history"])
    con.register("batch_snapshots", staged["market_snapshots"])
    # A daily point at D 00:00 is also the close of D-1, so it touches both days.
    groups = con.sql(
        "SELECT DISTINCT coin_id, vs_currency, utc_date(ts) AS date FROM batch_prices "
        "UNION SELECT DISTINCT coin_id, vs_currency, utc_date(ts) - 1 FROM batch_prices "
        "WHERE granularity = 'daily' "
        "UNION SELECT DISTINCT coin_id, vs_currency, utc_date(snapshot_ts) FROM batch_snapshots"
    ).to_arrow_table()
    if groups.num_rows == 0:
        return
    con.register("groups", groups)
    months_row = con.execute(
        "SELECT list(DISTINCT m ORDER BY m) FROM (SELECT strftime(date, '%Y-%m') AS m FROM groups "
        "UNION SELECT strftime(date + 1, '%Y-%m') FROM groups)"
    ).fetchone()
    months: list[str] = list(months_row[0]) if months_row else []
    gold_row = con.execute("SELECT list(DISTINCT strftime(date, '%Y-%m')) FROM groups").fetchone()
    gold_months: list[str] = list(gold_row[0]) if gold_row else []
    # coin_daily's returns of D+1 depend on D's close: rewrite the months of D+1 too, reading the
    # month before each for the previous close.
    returns_row = con.execute("SELECT list(DISTINCT strftime(date + 1, '%Y-%m')) FROM groups").fetchone()
    daily_months = sorted(set(gold_months) | set(returns_row[0] if returns_row else []))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE wanted AS SELECT coin_id, vs_currency, date FROM groups "
        "UNION SELECT coin_id, vs_currency, date + 1 FROM groups"
    )
    con.register("silver_prices", lake.read("silver.price_history", isin("month", months)))
    days_row = con.execute("SELECT list(DISTINCT date ORDER BY date) FROM wanted").fetchone()
    days: list[object] = list(days_row[0]) if days_row else []
    con.register("silver_snapshots", lake.read("silver.market_snapshots", isin("date", days)))
    # The models compute every day they are given: give them the touched days and the days after
    # (a day's close is the next day's midnight point), then keep only the touched days.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW prices AS SELECT p.* FROM silver_prices p SEMI JOIN wanted w "
        "ON p.coin_id = w.coin_id AND p.vs_currency = w.vs_currency AND utc_date(p.ts) = w.date"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW snapshots AS SELECT s.* FROM silver_snapshots s SEMI JOIN wanted w "
        "ON s.coin_id = w.coin_id AND s.vs_currency = w.vs_currency AND utc_date(s.snapshot_ts) = w.date"
    )
    for model in GOLD_MODELS:
        name = f"gold.{model}"
        schema = lake.arrow_schema(name)
        fresh = _cast(
            _with_null_returns(
                con.sql(
                    f"SELECT f.* FROM ({load_sql('gold', model)}) f SEMI JOIN groups g "
                    "ON f.coin_id = g.coin_id AND f.vs_currency = g.vs_currency AND f.date = g.date"
                ).to_arrow_table()
            ),
            schema,
        )
        months = gold_months
        if model == "coin_daily":
            months = sorted(set(daily_months) | {_previous_month(m) for m in daily_months})
        con.register("existing_gold", _cast(lake.read(name, isin("month", months)), schema))
        con.register("fresh_gold", fresh)
        merged = con.sql(
            "SELECT * FROM fresh_gold UNION ALL SELECT e.* FROM existing_gold e ANTI JOIN groups g "
            "ON e.coin_id = g.coin_id AND e.vs_currency = g.vs_currency AND e.date = g.date"
        ).to_arrow_table()
        con.unregister("existing_gold")
        con.unregister("fresh_gold")
        if model == "coin_daily":
            merged = _daily_returns(con, merged.filter(pc.is_in(merged["month"], pa.array(daily_months))), merged)
        lake.overwrite_partitions(name, merged)
        report.rows[name] = fresh.num_rows
        report.rewritten[name] = merged.num_rows
