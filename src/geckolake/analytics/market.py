"""gold.market_daily: market totals, dominance, stablecoin share, breadth and a top-N cap-weighted index.

Inputs: ``daily`` (gold.coin_daily rows from 30 days before the first day computed, so the
stablecoin rule and the index's previous-day weights are available) and ``global_market``
(silver.global_market). Sums run over lists ordered by coin id so that floating-point results do
not depend on thread scheduling. Formulas: docs/metrics.md.

Each column keeps one source for the whole series (issue 17: taking the last day's totals from
/global and earlier days' from a sum made the series jump): ``total_market_cap``/``total_volume``
are /global's where it was fetched (null elsewhere); ``covered_*``, dominance and the stablecoin
share always come from the coins the lake holds.

Stablecoins (issue 17: the 30-day price-band rule alone made ``stablecoin_share`` jump on the 30th
day, when it warmed up): a coin listed in ``analytics.stablecoins``, or a member of CoinGecko's
``stablecoins`` category in silver.category_members (any day: membership is a property of the coin,
so the whole series classifies it alike), or, only for a coin no membership lists at all, the band rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geckolake.analytics.ranking import top_by_cap
from geckolake.analytics.series import sorted_runs
from geckolake.config import AnalyticsSettings
from geckolake.lake.catalog import Lake
from geckolake.lake.duckdb_access import new_duckdb

INDEX_BASE = 100.0
STABLE_BAND = (0.98, 1.02)
STABLE_DAYS = 30
_EPOCH = date(1970, 1, 1)
STABLECOIN_CATEGORY = "stablecoins"


@dataclass(frozen=True)
class Membership:
    """What silver.category_members says about coins, for the stablecoin classification."""

    stablecoins: frozenset[str] = frozenset()  # members of the stablecoins category (any day)
    listed: frozenset[str] = frozenset()  # coins any category's membership lists: no band rule for them

    def digest(self) -> str:
        """A short hash of both sets: a change reclassifies past days too (a full market_daily)."""
        text = ",".join(sorted(self.stablecoins)) + "|" + ",".join(sorted(self.listed))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_membership(lake: Lake) -> Membership:
    """The stablecoin members and every coin with membership data, from silver.category_members."""
    rows = lake.read("silver.category_members", columns=("category_id", "coin_id"))
    stable = pc.equal(rows["category_id"], STABLECOIN_CATEGORY)
    return Membership(
        frozenset(pc.unique(rows.filter(stable)["coin_id"]).to_pylist()),
        frozenset(pc.unique(rows["coin_id"]).to_pylist()),
    )


_SQL = """
WITH d AS (
    SELECT
        *,
        coin_id IN (SELECT unnest($stables::VARCHAR[]))
            OR (NOT list_contains($listed::VARCHAR[], coin_id) AND {stable_rule}) AS stable
    FROM daily
),
days AS (
    SELECT
        vs_currency,
        date,
        {summed_cap} AS summed_cap,
        {summed_volume} AS summed_volume,
        {stable_cap} AS stable_cap,
        max(market_cap) FILTER (WHERE coin_id = 'bitcoin') AS btc_cap,
        max(market_cap) FILTER (WHERE coin_id = 'ethereum') AS eth_cap,
        count(*) AS coins,
        count(*) FILTER (WHERE return_1d > 0) AS advancers,
        count(*) FILTER (WHERE return_1d < 0) AS decliners,
        count(*) FILTER (WHERE return_1d = 0) AS unchanged,
        count(*) FILTER (WHERE quality = 'provisional') AS provisional_coins
    FROM d
    WHERE date >= $since
    GROUP BY vs_currency, date
),
glb AS (
    SELECT
        c.vs_currency,
        utc_date(g.updated_at) AS date,
        arg_max(g.total_market_cap[c.vs_currency], g.updated_at) AS cap,
        arg_max(g.total_volume[c.vs_currency], g.updated_at) AS volume
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
    g.cap AS total_market_cap,
    g.volume AS total_volume,
    CASE WHEN g.cap IS NOT NULL THEN 'global' END AS totals_source,
    d.summed_cap AS covered_market_cap,
    d.summed_volume AS covered_volume,
    d.btc_cap / nullif(d.summed_cap, 0) AS btc_dominance,
    d.eth_cap / nullif(d.summed_cap, 0) AS eth_dominance,
    coalesce(d.stable_cap, 0) / nullif(d.summed_cap, 0) AS stablecoin_share,
    d.coins,
    d.advancers,
    d.decliners,
    d.unchanged,
    d.provisional_coins,
    NULL::DOUBLE AS index_level,
    i.index_return,
    coalesce(i.index_constituents, 0) AS index_constituents
FROM days d
LEFT JOIN glb g ON g.vs_currency = d.vs_currency AND g.date = d.date
LEFT JOIN idx i ON i.vs_currency = d.vs_currency AND i.date = d.date
ORDER BY d.vs_currency, d.date
"""


def market_daily(
    daily: pa.Table,
    global_market: pa.Table,
    since: date,
    previous_levels: dict[str, float],
    cfg: AnalyticsSettings,
    membership: Membership = Membership(),
) -> pa.Table:
    """gold.market_daily rows for the days from ``since`` on.

    ``previous_levels``: per currency, the index level of the last day before ``since`` (absent:
    the index starts at 100 on the first day). ``membership``: category members (read_membership).
    """
    size = int(cfg.index_size)
    stables = sorted(cfg.stablecoins | membership.stablecoins)
    listed = sorted(membership.listed)
    con = new_duckdb()
    try:
        fast = _precomputed(daily, stables, listed, since)
        con.register("daily", daily if fast is None else _with_columns(daily, fast))
        con.register("global_market", global_market)
        sql = _SQL.format(
            **(_FALLBACK if fast is None else _PRECOMPUTED),
            index_size=size,
            top_by_cap=top_by_cap("{'coin_id': coin_id, 'w': market_cap}", size),
        )
        out = con.execute(sql, {"stables": stables, "listed": listed, "since": since}).to_arrow_table()
    finally:
        con.close()
    return out.set_column(out.schema.get_field_index("index_level"), "index_level", _levels(out, previous_levels))


# The stablecoin rule and the per-day sums as SQL (any row order); :func:`_precomputed` gives the
# same values in one pass over rows sorted as load_daily sorts them, without DuckDB sorting 30-day
# frames per coin and every day's coins for the ordered sums.
_WINDOW = f"""(
    PARTITION BY coin_id, vs_currency ORDER BY date
    RANGE BETWEEN INTERVAL {STABLE_DAYS - 1} DAYS PRECEDING AND CURRENT ROW
)"""
_FALLBACK = {
    "stable_rule": f"""(
        vs_currency = 'usd'
        AND count(close) OVER {_WINDOW} = {STABLE_DAYS}
        AND min(close) OVER {_WINDOW} >= {STABLE_BAND[0]} AND max(close) OVER {_WINDOW} <= {STABLE_BAND[1]}
    )""",
    "summed_cap": "list_sum(list(market_cap ORDER BY coin_id) FILTER (WHERE market_cap IS NOT NULL))",
    "summed_volume": "list_sum(list(volume ORDER BY coin_id) FILTER (WHERE volume IS NOT NULL))",
    "stable_cap": "list_sum(list(market_cap ORDER BY coin_id) FILTER (WHERE stable AND market_cap IS NOT NULL))",
}
# every row of a day carries that day's sums: any one of them is the day's
_SUMS = ("summed_cap", "summed_volume", "stable_cap")
_PRECOMPUTED = {"stable_rule": "stable_rule"} | {name: f"any_value({name})" for name in _SUMS}


def _precomputed(daily: pa.Table, stables: list[str], listed: list[str], since: date) -> dict[str, pa.Array] | None:
    """Per row: the stablecoin rule and its day's sums (the :data:`_FALLBACK` values); None unless sorted."""
    starts = sorted_runs(daily)
    if starts is None:
        return None
    rule = _stable_by_rule(daily, ~starts)
    stable = _in(daily, stables)
    return {"stable_rule": pa.array(rule, pa.bool_())} | _day_sums(daily, stable | (rule & ~_in(daily, listed)), since)


def _in(daily: pa.Table, ids: list[str]) -> np.ndarray:
    """Per row: its coin is one of ``ids``."""
    return np.asarray(
        pc.fill_null(pc.is_in(daily["coin_id"], pa.array(ids, pa.string())), False).to_numpy(zero_copy_only=False)
    )


def _with_columns(daily: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, values in columns.items():
        daily = daily.append_column(name, values)
    return daily


def _stable_by_rule(daily: pa.Table, same: np.ndarray) -> np.ndarray:
    """Per row: a usd row whose coin has a close in the band on each of the 30 days ending on its date.

    The window rule of :data:`_FALLBACK` by counts and comparisons (no arithmetic on prices), for
    sorted rows; ``same``: the row continues the previous row's coin.
    """
    n = daily.num_rows
    day = pc.cast(daily["date"], pa.int32()).to_numpy().astype(np.int64)
    step = np.r_[0, np.diff(day)]
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
    return full & pc.equal(daily["vs_currency"], "usd").to_numpy(zero_copy_only=False)


def _day_sums(daily: pa.Table, stable: np.ndarray, since: date) -> dict[str, pa.Array]:
    """Per row, its (currency, day)'s sums of caps, volumes and stablecoin caps (null when none).

    DuckDB's ``list_sum`` adds a list's values one by one onto 0.0; ``np.add.at`` adds each row
    onto its day's total in row order, which within a day is coin order for sorted rows: the same
    additions in the same order, so bit for bit the :data:`_FALLBACK` sums.
    """
    day = pc.cast(daily["date"], pa.int32()).to_numpy().astype(np.int64)
    cur = daily["vs_currency"]
    currency = np.cumsum(np.r_[0, pc.not_equal(cur[1:], cur[:-1]).to_numpy(zero_copy_only=False)])
    first = int(day.min())
    group = currency * (int(day.max()) - first + 1) + (day - first)
    counted = day >= (since - _EPOCH).days
    cap, cap_ok = _values(daily["market_cap"])
    volume, volume_ok = _values(daily["volume"])
    out = {}
    for name, values, ok in (
        ("summed_cap", cap, cap_ok),
        ("summed_volume", volume, volume_ok),
        ("stable_cap", cap, cap_ok & stable),
    ):
        use = counted & ok
        total = np.zeros(int(group.max()) + 1)
        np.add.at(total, group[use], values[use])
        present = np.bincount(group[use], minlength=len(total)) > 0
        out[name] = pa.array(total[group], mask=~present[group], type=pa.float64())
    return out


def _values(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Float values (0.0 where null) and validity."""
    return (
        pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(),
        pc.is_valid(column).to_numpy(zero_copy_only=False),
    )


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
