"""The stablecoin rule and the day sums computed in one pass equal the SQL they replace (and market_daily)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from geckolake.analytics import market
from geckolake.analytics.series import sorted_runs
from geckolake.config import AnalyticsSettings
from geckolake.lake.duckdb_access import new_duckdb

START = date(2025, 1, 1)


def daily_rows(rng: np.random.Generator) -> pa.Table:
    """Coins near 1 USD with gaps, out-of-band days, null and NaN closes; coins whose calendars touch."""
    rows: list[dict[str, object]] = []

    def coin(coin_id: str, cur: str, first: int, closes: list[float | None]) -> None:
        for i, c in enumerate(closes):
            if c is not None and np.isinf(c):
                continue  # inf marks a missing day (no row)
            d = START + timedelta(days=first + i)
            cap = None if i % 17 == 5 else float(rng.uniform(1e6, 1e9))
            ret = float(rng.normal(0, 0.01))
            rows.append(
                {"coin_id": coin_id, "vs_currency": cur, "date": d, "close": c, "market_cap": cap, "volume": 1e5}
                | {"return_1d": ret, "log_return_1d": np.log1p(ret), "quality": "ok"}
            )

    band = [float(rng.uniform(0.985, 1.015)) for _ in range(80)]
    coin("a-pegged", "usd", 0, band)
    coin("a-pegged", "eur", 0, band)  # the rule is for usd only
    coin("b-gap", "usd", 0, [*band[:40], float("inf"), *band[41:]])
    coin("c-out", "usd", 0, [*band[:50], 1.03, *band[51:]])
    coin("d-null", "usd", 0, [*band[:20], None, *band[21:]])
    coin("e-nan", "usd", 0, [*band[:60], float("nan"), *band[61:]])
    coin("f-edge", "usd", 0, [0.98] * 35 + [1.02] * 35)
    coin("g-before", "usd", 0, band[:20])  # g's last day and h's first day are consecutive
    coin("h-after", "usd", 20, band[:25])
    coin("i-short", "usd", 5, band[:29])
    coin("tether", "usd", 0, [float(x) for x in rng.uniform(0.9, 1.1, 70)])  # stable by id, not by rule
    coin("z-volatile", "usd", 0, [float(x) for x in rng.uniform(10, 20, 70)])
    table = pa.Table.from_pylist(rows)
    return table.sort_by([("vs_currency", "ascending"), ("coin_id", "ascending"), ("date", "ascending")])


def window_rule(daily: pa.Table) -> list[bool]:
    con = new_duckdb()
    try:
        con.register("daily", daily.append_column("row", pa.array(np.arange(daily.num_rows))))
        sql = f"SELECT {market._FALLBACK['stable_rule']} AS rule FROM daily ORDER BY row"
        return [r[0] for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def test_one_pass_rule_equals_the_window() -> None:
    daily = daily_rows(np.random.default_rng(3))
    got = market._precomputed(daily, [], [], START)
    assert got is not None
    want = window_rule(daily)
    assert got["stable_rule"].to_pylist() == want
    assert 0 < sum(want) < len(want)  # both outcomes occur


def test_input_not_sorted_or_repeated_falls_back_to_the_sql() -> None:
    daily = daily_rows(np.random.default_rng(3))
    assert sorted_runs(daily) is not None
    assert market._precomputed(daily.take(np.random.default_rng(1).permutation(daily.num_rows)), [], [], START) is None
    assert sorted_runs(pa.concat_tables([daily.slice(0, 10), daily.slice(9)])) is None  # a repeated day
    # a coin's rows in two runs (each sorted by date) would hide a window that spans both
    first, second = daily.slice(0, 40), daily.slice(40, 40)
    assert sorted_runs(pa.concat_tables([first.slice(0, 20), second, first.slice(20)])) is None
    # coins out of order within a currency: a day's rows would not come in coin order
    runs = np.flatnonzero(sorted_runs(daily))
    swapped = pa.concat_tables([daily.slice(runs[1], runs[2] - runs[1]), daily.slice(0, runs[1]), daily.slice(runs[2])])
    assert sorted_runs(swapped) is None
    nulls = daily.set_column(0, "coin_id", pa.array([None, *daily["coin_id"].to_pylist()[1:]], pa.string()))
    assert sorted_runs(nulls) is None
    assert sorted_runs(daily.slice(0, 0)) is None


def sql_sums(daily: pa.Table, stables: list[str], since: date) -> list[tuple[object, ...]]:
    rule = market._FALLBACK["stable_rule"]
    con = new_duckdb()
    try:
        con.register("daily", daily)
        sums = ", ".join(f"{market._FALLBACK[name]} AS {name}" for name in market._SUMS)
        sql = f"""
            WITH d AS (SELECT *, coin_id IN (SELECT unnest($stables::VARCHAR[])) OR {rule} AS stable FROM daily)
            SELECT vs_currency, date, {sums} FROM d WHERE date >= $since GROUP BY ALL ORDER BY ALL"""
        return con.execute(sql, {"stables": stables, "since": since}).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_day_sums_equal_duckdb_list_sums_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    daily = daily_rows(rng)
    # magnitudes over many orders, negative and signed zeros, NaN and nulls: any change in the
    # order of the additions would show in the last bits
    n = daily.num_rows
    caps = rng.lognormal(15, 6, n) * rng.choice([1.0, -1.0], n)
    caps[rng.random(n) < 0.05] = -0.0
    caps[rng.random(n) < 0.01] = np.nan
    daily = daily.set_column(daily.schema.get_field_index("market_cap"), "market_cap", pa.array(caps))
    volumes = pa.array([None if rng.random() < 0.1 else float(v) for v in rng.lognormal(10, 4, n)], pa.float64())
    daily = daily.set_column(daily.schema.get_field_index("volume"), "volume", volumes)
    since = START + timedelta(days=int(rng.integers(0, 40)))
    stables = ["tether", "b-gap"]
    fast = market._precomputed(daily, stables, [], since)
    assert fast is not None
    con = new_duckdb()
    try:
        con.register("daily", daily.append_column("row", pa.array(np.arange(n))))
        for name in market._SUMS:
            con.register("s", daily.select(["vs_currency", "date"]).append_column(name, fast[name]))
        rows = pa.table(
            {"vs_currency": daily["vs_currency"], "date": daily["date"]} | {k: fast[k] for k in market._SUMS}
        )
        con.register("fast", rows)
        got = con.execute(
            "SELECT vs_currency, date, any_value(summed_cap), any_value(summed_volume), any_value(stable_cap) "
            "FROM fast WHERE date >= $since GROUP BY ALL ORDER BY ALL",
            {"since": since},
        ).fetchall()
    finally:
        con.close()
    want = sql_sums(daily, stables, since)
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2]
        for a, b in zip(g[2:], w[2:], strict=True):
            assert (a is None and b is None) or (np.isnan(a) and np.isnan(b)) or a.hex() == b.hex(), (g, w)


MEMBERS = market.Membership(frozenset({"b-gap"}), frozenset({"b-gap", "tether"}))


@pytest.mark.parametrize("membership", [market.Membership(), MEMBERS])
@pytest.mark.parametrize("since", [START, START + timedelta(days=45)])
def test_market_daily_same_with_either_rule(
    since: date, membership: market.Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = daily_rows(np.random.default_rng(5))
    glb = pa.table({"updated_at": pa.array([], pa.timestamp("us", "UTC"))})
    glb = glb.append_column("total_market_cap", pa.array([], pa.map_(pa.string(), pa.float64())))
    glb = glb.append_column("total_volume", pa.array([], pa.map_(pa.string(), pa.float64())))
    glb = glb.append_column("market_cap_percentage", pa.array([], pa.map_(pa.string(), pa.float64())))
    cfg = AnalyticsSettings(stablecoins=frozenset({"tether"}))
    fast = market.market_daily(daily, glb, since, {}, cfg, membership)
    monkeypatch.setattr(market, "_precomputed", lambda *_: None)
    slow = market.market_daily(daily, glb, since, {}, cfg, membership)
    assert fast.equals(slow)
    assert any(v for v in fast["stablecoin_share"].to_pylist())
