"""Recompute the analytics gold tables after a run (incremental) or a replay (full).

Incremental (``since`` = the earliest day a run touched): every windowed table is recomputed for
the days from ``since`` on, from gold.coin_daily rows reaching back ``LOOKBACK_DAYS`` (the longest
input window); rows before ``since`` are kept. Each value depends only on its own window, so the
result is the same as a full rebuild (tested by content hash). gold.category_daily is small and
rewritten whole.

A refresh whose run stopped before it finished is repaired by the next one, in full (see
:mod:`geckolake.analytics.source_mark`).

Forecasts and backtests are a separate, slower job (:func:`refresh_forecasts`, ``geckolake forecast``,
the scheduler's daily ``history`` job): fitting models once a day is enough for a daily series, and
keeping it out of every run keeps a run's cost in proportion to the data it brought (statsforecast's
import alone takes seconds). They are computed for the latest day of each currency and replace that
run date's rows; earlier run dates are kept. A replay drops gold, forecasts included: run
``geckolake forecast`` after it.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.analytics import categories, correlations, market, movers, risk, source_mark
from geckolake.analytics.series import LOOKBACK_DAYS, Series, iter_series, load_daily, month_of
from geckolake.config import AnalyticsSettings
from geckolake.lake.catalog import Lake, isin
from geckolake.transform.engine import Engine, SparkEngine, spark_failures

log = logging.getLogger(__name__)

MEMBERSHIP_PROPERTY = "geckolake.analytics.membership-digest"
WINDOWED = ("gold.coin_risk", "gold.market_daily", "gold.top_movers", "gold.correlations")


def refresh_analytics(
    lake: Lake,
    *,
    since: date | None = None,
    full: bool = False,
    config: AnalyticsSettings = AnalyticsSettings(),
    forecasts: bool = False,
    engine: Engine | None = None,
) -> dict[str, int]:
    """Recompute the analytics tables; returns the rows written per table.

    ``full``: rebuild everything from gold.coin_daily. Otherwise recompute the days from
    ``since`` on (nothing when ``since`` is None: the run touched no day). A run asks for ``full``
    when, before its commits, the analytics lagged gold.coin_daily (``source_mark.is_current``: an
    earlier run stopped before its refresh). Records the snapshot of gold.coin_daily it read.
    ``config``: what to compute (``settings.analytics``).
    ``forecasts``: also fit the forecasts (see :func:`refresh_forecasts`).
    ``engine``: a spark engine computes a full refresh's gold.coin_risk on Spark, one pandas group
    per coin with the same functions (:mod:`geckolake.analytics.spark_risk`); the rest stays here.

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    if not full and since is None:
        return {}
    source = source_mark.source_snapshot(lake)
    started = time.perf_counter()
    first = None if full else since
    frame = load_daily(lake, None if first is None else first - timedelta(days=LOOKBACK_DAYS))
    series = list(iter_series(frame))
    rows: dict[str, int] = {}

    if isinstance(engine, SparkEngine) and first is None:
        from geckolake.analytics.spark_risk import risk_on_spark  # imports PySpark

        session = engine.session
        with spark_failures():
            data = risk_on_spark(session, lake, frame, config.risk_free_rate)
    else:
        data = risk.risk_table(series, first, config.risk_free_rate, lake.arrow_schema("gold.coin_risk"))
    rows["gold.coin_risk"] = _write(lake, "gold.coin_risk", data, first)

    daily = frame
    from_day = first or date(1970, 1, 1)
    members = market.read_membership(lake)
    rows["gold.market_daily"] = _market(lake, frame, first, config, members)

    rows["gold.top_movers"] = _write(lake, "gold.top_movers", movers.top_movers(daily, from_day, config), first)

    by_currency: dict[str, list[Series]] = {}
    for s in series:
        by_currency.setdefault(s.vs_currency, []).append(s)
    parts = []
    for cur, group in sorted(by_currency.items()):
        t = correlations.correlations(group, first, config.correlation_coins)
        parts.append(t.append_column("vs_currency", pa.array([cur] * t.num_rows, pa.string())))
    corr = _months(pa.concat_tables(parts) if parts else _empty(lake, "gold.correlations"))
    rows["gold.correlations"] = _write(lake, "gold.correlations", corr, first)

    cats = categories.category_daily(lake)
    lake.replace("gold.category_daily", cats)
    rows["gold.category_daily"] = cats.num_rows

    if forecasts:
        rows.update(_forecasts(lake, series, config, full, members))
    source_mark.mark(lake, source)
    log.info("analytics refreshed in %.2fs (%s): %s", time.perf_counter() - started, "full" if full else since, rows)
    return rows


