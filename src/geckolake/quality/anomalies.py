"""Market anomalies in ``silver.market_snapshots`` → ``ops.anomalies``.

For each coin's latest snapshot (of one run, or overall) against its recent snapshots:

* ``price_jump``: the log return from the previous snapshot beyond k·σ of the recent returns;
* ``stale_price``: the same price across the last N distinct snapshots (price > 0);
* ``volume_spike``: volume above factor × the median of recent volumes;
* ``cap_mismatch``: market cap off price × circulating supply by more than the tolerance.

Anomalies are warnings about the market or the source, not failures of the pipeline: they are
recorded and alerted, never gated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from geckolake.config import QualitySettings
    from geckolake.lake.catalog import Lake


SOURCE = "silver.market_snapshots"


@dataclass(frozen=True)
class Anomaly:
    kind: str
    coin_id: str
    vs_currency: str
    snapshot_ts: datetime
    value: float
    expected: float
    score: float
    detail: str


def _sql(qs: QualitySettings, run_id: str | None) -> str:
    scope = "WHERE _run_id = $run_id" if run_id is not None else ""
    w = int(qs.anomaly_window)
    return f"""
    WITH touched AS (SELECT DISTINCT coin_id, vs_currency FROM {SOURCE} {scope}),
    recent AS (
        SELECT s.coin_id, s.vs_currency, s.snapshot_ts, s.current_price AS price, s.total_volume AS volume,
               s.market_cap AS cap, s.circulating_supply AS supply,
               row_number() OVER (PARTITION BY s.coin_id, s.vs_currency ORDER BY s.snapshot_ts DESC) AS n
        FROM {SOURCE} s SEMI JOIN touched t ON s.coin_id = t.coin_id AND s.vs_currency = t.vs_currency
        QUALIFY n <= {w + 1}
    ),
    returns AS (
        SELECT *, ln(price / lead(price) OVER (PARTITION BY coin_id, vs_currency ORDER BY n)) AS r
        FROM recent WHERE price > 0
    ),
    stats AS (
        SELECT coin_id, vs_currency,
               stddev_samp(r) FILTER (WHERE n > 1) AS sigma,
               count(r) FILTER (WHERE n > 1) AS returns,
               median(volume) FILTER (WHERE n > 1) AS median_volume,
               count(DISTINCT price) FILTER (WHERE n <= {int(qs.stale_snapshots)}) AS distinct_prices,
               count(*) FILTER (WHERE n <= {int(qs.stale_snapshots)}) AS last_n
        FROM returns GROUP BY coin_id, vs_currency
    )
    SELECT l.coin_id, l.vs_currency, l.snapshot_ts, l.price, l.volume, l.cap, l.supply, l.r,
           s.sigma, s.returns, s.median_volume, s.distinct_prices, s.last_n
    FROM returns l JOIN stats s USING (coin_id, vs_currency) WHERE l.n = 1
    """


def detect(lake: Lake, qs: QualitySettings, run_id: str | None = None) -> list[Anomaly]:
    """Anomalies in the latest snapshot of each coin (of ``run_id``'s coins, or all)."""
    con = lake.connect_duckdb(tables=[SOURCE])  # the only table the query reads: no views for the others
    try:
        cur = con.execute(_sql(qs, run_id), {"run_id": run_id} if run_id is not None else {})
        cols = [d[0] for d in cur.description or []]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    out: list[Anomaly] = []
    for x in rows:
        key = (x["coin_id"], x["vs_currency"], x["snapshot_ts"])
        r, sigma = x["r"], x["sigma"]
        if r is not None and sigma and x["returns"] >= 5 and abs(r) > qs.anomaly_sigma * sigma:
            z = abs(r) / sigma
            out.append(Anomaly("price_jump", *key, x["price"], x["price"] / pow(2.718281828459045, r), z,
                               f"log return {r:+.3f} is {z:.1f}σ (σ={sigma:.4f})"))  # fmt: skip
        if x["last_n"] >= qs.stale_snapshots and x["distinct_prices"] == 1:
            out.append(Anomaly("stale_price", *key, x["price"], x["price"], float(x["last_n"]),
                               f"price {x['price']:g} unchanged across {x['last_n']} snapshots"))  # fmt: skip
        med = x["median_volume"]
        if x["volume"] is not None and med and x["returns"] >= 5 and x["volume"] > qs.volume_spike * med:
            out.append(Anomaly("volume_spike", *key, x["volume"], med, x["volume"] / med,
                               f"volume {x['volume']:,.0f} is {x['volume'] / med:.1f}× the recent median"))  # fmt: skip
        cap, price, supply = x["cap"], x["price"], x["supply"]
        if cap and price and supply and cap > 0:
            implied = price * supply
            off = abs(cap - implied) / cap
            if off > qs.cap_tolerance:
                out.append(Anomaly("cap_mismatch", *key, cap, implied, off,
                                   f"market cap {cap:,.0f} vs price × circulating supply {implied:,.0f}"))  # fmt: skip
    return out


def record(lake: Lake, found: list[Anomaly], run_id: str, detected_at: datetime) -> None:
    """Append ``found`` to ``ops.anomalies`` (one commit; nothing when empty)."""
    if found:
        rows = [{"run_id": run_id, "detected_at": detected_at, **a.__dict__} for a in found]
        lake.append("ops.anomalies", pa.Table.from_pylist(rows))
