"""gold.market_daily: market totals, dominance, stablecoin share, breadth and a top-N cap-weighted index.

Inputs: ``daily`` (gold.coin_daily rows from 30 days before the first day computed, so the
stablecoin rule and the index's previous-day weights are available) and ``global_market``
(silver.global_market). Sums run over lists ordered by coin id so that floating-point results do
not depend on thread scheduling. Formulas: docs/metrics.md.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geckolake.analytics.config import AnalyticsConfig
from geckolake.analytics.ranking import top_by_cap
from geckolake.analytics.series import run_starts
from geckolake.lake.catalog import Lake, new_duckdb

INDEX_BASE = 100.0
STABLE_BAND = (0.98, 1.02)
STABLE_DAYS = 30

_SQL = """
WITH d AS (
    SELECT
        *,
        coin_id IN (SELECT unnest($stables::VARCHAR[])) OR {stable_rule} AS stable
    FROM daily
),
days AS (
    SELECT
        vs_currency,
        date,
        list_sum(list(market_cap ORDER BY coin_id) FILTER (WHERE market_cap IS NOT NULL)) AS summed_cap,
        list_sum(list(volume ORDER BY coin_id) FILTER (WHERE volume IS NOT NULL)) AS summed_volume,
        list_sum(list(market_cap ORDER BY coin_id) FILTER (WHERE stable AND market_cap IS NOT NULL)) AS stable_cap,
        max(market_cap) FILTER (WHERE coin_id = 'bitcoin') AS btc_cap,
        max(market_cap) FILTER (WHERE coin_id = 'ethereum') AS eth_cap,
        count(*) AS coins,
        count(*) FILTER (WHERE return_1d > 0) AS advancers,
        count(*) FILTER (WHERE return_1d < 0) AS decliners,
        count(*) FILTER (WHERE return_1d = 0) AS unchanged
    FROM d
    WHERE date >= $since
    GROUP BY vs_currency, date
),
glb AS (
    SELECT
        c.vs_currency,
        utc_date(g.updated_at) AS date,
        arg_max(g.total_market_cap[c.vs_currency], g.updated_at) AS cap,
        arg_max(g.total_volume[c.vs_currency], g.updated_at) AS volume,
        arg_max(g.market_cap_percentage['btc'], g.updated_at) / 100 AS btc,
        arg_max(g.market_cap_percentage['eth'], g.updated_at) / 100 AS eth
    FROM global_market g CROSS JOIN (SELECT DISTINCT vs_currency FROM days) c
    WHERE g.total_market_cap[c.vs_currency] IS NOT NULL
    GROUP BY ALL
),
tops AS (
    SELECT vs_currency, date + 1 AS date, {top_by_cap} AS top
    FROM daily
    WHERE market_cap > 0
    GROUP BY vs_currency, date
),
weights AS (
    SELECT t.coin_id, vs_currency, date, t.w, rk
    FROM (SELECT vs_currency, date, unnest(top) AS t, generate_subscripts(top, 1) AS rk FROM tops)
),
idx AS (
    SELECT
        w.vs_currency,
        w.date,
        list_sum(list(w.w * x.return_1d ORDER BY w.coin_id)) / list_sum(list(w.w ORDER BY w.coin_id)) AS index_return,
        count(*) AS index_constituents
    FROM weights w
    JOIN daily x ON x.coin_id = w.coin_id AND x.vs_currency = w.vs_currency AND x.date = w.date
    WHERE w.rk <= {index_size} AND x.return_1d IS NOT NULL
    GROUP BY ALL
)
SELECT
    d.vs_currency,
    d.date,
    coalesce(g.cap, d.summed_cap) AS total_market_cap,
    CASE WHEN g.cap IS NOT NULL THEN g.volume ELSE d.summed_volume END AS total_volume,
    CASE WHEN g.cap IS NOT NULL THEN 'global' ELSE 'summed' END AS totals_source,
    CASE WHEN g.cap IS NOT NULL THEN g.btc ELSE d.btc_cap / nullif(d.summed_cap, 0) END AS btc_dominance,
    CASE WHEN g.cap IS NOT NULL THEN g.eth ELSE d.eth_cap / nullif(d.summed_cap, 0) END AS eth_dominance,
    coalesce(d.stable_cap, 0) / nullif(coalesce(g.cap, d.summed_cap), 0) AS stablecoin_share,
    d.coins,
    d.advancers,
    d.decliners,
    d.unchanged,
    NULL::DOUBLE AS index_level,
    i.index_return,
    coalesce(i.index_constituents, 0) AS index_constituents
