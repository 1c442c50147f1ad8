"""top_by_cap ranks rows exactly as ``row_number() OVER (... ORDER BY market_cap DESC, coin_id)``."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from geckolake.analytics.ranking import top_by_cap
from geckolake.lake.duckdb_access import new_duckdb


def caps(rng: np.random.Generator) -> pa.Table:
    """Ties (equal caps, zeros of both signs), NaN, infinities, nulls; two currencies, a few days."""
    pool = [0.0, -0.0, float("nan"), float("inf"), 5.0, 5.0, 1e9, 3.5, None]
    rows = []
    for cur in ("eur", "usd"):
        for d in range(4):
            for c in range(int(rng.integers(0, 30))):
                cap = pool[int(rng.integers(0, len(pool)))] if rng.random() < 0.6 else float(rng.uniform(0, 10))
                rows.append({"coin_id": f"c{c:02d}", "vs_currency": cur, "date": date(2025, 1, 1) + timedelta(d)})
                rows[-1]["market_cap"] = cap
    return pa.Table.from_pylist(rows).take(rng.permutation(len(rows)))


@pytest.mark.parametrize("n", [0, 1, 3, 10, 100])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_top_by_cap_equals_the_window_ranking(n: int, seed: int) -> None:
    con = new_duckdb()
    try:
        con.register("daily", caps(np.random.default_rng(seed)))
        window = f"""
            SELECT vs_currency, date, coin_id,
                row_number() OVER (PARTITION BY vs_currency, date ORDER BY market_cap DESC, coin_id) AS rk
            FROM daily WHERE market_cap IS NOT NULL QUALIFY rk <= {n} ORDER BY ALL"""
        heap = f"""
            SELECT vs_currency, date, t.coin_id, rk FROM (
                SELECT vs_currency, date, unnest(top) AS t, generate_subscripts(top, 1) AS rk FROM (
                    SELECT vs_currency, date, {top_by_cap("{'coin_id': coin_id}", n)} AS top
                    FROM daily WHERE market_cap IS NOT NULL GROUP BY ALL))
            WHERE rk <= {n} ORDER BY ALL"""
        want = con.execute(window).fetchall()
        assert con.execute(heap).fetchall() == want
        assert n == 0 or want
    finally:
        con.close()
