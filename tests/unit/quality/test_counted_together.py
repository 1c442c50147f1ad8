"""Checks counted one query per table give the results of evaluating each check on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from geckolake.lake.catalog import Lake, open_lake
from geckolake.quality.checks import Check, CheckContext, InRange, NotNull
from geckolake.quality.runner import CheckResult, run_checks
from geckolake.quality.suite import checks_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def put(lake: Lake, name: str, rows: list[dict[str, Any]]) -> None:
    schema = lake.arrow_schema(name)
    lake.append(name, pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema))


def snap(coin: str, price: float | None, minutes_ago: float, run: str) -> dict[str, Any]:
    ts = NOW - timedelta(minutes=minutes_ago)
    return {
        "coin_id": coin, "vs_currency": "usd", "snapshot_ts": ts, "current_price": price, "market_cap": -5.0,
        "total_volume": 5.0, "date": ts.date(), "_run_id": run, "_fetched_at": ts,
    }  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Failures of most kinds, in two runs: bad values, duplicates, unknown coins, gaps, staleness."""
    lake = open_lake(tmp_path_factory.mktemp("lake"))
    put(lake, "silver.coins", [{"coin_id": "bitcoin", "name_source": "markets"}, {"coin_id": None}])
    put(lake, "silver.market_snapshots", [snap("bitcoin", 100.0, 30, "r1"), snap("bitcoin", 100.0, 30, "r1")])
    put(lake, "silver.market_snapshots", [snap("ghost", -1.0, 20, "r2"), snap("x", None, 20, "r2")])
    day = datetime(2026, 11, 1, tzinfo=UTC)
    history = [
        {"coin_id": "bitcoin", "vs_currency": "usd", "ts": day + timedelta(days=d), "granularity": g, "price": p}
        | {"_run_id": "r1"}
        for d, g, p in [(0, "daily", 1.0), (3, "daily", -2.0), (4, "weekly", 3.0), (5, "daily", 4.0)]
    ]
    put(lake, "silver.price_history", history)
    put(
        lake,
        "gold.correlations",
        [
            {"date": day.date(), "window_days": w, "coin_a": "a", "coin_b": "b", "corr": c, "month": "2026-11"}
            for w, c in [(30, 1.5), (45, 0.5), (90, -0.2), (90, -0.2)]
        ],
    )
    return lake


def one_by_one(lake: Lake, ctx: CheckContext, checks: list[Check]) -> list[tuple[object, ...]]:
    """The results as each check's own queries give them (no counting together)."""
    con = lake.connect_duckdb()
    out = []
    try:
        for check in checks:
            tdef = lake.defs.get(check.table)
            has_run_id = tdef is not None and "_run_id" in tdef.schema.names
            scoped = ctx
            if check.table.startswith("bronze.") and ctx.run_id is None and has_run_id:
                row = con.execute(f"SELECT _run_id FROM {check.table} ORDER BY _fetched_at DESC LIMIT 1").fetchone()
                scoped = CheckContext(**{**ctx.__dict__, "run_id": row[0] if row else None})
            try:
                o = check.evaluate(con, scoped, has_run_id)
                verdict = (o.failing_rows == 0, o.failing_rows, o.detail, json.dumps(o.sample, default=str))
            except duckdb.Error as e:
                verdict = (False, 0, f"check could not run: {e}".splitlines()[0], "[]")
            out.append((check.table, check.name, check.kind, check.severity, *verdict, check.gating))
    finally:
        con.close()
    return out


def rows(results: list[CheckResult]) -> list[tuple[object, ...]]:
    return [
        (r.table, r.name, r.kind, r.severity, r.passed, r.failing_rows, r.detail, r.sample_json, r.gating)
        for r in results
    ]


@pytest.mark.parametrize("run_id", [None, "r1", "r2"])
def test_every_declared_check_gives_the_same_result(lake: Lake, run_id: str | None) -> None:
    ctx = CheckContext(now=NOW, run_id=run_id, run_rows={"silver.market_snapshots": 2})
    report = run_checks(lake, ctx)
    assert rows(report.results) == one_by_one(lake, ctx, checks_for())
    assert len(report.failures) >= 8  # the fixture fails many kinds of checks


def test_a_check_that_cannot_run_fails_alone_with_its_own_error(lake: Lake) -> None:
    t = "silver.market_snapshots"
    checks: list[Check] = [
        InRange(t, "price_non_negative", column="current_price", min=0),
        InRange(t, "no_such_column", column="nope", min=0),
        NotNull(t, "not_null_price", columns=("current_price",)),
        InRange("silver.coins", "also_missing", column="nope", max=1),
    ]
    ctx = CheckContext(now=NOW)
    report = run_checks(lake, ctx, checks=checks)
    assert rows(report.results) == one_by_one(lake, ctx, checks)
    by_name = {r.name: r for r in report.results}
    assert by_name["no_such_column"].detail.startswith("check could not run:")
    assert by_name["price_non_negative"].failing_rows == 1 and by_name["not_null_price"].failing_rows == 1


def test_results_keep_the_order_of_the_checks(lake: Lake) -> None:
    checks = checks_for(["silver"])
    interleaved = checks[::2] + checks[1::2]
    report = run_checks(lake, CheckContext(now=NOW), checks=interleaved)
    assert [(r.table, r.name) for r in report.results] == [(c.table, c.name) for c in interleaved]


def test_views_for_the_tables_the_checks_read_are_enough(lake: Lake) -> None:
    # the runner creates views only for the tables of ``Check.reads``: a table a query names but
    # ``reads`` misses would make the check fail with "could not run"
    ctx = CheckContext(now=NOW, run_id="r1", run_rows={"silver.market_snapshots": 2})
    assert all("could not run" not in r.detail for r in run_checks(lake, ctx).results)
