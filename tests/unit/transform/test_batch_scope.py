"""What a batch touches (transform/batch_scope.py), computed once for both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from geckolake.transform.batch_scope import first_day, gold_scope

TS = pa.timestamp("us", tz="UTC")


def _prices(*points: tuple[str, datetime, str]) -> pa.Table:
    return pa.table(
        {
            "coin_id": [p[0] for p in points],
            "vs_currency": ["usd"] * len(points),
            "ts": pa.array([p[1] for p in points], TS),
            "granularity": [p[2] for p in points],
        }
    )


def _snapshots(*points: tuple[str, datetime]) -> pa.Table:
    return pa.table(
        {
            "coin_id": [p[0] for p in points],
            "vs_currency": ["usd"] * len(points),
            "snapshot_ts": pa.array([p[1] for p in points], TS),
        }
    )


def test_a_midnight_point_on_the_first_of_a_month_reaches_back_across_the_boundary() -> None:
    prices = _prices(("btc", datetime(2026, 12, 1, tzinfo=UTC), "daily"))
    snapshots = _snapshots(("eth", datetime(2026, 12, 1, 23, 59, tzinfo=UTC)))
    scope = gold_scope(prices, snapshots)
    assert scope is not None
    assert sorted(scope.groups.to_pylist(), key=lambda r: (r["coin_id"], r["date"])) == [
        {"coin_id": "btc", "vs_currency": "usd", "date": date(2026, 11, 30)},  # its close
        {"coin_id": "btc", "vs_currency": "usd", "date": date(2026, 12, 1)},
        {"coin_id": "eth", "vs_currency": "usd", "date": date(2026, 12, 1)},
    ]
    assert scope.wanted.num_rows == 5  # each group and the day after (the day's closing midnight)
    assert scope.days == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert scope.price_months == scope.gold_months == ["2026-11", "2026-12"]
    assert scope.daily_months == ["2026-11", "2026-12"]
    # coin_daily reads the month before each rewritten one for the previous close
    assert scope.read_months("coin_daily") == ["2026-10", "2026-11", "2026-12"]
    assert scope.read_months("coin_aggregates") == ["2026-11", "2026-12"]


def test_a_batch_without_prices_or_snapshots_touches_no_gold() -> None:
    assert gold_scope(_prices(), _snapshots()) is None


def test_the_first_day_is_the_day_before_the_earliest_price_or_snapshot() -> None:
    staged = {
        "price_history": _prices(("btc", datetime(2026, 12, 1, 5, tzinfo=UTC), "hourly")),
        "global_market": pa.table({"updated_at": pa.array([datetime(2026, 11, 28, 9, tzinfo=UTC)], TS)}),
    }
    assert first_day(staged) == date(2026, 11, 28)
    assert first_day({"price_history": staged["price_history"]}) == date(2026, 11, 30)
    assert first_day({}) is None
