"""``silver.live_prices`` from ``bronze.simple_price``: the prices poll's merge and its rebuild.

The rows come from the model ``transform/silver/live_prices.sql``; one per key is kept by the same
dedup as every silver merge (:func:`geckolake.transform.merge.dedup`).

Key ``(coin_id, vs_currency, last_updated_at)``: every distinct price point CoinGecko published is
kept, and per key the latest fetch wins. A merge takes every bronze row fetched at or after the
newest fetch silver already holds, so a poll killed between its bronze and silver commits is
completed by the next merge. A rebuild (replay) gives the same content from all of bronze.

A bronze row without ``last_updated_at`` has no key: it stays in bronze and is counted as filtered
(``TransformReport.filtered``). The parser only lets such rows through for a request that did not
ask for the time (``include_last_updated_at``); when the request asked, a quote without it is
schema drift and is quarantined instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.lake.catalog import isin
from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.sql import quote_literal
from geckolake.lake.write import conform
from geckolake.transform.merge import dedup
from geckolake.transform.registry import model

if TYPE_CHECKING:
    import duckdb

    from geckolake.lake.catalog import Lake
    from geckolake.transform.report import TransformReport

BRONZE = "bronze.simple_price"
SILVER = "silver.live_prices"
KEY = ("coin_id", "vs_currency", "last_updated_at")
# silver partitions (UTC days) searched for the newest fetch already merged
_RECENT_DAYS = 2

_KEYED = "coin_id IS NOT NULL AND vs_currency IS NOT NULL AND last_updated_at IS NOT NULL"


def _newest_merged_fetch(lake: Lake) -> datetime | None:
    newest = lake.read(SILVER, columns=("_fetched_at", "date"))
    if not newest.num_rows:
        return None
    latest_day = pc.max(newest["date"]).as_py()
    recent = lake.read(
        SILVER,
        f"date >= '{(latest_day - timedelta(days=_RECENT_DAYS)).isoformat()}'",
        columns=("_fetched_at",),
    )
    value = pc.max(recent["_fetched_at"]).as_py()
    return value if isinstance(value, datetime) else None


def _select(con: duckdb.DuckDBPyConnection, source: str, schema: pa.Schema, where: str = "") -> pa.Table:
    """Bronze rows of ``source`` as silver rows, one per key (the latest fetch wins)."""
    spec = model(SILVER)
    rows = f"WITH bronze_simple_price AS (SELECT * FROM {source} WHERE TRUE {where}) {spec.sql}"
    return dedup(con, rows, spec.key, schema)


def _unkeyed(con: duckdb.DuckDBPyConnection, source: str, where: str = "") -> int:
    """Bronze rows of ``source`` (matching ``where``) without a key: they cannot reach silver."""
    row = con.execute(f"SELECT count(*) FROM {source} WHERE NOT ({_KEYED}) {where}").fetchone()
    return int(row[0]) if row else 0


def _midnight(day: date) -> str:
    return quote_literal(datetime(day.year, day.month, day.day, tzinfo=UTC))


def rebuild_live_prices(lake: Lake, report: TransformReport | None = None) -> int:
    """Recompute ``silver.live_prices`` from all of ``bronze.simple_price`` in one commit (replay).

    Same content as the polls' merges (same key, same winner per key). Bronze is read a month of
    ``last_updated_at`` at a time, so memory stays bounded however long the polls have run.
    Returns the rows written; bronze rows without a key are counted in ``report.filtered``.
    """
    con = lake.connect_duckdb()
    schema = lake.arrow_schema(SILVER)
    try:
        if report is not None:
            report.count_filtered(SILVER, _unkeyed(con, BRONZE))
        months = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT CAST(date_trunc('month', utc_date(last_updated_at)) AS DATE) AS m "
                f"FROM {BRONZE} WHERE last_updated_at IS NOT NULL ORDER BY m"
            ).fetchall()
        ]
        written = 0

        def parts() -> Iterator[pa.Table]:
            nonlocal written
            for m in months:
                end = date(m.year + m.month // 12, m.month % 12 + 1, 1)
                where = f"AND last_updated_at >= {_midnight(m)} AND last_updated_at < {_midnight(end)}"
                part = _select(con, BRONZE, schema, where)
                written += part.num_rows
                yield part

        lake.replace(SILVER, parts())
    finally:
        con.close()
    return written


def merge_live_prices(lake: Lake, report: TransformReport | None = None) -> int:
    """Merge bronze rows fetched at or after silver's newest fetch into ``silver.live_prices``.

    Per key the latest fetch wins; the touched day partitions are overwritten in one commit.
    Returns the number of distinct keys merged. Bronze rows without a key fetched after silver's
    newest fetch (the ones this merge is the first to see) are counted in ``report.filtered``.
    """
    since = _newest_merged_fetch(lake)
    bronze = lake.read(BRONZE) if since is None else lake.read(BRONZE, f"_fetched_at >= '{since.isoformat()}'")
    if not bronze.num_rows:
        return 0
    schema = lake.arrow_schema(SILVER)
    con = new_duckdb()
    try:
        con.register("b", bronze)
        if report is not None:
            newer = "" if since is None else f"AND _fetched_at > {quote_literal(since)}"
            report.count_filtered(SILVER, _unkeyed(con, "b", newer))
        batch = _select(con, "b", schema)
        if not batch.num_rows:
            return 0
        days = pc.unique(batch["date"]).to_pylist()
        existing = lake.read(SILVER, isin("date", days))
        con.register("n", batch)
        con.register("e", conform(existing, schema))
        merged = dedup(con, "SELECT * FROM n UNION ALL SELECT * FROM e", KEY, schema)
    finally:
        con.close()
    lake.overwrite_partitions(SILVER, merged.select(schema.names))
    return batch.num_rows