FROM days d
LEFT JOIN glb g ON g.vs_currency = d.vs_currency AND g.date = d.date
LEFT JOIN idx i ON i.vs_currency = d.vs_currency AND i.date = d.date
ORDER BY d.vs_currency, d.date
"""


def market_daily(
    daily: pa.Table, global_market: pa.Table, since: date, previous_levels: dict[str, float], cfg: AnalyticsConfig
) -> pa.Table:
    """gold.market_daily rows for the days from ``since`` on.

    ``previous_levels``: per currency, the index level of the last day before ``since`` (absent:
    the index starts at 100 on the first day).
    """
    con = new_duckdb()
    try:
        rule = _stable_by_rule(daily)
        con.register("daily", daily if rule is None else daily.append_column("stable_rule", rule))
        con.register("global_market", global_market)
        size = int(cfg.index_size)
        sql = _SQL.format(
            stable_rule=_STABLE_RULE_SQL if rule is None else "stable_rule",
            index_size=size,
            top_by_cap=top_by_cap("{'coin_id': coin_id, 'w': market_cap}", size),
        )
        out = con.execute(sql, {"stables": sorted(cfg.stablecoins), "since": since}).to_arrow_table()
    finally:
        con.close()
    return out.set_column(out.schema.get_field_index("index_level"), "index_level", _levels(out, previous_levels))


# The stablecoin rule as a window (any row order); :func:`_stable_by_rule` computes the same in one
# pass when the rows come as load_daily sorts them, without DuckDB sorting 30-day frames per coin.
_WINDOW = f"""(
    PARTITION BY coin_id, vs_currency ORDER BY date
    RANGE BETWEEN INTERVAL {STABLE_DAYS - 1} DAYS PRECEDING AND CURRENT ROW
)"""
_STABLE_RULE_SQL = f"""(
    vs_currency = 'usd'
    AND count(close) OVER {_WINDOW} = {STABLE_DAYS}
    AND min(close) OVER {_WINDOW} >= {STABLE_BAND[0]} AND max(close) OVER {_WINDOW} <= {STABLE_BAND[1]}
)"""


def _stable_by_rule(daily: pa.Table) -> pa.Array | None:
    """Per row: a usd row whose coin has a close in the band on each of the 30 days ending on its date.

    Exactly :data:`_STABLE_RULE_SQL` (counts and comparisons, no arithmetic on prices), for rows
    sorted by currency, coin and date with one row per coin and day; None for other input.
    """
    n = daily.num_rows
    if n == 0:
        return None
    day = pc.cast(daily["date"], pa.int32()).to_numpy().astype(np.int64)
    same = ~run_starts(daily)
    step = np.r_[0, np.diff(day)]
    if (same & (step <= 0)).any() or int((~same).sum()) != _pairs(daily):
        return None  # not sorted, or a coin's rows split or repeated: the window is the reference
    close = pc.fill_null(pc.cast(daily["close"], pa.float64()), np.nan).to_numpy()
    in_band = (close >= STABLE_BAND[0]) & (close <= STABLE_BAND[1])  # NaN and null: out
    span = STABLE_DAYS - 1
    # a row ends a full window when the 29 steps before it are consecutive days of the same coin
    next_day = np.cumsum(np.r_[0, same & (step == 1)])
    banded = np.cumsum(np.r_[0, in_band])
    end = np.arange(span, n)
    full = np.zeros(n, dtype=bool)
    full[span:] = (next_day[end + 1] - next_day[end + 1 - span] == span) & (
        banded[end + 1] - banded[end - span] == span + 1
    )
    usd = pc.fill_null(pc.equal(daily["vs_currency"], "usd"), False).to_numpy(zero_copy_only=False)
    return pa.array(full & usd, pa.bool_())


def _pairs(daily: pa.Table) -> int:
    return daily.select(["coin_id", "vs_currency"]).group_by(["coin_id", "vs_currency"]).aggregate([]).num_rows


def _levels(rows: pa.Table, previous: dict[str, float]) -> pa.Array:
    """Index levels: level(D) = level(previous row) x (1 + index_return(D)); unchanged when null."""
    currencies = rows["vs_currency"].to_pylist()
    returns = rows["index_return"].to_pylist()
    levels: list[float] = []
    current: dict[str, float] = dict(previous)
    for cur, r in zip(currencies, returns, strict=True):
        level = current.get(cur)
        if level is None:
            level = INDEX_BASE
        elif r is not None:
            level = level * (1.0 + r)
        current[cur] = level
        levels.append(level)
    return pa.array(levels, pa.float64())


def previous_levels(lake: Lake, since: date) -> dict[str, float]:
    """Per currency, the stored index level of the last day before ``since``."""
    rows = lake.read("gold.market_daily", columns=("vs_currency", "date", "index_level"))
    rows = rows.filter(pc.less(rows["date"], pa.scalar(since, pa.date32())))
    out: dict[str, tuple[date, float]] = {}
    for r in rows.to_pylist():
        if r["index_level"] is not None and (r["vs_currency"] not in out or r["date"] > out[r["vs_currency"]][0]):
            out[r["vs_currency"]] = (r["date"], r["index_level"])
    return {k: v for k, (_, v) in out.items()}
