"""``apply_batch``: one parsed batch appended to bronze and merged into silver and gold.

Gold is recomputed only for the (coin, currency, day) groups the batch touched, and only their
partitions are overwritten; the day after each touched day is rewritten too, as its return depends
on the touched day's close.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.lake.catalog import Lake, isin
from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.write import conform
from geckolake.transform.batch_scope import (
    GOLD_MODELS,
    MERGED_GOLD_SQL,
    PRICES_SQL,
    SNAPSHOTS_SQL,
    first_day,
    fresh_sql,
    gold_scope,
)
from geckolake.transform.merge import SILVER_INPUTS, merge_silver
from geckolake.transform.recovery import log_merged, unmerged_bronze
from geckolake.transform.report import TransformReport
from geckolake.transform.returns import daily_returns, with_null_returns

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


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
    recovered = unmerged_bronze(lake)
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
        staged = merge_silver(lake, con, report, incremental=True)
        report.first_day = first_day(staged)
        _gold_incremental(lake, con, report, staged)
    finally:
        con.close()
    log_merged(lake, "batch")
    report.seconds = time.perf_counter() - started
    log.info("applied batch in %.2fs: %s", report.seconds, report.rows)
    return report


def _gold_incremental(
    lake: Lake, con: duckdb.DuckDBPyConnection, report: TransformReport, staged: Mapping[str, pa.Table]
) -> None:
    """Recompute gold for the (coin, currency, day) groups the batch touched (what it reads and
    rewrites: :func:`geckolake.transform.batch_scope.gold_scope`)."""
    scope = gold_scope(staged["price_history"], staged["market_snapshots"])
    if scope is None:
        return
    con.register("groups", scope.groups)
    con.register("wanted", scope.wanted)
    con.register("silver_prices", lake.read("silver.price_history", isin("month", scope.price_months)))
    con.register("silver_snapshots", lake.read("silver.market_snapshots", isin("date", scope.days)))
    con.execute(f"CREATE OR REPLACE TEMP VIEW prices AS {PRICES_SQL}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW snapshots AS {SNAPSHOTS_SQL}")
    for model in GOLD_MODELS:
        name = f"gold.{model}"
        schema = lake.arrow_schema(name)
        fresh = conform(with_null_returns(con.sql(fresh_sql(model)).to_arrow_table()), schema)
        con.register("existing_gold", conform(lake.read(name, isin("month", scope.read_months(model))), schema))
        con.register("fresh_gold", fresh)
        merged = con.sql(MERGED_GOLD_SQL).to_arrow_table()
        con.unregister("existing_gold")
        con.unregister("fresh_gold")
        if model == "coin_daily":
            rewritten = merged.filter(pc.is_in(merged["month"], pa.array(scope.daily_months)))
            merged = daily_returns(con, rewritten, merged)
        lake.overwrite_partitions(name, merged)
        report.rows[name] = fresh.num_rows
        report.rewritten[name] = merged.num_rows
