"""gold.category_daily: one row per category and day from silver.categories (CoinGecko's own sums).

``market_cap`` and ``volume`` are CoinGecko's sums over the category's coins; ``return_1d`` is its
24-hour market-cap change (a percentage in the API) as a fraction: the change of the summed caps,
i.e. the cap-weighted return of the members. ``coin_count`` is the number of members in
silver.category_members that day (the planner fetches them for stablecoins and the top categories,
at most 250 a category); null for a category or day without membership (docs/metrics.md).
"""

from __future__ import annotations

import pyarrow as pa

from geckolake.lake.catalog import Lake
from geckolake.lake.duckdb_access import new_duckdb

_SQL = """
SELECT
    category_id,
    snapshot_date AS date,
    name,
    market_cap,
    volume_24h AS volume,
    market_cap_change_24h / 100 AS return_1d,
    m.coin_count,
    top_3_coins_id
FROM categories c
LEFT JOIN (
    SELECT category_id, snapshot_date, count(*) AS coin_count FROM members GROUP BY ALL
) m USING (category_id, snapshot_date)
ORDER BY category_id, date
"""


def category_daily(lake: Lake) -> pa.Table:
    """The whole of gold.category_daily (small: categories x days)."""
    con = new_duckdb()
    try:
        con.register("categories", lake.read("silver.categories"))
        con.register("members", lake.read("silver.category_members", columns=("category_id", "snapshot_date")))
        return con.sql(_SQL).to_arrow_table()
    finally:
        con.close()
