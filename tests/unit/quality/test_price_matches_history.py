"""price_matches_history: the tolerance scales with the coin's own volatility, and real mismatches still fail."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from geckolake.lake.catalog import Lake, open_lake
from geckolake.quality.checks import CheckContext, PriceMatchesHistory
from geckolake.quality.runner import run_checks
from geckolake.quality.suite import checks_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SNAPSHOT = NOW - timedelta(minutes=10)  # the last sparkline hour is 11:00, 50 minutes before
CHECK = next(c for c in checks_for(["silver.market_snapshots"]) if c.name == "price_matches_history")


def put(lake: Lake, name: str, rows: list[dict[str, Any]]) -> None:
    schema = lake.arrow_schema(name)
    lake.append(name, pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema))


def sparkline(coin: str, last: float, hourly_move: float, hours: int = 168) -> list[dict[str, Any]]:
    """``hours`` hourly points ending at 11:00 at ``last``, alternating ±``hourly_move`` log returns."""
    end = SNAPSHOT.replace(minute=0)
    out = []
    for i in range(hours):
        ts = end - timedelta(hours=hours - 1 - i)
        price = last * math.exp(hourly_move if (hours - 1 - i) % 2 else 0.0)
        out.append({"coin_id": coin, "vs_currency": "usd", "ts": ts, "price": price, "snapshot_ts": SNAPSHOT,
                    "date": ts.date()})  # fmt: skip
    return out


def snapshot(coin: str, price: float) -> dict[str, Any]:
    return {"coin_id": coin, "vs_currency": "usd", "snapshot_ts": SNAPSHOT, "current_price": price,
            "date": SNAPSHOT.date()}  # fmt: skip


# coin → (hourly log move of its history, its market price vs the last history point at 1.0)
CASES: dict[str, tuple[float, float]] = {
    "smallcap-normal-move": (0.03, 1.08),  # 8 % in 50 min for a coin moving 3 %/h: ordinary
    "smallcap-big-move": (0.03, 1.25),  # ln 1.25 = 0.22 > 6 × 0.03 = 0.18: beyond its volatility
    "smallcap-doubled": (0.15, 2.0),  # 6 × 0.15 = 0.9 would allow ln 2 = 0.69; the cap (0.4) does not
    "smallcap-halved": (0.15, 0.5),
    "stable-30pct-off": (0.0005, 1.30),  # a stable coin keeps the fixed 5 %
    "stable-2pct": (0.0005, 1.02),
    "bitcoin-4pct": (0.006, 1.04),  # within the 5 % floor
    "bitcoin-8pct": (0.006, 1.08),  # 0.077 > max(0.05, 6 × 0.006)
    "zero-price": (0.03, 0.0),  # a market price of 0 against a positive history
}
FAILING = {"smallcap-big-move", "smallcap-doubled", "smallcap-halved", "stable-30pct-off", "bitcoin-8pct", "zero-price"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = open_lake(tmp_path_factory.mktemp("lake"))
    put(lake, "silver.sparkline_prices", [p for coin, (vol, _) in CASES.items() for p in sparkline(coin, 1.0, vol)])
    put(lake, "silver.market_snapshots", [snapshot(coin, price) for coin, (_, price) in CASES.items()])
    return lake


def bad_rows(lake: Lake, check: PriceMatchesHistory, ctx: CheckContext | None = None) -> dict[str, dict[str, Any]]:
    con = lake.connect_duckdb(tables=sorted(check.reads))
    try:
        cur = con.execute(check.bad_rows_sql(ctx or CheckContext(now=NOW), check.table))
        cols = [d[0] for d in cur.description or []]
        return {row[0]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}
    finally:
        con.close()


def test_the_suite_declares_the_volatility_scaled_check() -> None:
    assert isinstance(CHECK, PriceMatchesHistory) and CHECK.severity == "warn"


def test_ordinary_moves_pass_and_mismatches_fail(lake: Lake) -> None:
    assert isinstance(CHECK, PriceMatchesHistory)
    assert set(bad_rows(lake, CHECK)) == FAILING


def test_failing_rows_say_why(lake: Lake) -> None:
    assert isinstance(CHECK, PriceMatchesHistory)
    row = bad_rows(lake, CHECK)["smallcap-big-move"]
    assert row["move"] == pytest.approx(math.log(1.25))
    assert row["hourly_vol"] == pytest.approx(0.03)
    assert row["tolerance"] == pytest.approx(6 * row["hourly_vol"])  # 50 minutes count as one hour


def test_the_runner_counts_every_failing_coin(lake: Lake) -> None:
    result = run_checks(lake, CheckContext(now=NOW), checks=[CHECK]).results[0]
    assert not result.passed and result.failing_rows == len(FAILING)
    assert {r["coin_id"] for r in json.loads(result.sample_json)} <= FAILING


def test_a_coin_with_too_little_history_keeps_the_fixed_tolerance(tmp_path: Any) -> None:
    lake = open_lake(tmp_path / "lake")
    put(lake, "silver.sparkline_prices", sparkline("new-listing", 1.0, 0.03, hours=12))
    put(lake, "silver.market_snapshots", [snapshot("new-listing", 1.08)])
    check = PriceMatchesHistory("silver.market_snapshots", "price_matches_history")
    assert bad_rows(lake, check)["new-listing"]["tolerance"] == pytest.approx(0.05)
    assert bad_rows(lake, check, CheckContext(now=NOW, price_tolerance=0.1)) == {}  # [quality] price_tolerance


def test_the_tolerance_grows_with_the_hours_between_the_points(tmp_path: Any) -> None:
    lake = open_lake(tmp_path / "lake")
    recent, gap = sparkline("recent", 1.0, 0.025), sparkline("gap", 1.0, 0.025)[:-1]  # last points 0.8 h, 1.8 h old
    put(lake, "silver.sparkline_prices", recent + gap)
    moved = [snapshot("recent", 1.18 * recent[-1]["price"]), snapshot("gap", 1.18 * gap[-1]["price"])]
    put(lake, "silver.market_snapshots", moved)
    check = PriceMatchesHistory("silver.market_snapshots", "price_matches_history")
    # ln 1.18 = 0.166: beyond 6 × 0.025 × √1 = 0.15, within 6 × 0.025 × √1.83 = 0.20
    assert set(bad_rows(lake, check)) == {"recent"}