def _market(
    lake: Lake, frame: pa.Table, first: date | None, config: AnalyticsSettings, members: market.Membership
) -> int:
    """gold.market_daily from ``first`` on; in full when the category membership changed since the last
    refresh (a new stablecoin member is one on every day it was held: past days change too)."""
    digest = members.digest()
    changed = lake.table("gold.market_daily").properties.get(MEMBERSHIP_PROPERTY) != digest
    if first is not None and changed:
        first, frame = None, load_daily(lake, None)
    prev = {} if first is None else market.previous_levels(lake, first)
    data = market.market_daily(
        frame, lake.read("silver.global_market"), first or date(1970, 1, 1), prev, config, members
    )
    written = _write(lake, "gold.market_daily", data, first)
    if changed:
        with lake.table("gold.market_daily").transaction() as tx:
            tx.set_properties({MEMBERSHIP_PROPERTY: digest})
    return written


def _empty(lake: Lake, name: str) -> pa.Table:
    return lake.arrow_schema(name).empty_table()


def _months(data: pa.Table) -> pa.Table:
    if "month" in data.column_names:
        return data
    return data.append_column("month", month_of(data["date"]))


def _write(lake: Lake, name: str, data: pa.Table, since: date | None) -> int:
    """Replace the rows of ``name`` dated from ``since`` on with ``data`` (all rows when None)."""
    data = lake.conform(name, data)
    if since is None:
        lake.replace(name, data)
        return data.num_rows
    cutoff = pa.scalar(since, pa.date32())
    if lake.defs[name].partition is None:
        existing = lake.read(name)
        keep = existing.filter(pc.less(existing["date"], cutoff))
        lake.replace(name, pa.concat_tables([lake.conform(name, keep), data]))
        return data.num_rows
    months = set(pc.unique(data["month"]).to_pylist()) | {since.strftime("%Y-%m")}
    existing = lake.read(name, isin("month", sorted(months)))
    keep = existing.filter(pc.less(existing["date"], cutoff))
    merged = pa.concat_tables([lake.conform(name, keep), data])
    if merged.num_rows:
        lake.overwrite_partitions(name, merged)
    return data.num_rows


def refresh_forecasts(lake: Lake, config: AnalyticsSettings = AnalyticsSettings()) -> dict[str, int]:
    """Fit the forecasts and backtests for the latest day of gold.coin_daily; rows written per table.

    Only the last ``train_days`` (+ the backtest folds) of daily history are read: older closes are
    never fitted on. ``config``: the forecasting knobs (``settings.analytics``).

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    started = time.perf_counter()
    latest = _latest_day(lake)
    if latest is None:
        return {"gold.price_forecasts": 0, "gold.forecast_backtests": 0}
    reach = config.train_days + config.backtest_folds * config.backtest_step + config.forecast_horizon
    series = list(iter_series(load_daily(lake, latest - timedelta(days=reach))))
    rows = _forecasts(lake, series, config, full=False, members=market.read_membership(lake))
    log.info("forecasts refreshed in %.2fs for %s: %s", time.perf_counter() - started, latest, rows)
    return rows


def _latest_day(lake: Lake) -> date | None:
    con = lake.connect_duckdb(tables=["gold.coin_daily"])
    try:
        row = con.execute("SELECT max(date) FROM gold.coin_daily").fetchone()
    finally:
        con.close()
    return None if row is None else row[0]


def _forecasts(
    lake: Lake, series: list[Series], cfg: AnalyticsSettings, full: bool, members: market.Membership
) -> dict[str, int]:
    from geckolake.analytics.forecast.run import forecast_tables

    fc_rows, bt_rows = forecast_tables(series, cfg, members)
    out = {}
    for name, rows in (("gold.price_forecasts", fc_rows), ("gold.forecast_backtests", bt_rows)):
        schema = lake.arrow_schema(name)
        data = pa.Table.from_pylist(rows, schema=schema)
        out[name] = data.num_rows
        if full:
            lake.replace(name, data)
            continue
        if data.num_rows == 0:
            continue
        # Replace the rows of the run dates just computed, keep the others.
        months = sorted(set(data["month"].to_pylist()))
        existing = lake.read(name, isin("month", months))
        run_dates = pc.unique(data["run_date"])
        keep = existing.filter(pc.invert(pc.is_in(existing["run_date"], run_dates)))
        lake.overwrite_partitions(name, pa.concat_tables([lake.conform(name, keep), data]))
    return out
