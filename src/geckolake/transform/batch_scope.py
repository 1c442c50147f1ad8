"""What one batch touches, and the SQL both engines run over it: the engine-neutral part of a batch's merge.

The bookkeeping is small (a batch's (coin, currency, day) groups, their months and days) and is
computed here once, with pyarrow on the driver, for DuckDB (:mod:`geckolake.transform.incremental`)
and Spark (:mod:`geckolake.transform.spark_incremental`) alike. The SQL is in the models' dialect:
DuckDB runs it as is, Spark through :func:`geckolake.transform.dialect.to_spark`.

Rules (one place for both engines): a price or snapshot on day D touches the gold group (coin,
currency, D); a daily point at D 00:00 is also the close of D - 1, so it touches D - 1 too. The
models compute every day they are given, so they get the touched days and the day after each (a
day's close is the next day's midnight point) and only the touched days are kept. coin_daily's
returns of D + 1 depend on D's close, and D's quality on whether D + 1 has a row (provisional):
the months of D + 1 and D - 1 are rewritten too, reading the month before each for the previous
close.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.transform.models import load_sql
from geckolake.transform.registry import models

# Gold models a batch recomputes: each feeds its own table (coin_daily_returns is a step of coin_daily).
GOLD_MODELS: tuple[str, ...] = tuple(
    m.stem for m in models().values() if m.layer == "gold" and m.merge == "recompute" and m.table == m.name
)
GROUP = ("coin_id", "vs_currency", "date")
# Columns of a batch's staged silver rows (one row per key) the bookkeeping reads: all Spark
# collects of them to the driver.
TOUCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "price_history": ("coin_id", "vs_currency", "ts", "granularity"),
    "market_snapshots": ("coin_id", "vs_currency", "snapshot_ts"),
    "global_market": ("updated_at",),
    "categories": ("snapshot_date",),
}
# Per staged model: the column that dates it, and how many days before its first day it touches (a
# price or snapshot on D also touches D - 1: a daily point at D 00:00 is D - 1's close, and any row
# on D ends D - 1's provisional quality in gold.coin_daily).
_FIRST_DAY: tuple[tuple[str, str, int], ...] = (
    ("price_history", "ts", 1),
    ("market_snapshots", "snapshot_ts", 1),
    ("global_market", "updated_at", 0),
    ("categories", "snapshot_date", 0),
)

_ON_GROUP = "{a}.coin_id = {b}.coin_id AND {a}.vs_currency = {b}.vs_currency AND {day} = {b}.date"
# The silver rows the gold models read: those of the wanted days (``silver_prices`` and
# ``silver_snapshots`` hold the partitions the scope names).
PRICES_SQL = "SELECT p.* FROM silver_prices p SEMI JOIN wanted w ON " + _ON_GROUP.format(
    a="p", b="w", day="utc_date(p.ts)"
)
SNAPSHOTS_SQL = "SELECT s.* FROM silver_snapshots s SEMI JOIN wanted w ON " + _ON_GROUP.format(
    a="s", b="w", day="utc_date(s.snapshot_ts)"
)
# A gold table's rows after the batch: the fresh rows of the touched groups, and the existing rows of
# the partitions read (``existing_gold``) of every other group. Both relations in the table's columns.
MERGED_GOLD_SQL = (
    "SELECT * FROM fresh_gold UNION ALL SELECT e.* FROM existing_gold e ANTI JOIN groups g ON "
    + _ON_GROUP.format(a="e", b="g", day="e.date")
)


def fresh_sql(model: str) -> str:
    """Gold ``model`` over ``prices`` and ``snapshots``, kept to the touched groups."""
    on = _ON_GROUP.format(a="f", b="g", day="f.date")
    return f"SELECT f.* FROM ({load_sql('gold', model)}) f SEMI JOIN groups g ON {on}"


def utc_days(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The UTC date of each timestamp (our timestamps are UTC), or the dates themselves."""
    if pa.types.is_date32(values.type):
        return values
    return pc.cast(pc.cast(values, pa.timestamp("us", tz="UTC")), pa.date32())


def _shift(days: pa.ChunkedArray | pa.Array, by: int) -> pa.Array:
    as_int = pc.cast(days, pa.int32())
    return pc.cast(pc.add(as_int, pa.scalar(by, pa.int32())), pa.date32())


def _months(days: Iterable[pa.ChunkedArray | pa.Array]) -> set[str]:
    out: set[str] = set()
    for d in days:
        out.update(m for m in pc.unique(pc.strftime(d, "%Y-%m")).to_pylist() if m is not None)
    return out


def previous_month(month: str) -> str:
    """``YYYY-MM`` of the month before ``month``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


def first_day(staged: Mapping[str, pa.Table]) -> date | None:
    """The earliest UTC day the staged silver rows of a batch touch (analytics recompute from there)."""
    days: list[date] = []
    for model, column, back in _FIRST_DAY:
        data = staged.get(model)
        if data is None or data.num_rows == 0:
            continue
        day = pc.min(utc_days(data[column])).as_py()
        if day is not None:
            days.append(day - timedelta(days=back))
    return min(days) if days else None


def _distinct(parts: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(parts).group_by(list(GROUP)).aggregate([]).select(list(GROUP))


def _group(coins: pa.Table, days: pa.ChunkedArray | pa.Array) -> pa.Table:
    return pa.table({"coin_id": coins["coin_id"], "vs_currency": coins["vs_currency"], "date": days})


@dataclass(frozen=True)
class GoldScope:
    """What a batch recomputes in gold, and which silver and gold partitions that reads and writes."""

    groups: pa.Table  # (coin_id, vs_currency, date) recomputed
    wanted: pa.Table  # the groups and the day after each: the silver days the models read
    price_months: list[str]  # silver.price_history partitions holding the wanted days
    days: list[date]  # silver.market_snapshots partitions: the wanted days
    gold_months: list[str]  # gold partitions of the groups
    daily_months: list[str]  # gold.coin_daily partitions rewritten (returns and quality too)

    def read_months(self, model: str) -> list[str]:
        """The partitions of gold ``model`` read: for coin_daily, the month before each rewritten one
        too (the previous close)."""
        if model != "coin_daily":
            return self.gold_months
        return sorted(set(self.daily_months) | {previous_month(m) for m in self.daily_months})


def gold_scope(prices: pa.Table, snapshots: pa.Table) -> GoldScope | None:
    """The gold recompute of a batch whose staged silver rows are ``prices`` (price_history) and
    ``snapshots`` (market_snapshots), with at least the :data:`TOUCH_COLUMNS`; None: no group touched."""
    daily = prices.filter(pc.equal(prices["granularity"], "daily"))
    price_days = utc_days(prices["ts"])
    groups = _distinct(
        [
            _group(prices, price_days),
            _group(daily, _shift(utc_days(daily["ts"]), -1)),
            _group(snapshots, utc_days(snapshots["snapshot_ts"])),
        ]
    )
    if groups.num_rows == 0:
        return None
    day, after, before = groups["date"], _shift(groups["date"], 1), _shift(groups["date"], -1)
    wanted = _distinct([groups, _group(groups, after)])
    gold_months = _months([day])
    return GoldScope(
        groups=groups,
        wanted=wanted,
        price_months=sorted(_months([day, after])),
        days=sorted(pc.unique(wanted["date"]).to_pylist()),
        gold_months=sorted(gold_months),
        daily_months=sorted(gold_months | _months([after, before])),
    )
