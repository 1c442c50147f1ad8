"""``apply_batch``: one parsed batch appended to bronze and merged into silver and gold.

Gold is recomputed only for the (coin, currency, day) groups the batch touched, and only their
partitions are overwritten; the day after each touched day is rewritten too, as its return depends
on the touched day's close.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.lake.catalog import Lake, isin
from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.write import conform
from geckolake.transform.merge import SILVER_INPUTS, merge_silver
from geckolake.transform.models import load_sql
from geckolake.transform.recovery import log_merged, unmerged_bronze
from geckolake.transform.registry import models
from geckolake.transform.report import TransformReport
from geckolake.transform.returns import daily_returns, with_null_returns

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Gold models a batch recomputes: each feeds its own table (coin_daily_returns is a step of coin_daily).
GOLD_MODELS: tuple[str, ...] = tuple(
    m.stem for m in models().values() if m.layer == "gold" and m.merge == "recompute" and m.table == m.name
)


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
        report.first_day = _first_day(con, staged)
        _gold_incremental(lake, con, report, staged)
    finally:
        con.close()
    log_merged(lake, "batch")
    report.seconds = time.perf_counter() - started
    log.info("applied batch in %.2fs: %s", report.seconds, report.rows)
    return report


def _first_day(con: duckdb.DuckDBPyConnection, staged: Mapping[str, pa.Table]) -> date | None:
    """The earliest UTC day the staged silver rows of a batch touch: a price or snapshot on D also
    touches D - 1 (a daily point at D 00:00 is D - 1's close; any row on D ends D - 1's provisional
    quality in gold.coin_daily)."""
    parts = {
        "price_history": "SELECT min(utc_date(ts)) - 1 FROM t",
        "market_snapshots": "SELECT min(utc_date(snapshot_ts)) - 1 FROM t",
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
    # coin_daily's returns of D+1 depend on D's close, and D's quality on whether D+1 has a row
    # (provisional): rewrite the months of D+1 and D-1 too, reading the month before each for the
    # previous close.
    returns_row = con.execute(
        "SELECT list(DISTINCT m) FROM (SELECT strftime(date + 1, '%Y-%m') AS m FROM groups "
        "UNION SELECT strftime(date - 1, '%Y-%m') FROM groups)"
    ).fetchone()
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
        fresh = conform(
            with_null_returns(
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
        con.register("existing_gold", conform(lake.read(name, isin("month", months)), schema))
        con.register("fresh_gold", fresh)
        merged = con.sql(
            "SELECT * FROM fresh_gold UNION ALL SELECT e.* FROM existing_gold e ANTI JOIN groups g "
            "ON e.coin_id = g.coin_id AND e.vs_currency = g.vs_currency AND e.date = g.date"
        ).to_arrow_table()
        con.unregister("existing_gold")
        con.unregister("fresh_gold")
        if model == "coin_daily":
            merged = daily_returns(con, merged.filter(pc.is_in(merged["month"], pa.array(daily_months))), merged)
        lake.overwrite_partitions(name, merged)
        report.rows[name] = fresh.num_rows
        report.rewritten[name] = merged.num_rows


def _previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"
