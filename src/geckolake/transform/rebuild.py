"""``rebuild_all``: silver and gold recomputed from all of bronze, in bounded memory.

Price history goes through in chunks of at most ``REBUILD_CHUNK_ROWS`` bronze rows (whole months
while they fit, else ranges of coin ids), gold.coin_daily of each chunk is computed along the way,
and DuckDB spills to the lake's temp folder beyond ``REBUILD_MEMORY_LIMIT``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.lake.catalog import Lake
from geckolake.lake.duckdb_access import spill_to
from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified
from geckolake.lake.tables import all_tables
from geckolake.lake.write import conform
from geckolake.transform.live_prices import rebuild_live_prices
from geckolake.transform.merge import SILVER_INPUTS, count_filtered, dedup, merge_silver
from geckolake.transform.models import load_sql
from geckolake.transform.recovery import log_merged
from geckolake.transform.report import TransformReport
from geckolake.transform.returns import daily_returns, with_null_returns

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Bronze price rows rebuilt at a time: bounds memory whatever the size of bronze. A month with more
# rows is cut into ranges of coin ids (a key, and a coin's day, never spans two chunks).
REBUILD_CHUNK_ROWS = 1_000_000
# DuckDB's own memory during a rebuild (its default is 80 % of RAM); beyond it, it spills to disk.
REBUILD_MEMORY_LIMIT = "1GB"


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
        spill_to(con, lake.scratch_root, REBUILD_MEMORY_LIMIT)
        excluded = ", ".join(quote_literal(r) for r in sorted(exclude_runs))
        kept = f" WHERE _run_id NOT IN ({excluded})" if exclude_runs else ""
        for endpoint in SILVER_INPUTS:
            view, table = quote_ident(f"bronze_{endpoint}"), quote_qualified(f"bronze.{endpoint}")
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {table}{kept}")
        staged = merge_silver(lake, con, report, incremental=False, skip=("price_history",))
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
        days = pa.concat_tables(daily) if daily else with_null_returns(gold_schema.empty_table())
        del daily
        days = daily_returns(con, days, days)
        lake.replace("gold.coin_daily", days)
        report.rows["gold.coin_daily"] = report.rewritten["gold.coin_daily"] = days.num_rows
    finally:
        con.close()
    for name, rebuild in _rebuilt_elsewhere().items():
        report.rows[name] = report.rewritten[name] = rebuild(lake, report)
    log_merged(lake, "rebuild")
    report.seconds = time.perf_counter() - started
    log.info("rebuilt silver and gold in %.2fs: %s", report.seconds, report.rows)
    return report


def _rebuilt_elsewhere() -> dict[str, Callable[[Lake, TransformReport], int]]:
    """Silver tables fed by their own job (not by a run's batches), each with its from-bronze rebuild.

    ``silver.live_prices`` (from ``bronze.simple_price``) is merged by the prices poll, not by
    ``apply_batch``; a rebuild recomputes it from all of bronze like the rest of silver.
    """
    return {"silver.live_prices": rebuild_live_prices}


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
    report.count_filtered("silver.price_history", count_filtered(con, "price_history", sum(n for *_, n in counts)))
    snapshot_months = pc.unique(pc.strftime(snapshots["snapshot_ts"], "%Y-%m")).to_pylist()
    encoded = _lineage_enums(con, "bronze_market_chart")
    report.rows["silver.price_history"] = 0
    for chunk in _plan_chunks(counts, snapshot_months, REBUILD_CHUNK_ROWS):
        first, last = date.fromisoformat(chunk.months[0] + "-01"), _next_month(chunk.months[-1])
        listing = ", ".join(quote_literal(m) for m in chunk.months)
        coins = chunk.coin_filter("s.coin_id")
        # Filters on the raw ts (pushed into the scan) rather than on the computed month.
        own = dedup(
            con,
            f"SELECT s.* REPLACE ({_month_case(first, last, 's.ts')} AS month) FROM ({stage}) s "
            f"WHERE s.ts >= {_ts_literal(first)} AND s.ts < {_ts_literal(last)}{coins}",
            tdef.key,
            schema,
            encoded=encoded,
        )
        closing = dedup(
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
        daily.append(conform(with_null_returns(result), gold_schema))
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


def _next_month(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year + mon // 12, mon % 12 + 1, 1)


def _ts(d: date) -> pa.Scalar:
    return pa.scalar(datetime(d.year, d.month, d.day), pa.timestamp("us"))


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
