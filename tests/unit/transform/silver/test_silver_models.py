"""Silver: keys, latest-fetch-wins merges, daily alignment, sparkline timestamps, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from geckolake.lake.catalog import Lake
from geckolake.lake.testing import bronze_batch
from geckolake.transform import incremental, rebuild
from geckolake.transform.runner import apply_batch, rebuild_all

F1 = datetime(2026, 3, 10, 12, 5, tzinfo=UTC)
F2 = F1 + timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def market(coin: str, last_updated: datetime, price: float, **extra: Any) -> dict[str, Any]:
    return {
        "coin_id": coin,
        "symbol": coin[:3],
        "name": coin.title(),
        "vs_currency": "usd",
        "current_price": price,
        "market_cap_rank": 1,
        "last_updated": last_updated,
        **extra,
    }


def point(
    ts: datetime, price: float, granularity: str = "daily", coin: str = "bitcoin", **extra: Any
) -> dict[str, Any]:
    return {
        "coin_id": coin,
        "vs_currency": "usd",
        "granularity": granularity,
        "ts": ts,
        "price": price,
        **extra,
    }


def rows(lake: Lake, name: str, order: str) -> list[dict[str, Any]]:
    con = lake.connect_duckdb()
    return con.execute(f"SELECT * FROM {name} ORDER BY {order}").to_arrow_table().to_pylist()


def hashes(lake: Lake) -> dict[str, str]:
    return {n: lake.content_hash(n) for n in lake.table_names() if n.startswith(("silver.", "gold."))}


def test_same_snapshot_fetched_twice_is_one_row(lake: Lake) -> None:
    lu = utc(2026, 3, 10, 12, 0, 30)
    apply_batch(
        lake,
        {"coins_markets": bronze_batch("coins_markets", [market("bitcoin", lu, 100.0)], fetched_at=F1)},
        None,
    )
    apply_batch(
        lake,
        {"coins_markets": bronze_batch("coins_markets", [market("bitcoin", lu, 100.0)], fetched_at=F2)},
        None,
    )
    got = rows(lake, "silver.market_snapshots", "snapshot_ts")
    assert len(got) == 1
    assert got[0]["snapshot_ts"] == lu and got[0]["_fetched_at"] == F2 and got[0]["date"].isoformat() == "2026-03-10"
    later = bronze_batch("coins_markets", [market("bitcoin", lu + timedelta(minutes=5), 101.0)], fetched_at=F2)
    apply_batch(lake, {"coins_markets": later}, None)
    assert [r["current_price"] for r in rows(lake, "silver.market_snapshots", "snapshot_ts")] == [
        100.0,
        101.0,
    ]


def test_applying_the_same_batch_twice_changes_nothing(lake: Lake) -> None:
    batch = {
        "coins_markets": bronze_batch(
            "coins_markets", [market("bitcoin", F1, 1.0, sparkline_7d=[1.0, 2.0])], fetched_at=F1
        ),
        "market_chart": bronze_batch("market_chart", [point(utc(2026, 3, 10), 5.0)], fetched_at=F1),
        "coins_list": bronze_batch(
            "coins_list", [{"coin_id": "eth", "symbol": "eth", "name": "Ethereum"}], fetched_at=F1
        ),
        "trending": bronze_batch(
            "trending", [{"item_type": "coin", "item_id": "bitcoin", "position": 0}], fetched_at=F1
        ),
        "global_market": bronze_batch(
            "global_market", [{"updated_at": F1, "total_market_cap": {"usd": 3.0}}], fetched_at=F1
        ),
        "categories": bronze_batch("categories", [{"category_id": "defi", "updated_at": F1}], fetched_at=F1),
    }
    first = apply_batch(lake, batch, None)
    before = hashes(lake)
    apply_batch(lake, batch, None)
    assert hashes(lake) == before
    assert first.rows["silver.price_history"] == 1 and first.rows["gold.coin_daily"] >= 1
    assert lake.read("bronze.market_chart").num_rows == 2  # bronze keeps every fetch


def test_latest_fetch_wins_whatever_the_order(lake: Lake) -> None:
    old = bronze_batch("market_chart", [point(utc(2026, 3, 1), 10.0)], fetched_at=F1)
    new = bronze_batch("market_chart", [point(utc(2026, 3, 1), 11.0)], fetched_at=F2)
    apply_batch(lake, {"market_chart": new}, None)
    apply_batch(lake, {"market_chart": old}, None)  # arrives late: must not win
    assert [r["price"] for r in rows(lake, "silver.price_history", "ts")] == [11.0]


def test_daily_keeps_only_midnight_points_hourly_keeps_all(lake: Lake) -> None:
    body = [
        point(utc(2026, 3, 8), 1.0),
        point(utc(2026, 3, 9), 2.0),
        point(utc(2026, 3, 9, 14, 37), 2.5, is_last=True),  # live "now" point
        point(utc(2026, 3, 9, 13), 3.0, "hourly"),
        point(utc(2026, 3, 9, 14, 37), 3.5, "hourly", is_last=True),
    ]
    apply_batch(lake, {"market_chart": bronze_batch("market_chart", body, fetched_at=F1)}, None)
    got = [(r["granularity"], r["ts"], r["price"]) for r in rows(lake, "silver.price_history", "granularity, ts")]
    assert got == [
        ("daily", utc(2026, 3, 8), 1.0),
        ("daily", utc(2026, 3, 9), 2.0),
        ("hourly", utc(2026, 3, 9, 13), 3.0),
        ("hourly", utc(2026, 3, 9, 14, 37), 3.5),
    ]


def test_sparkline_timestamps_are_inferred_back_from_last_updated(lake: Lake) -> None:
    lu = utc(2026, 3, 10, 12, 41, 7)
    prices = [float(i) for i in range(168)]
    apply_batch(
        lake,
        {
            "coins_markets": bronze_batch(
                "coins_markets", [market("bitcoin", lu, 1.0, sparkline_7d=prices)], fetched_at=F1
            )
        },
        None,
    )
    got = rows(lake, "silver.sparkline_prices", "ts")
    assert len(got) == 168
    assert got[-1]["ts"] == utc(2026, 3, 10, 12) and got[-1]["price"] == 167.0
    assert got[0]["ts"] == utc(2026, 3, 10, 12) - timedelta(hours=167) and got[0]["price"] == 0.0
    assert len({r["date"] for r in got}) == 8  # partitioned by day: 7 days back + today
    # an hour later, overlapping hours take the later fetch's prices
    later = [p + 1000 for p in prices]
    apply_batch(
        lake,
        {
            "coins_markets": bronze_batch(
                "coins_markets",
                [market("bitcoin", lu + timedelta(hours=1), 1.0, sparkline_7d=later)],
                fetched_at=F2,
            )
        },
        None,
    )
    got = rows(lake, "silver.sparkline_prices", "ts")
    assert len(got) == 169
    assert got[0]["price"] == 0.0 and got[1]["price"] == 1000.0 and got[-1]["price"] == 1167.0


def test_coins_markets_beats_list_and_tracks_first_last_seen(lake: Lake) -> None:
    listing = bronze_batch(
        "coins_list",
        [
            {"coin_id": "bitcoin", "symbol": "BTC?", "name": "bitcoin (list)", "platforms": {"eth": "0xabc"}},
            {"coin_id": "tiny", "symbol": "tny", "name": "Tiny", "platforms": {}},
        ],
        fetched_at=F2,
    )
    m1 = bronze_batch("coins_markets", [market("bitcoin", utc(2026, 3, 10, 12), 1.0, market_cap_rank=2)], fetched_at=F1)
    m2 = bronze_batch("coins_markets", [market("bitcoin", utc(2026, 3, 10, 13), 1.0, market_cap_rank=1)], fetched_at=F2)
    apply_batch(lake, {"coins_markets": m2}, None)
    apply_batch(lake, {"coins_list": listing}, None)
    apply_batch(lake, {"coins_markets": m1}, None)
    got = {r["coin_id"]: r for r in rows(lake, "silver.coins", "coin_id")}
    btc = got["bitcoin"]
    assert (btc["name"], btc["symbol"], btc["name_source"]) == ("Bitcoin", "bit", "markets")
    assert btc["market_cap_rank"] == 1
    assert dict(btc["platforms"]) == {"eth": "0xabc"}
    assert (btc["first_seen"], btc["last_seen"]) == (utc(2026, 3, 10, 12), utc(2026, 3, 10, 13))
    assert (got["tiny"]["name_source"], got["tiny"]["first_seen"]) == ("list", None)


def test_trending_latest_list_of_the_hour_replaces_the_earlier_one(lake: Lake) -> None:
    a = bronze_batch("trending", [{"item_type": "coin", "item_id": "a", "position": 0}], fetched_at=F1)
    b = bronze_batch(
        "trending",
        [
            {"item_type": "coin", "item_id": "b", "position": 0},
            {"item_type": "nft", "item_id": "n", "position": 0},
        ],
        fetched_at=F1 + timedelta(minutes=10),
    )
    apply_batch(lake, {"trending": b}, None)
    apply_batch(lake, {"trending": a}, None)
    got = [
        (r["snapshot_ts"], r["item_type"], r["item_id"]) for r in rows(lake, "silver.trending", "item_type, item_id")
    ]
    assert got == [(utc(2026, 3, 10, 12), "coin", "b"), (utc(2026, 3, 10, 12), "nft", "n")]


def test_global_market_and_categories(lake: Lake) -> None:
    g = {
        "updated_at": F1,
        "total_market_cap": {"usd": 3e12, "eur": 2.8e12},
        "total_volume": {"usd": 1e11},
        "market_cap_percentage": {"btc": 55.5, "eth": 12.25},
    }
    cats = [
        {
            "category_id": "defi",
            "name": "DeFi",
            "market_cap": 1.0,
            "updated_at": F1,
            "top_3_coins_id": ["a", "b"],
        }
    ]
    apply_batch(
        lake,
        {
            "global_market": bronze_batch("global_market", [g], fetched_at=F1),
            "categories": bronze_batch("categories", cats, fetched_at=F1),
        },
        None,
    )
    cats[0]["market_cap"] = 2.0
    apply_batch(lake, {"categories": bronze_batch("categories", cats, fetched_at=F2)}, None)
    (glob,) = rows(lake, "silver.global_market", "updated_at")
    assert (glob["total_market_cap_usd"], glob["total_volume_usd"]) == (3e12, 1e11)
    assert (glob["btc_dominance"], glob["eth_dominance"]) == (55.5, 12.25)
    (cat,) = rows(lake, "silver.categories", "category_id")
    assert (cat["snapshot_date"].isoformat(), cat["market_cap"], cat["top_3_coins_id"]) == (
        "2026-03-10",
        2.0,
        ["a", "b"],
    )


def test_quarantine_is_appended(lake: Lake) -> None:
    q = pa.Table.from_pylist(
        [
            {
                "endpoint": "coins_markets",
                "reason": "bad price",
                "record_json": "{}",
                "_run_id": "r",
                "_fetched_at": F1,
            }
        ],
        schema=lake.arrow_schema("bronze.quarantine"),
    )
    report = apply_batch(lake, {}, q)
    assert report.rows["bronze.quarantine"] == 1
    assert lake.read("bronze.quarantine")["reason"].to_pylist() == ["bad price"]


@pytest.mark.parametrize(
    ("chunk_rows", "max_enum_values"), [(1_000_000, 1 << 16), (10, 1 << 16), (1, 1 << 16), (10, 1)]
)
def test_batches_one_by_one_equal_one_rebuild(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, chunk_rows: int, max_enum_values: int
) -> None:
    monkeypatch.setattr(rebuild, "REBUILD_CHUNK_ROWS", chunk_rows)  # 10: one month, 1: one coin per chunk
    monkeypatch.setattr(rebuild, "_MAX_ENUM_VALUES", max_enum_values)  # 1: lineage exported as plain strings
    batches = []
    for k, fetched in enumerate([F2, F1, F2 + timedelta(days=40), F1]):  # out of order, repeated, next month
        day = utc(2026, 3, 1) + timedelta(days=10 * k)  # k=3: 31 March → April
        chart = [point(day + timedelta(days=d), 10.0 * k + d) for d in range(4)]
        chart += [point(day + timedelta(hours=h), 100.0 + h + k, "hourly") for h in range(30)]
        chart += [point(day, 5.0 + k, coin="eth")]
        snaps = [
            market("bitcoin", day + timedelta(hours=h, minutes=k), 50.0 + h, sparkline_7d=[1.0 * k, 2.0])
            for h in (1, 2)
        ]
        batches.append(
            {
                "market_chart": bronze_batch("market_chart", chart, fetched_at=fetched, raw_path=f"raw/c/{k}"),
                "coins_markets": bronze_batch("coins_markets", snaps, fetched_at=fetched, raw_path=f"raw/m/{k}"),
                "coins_list": bronze_batch(
                    "coins_list", [{"coin_id": "bitcoin", "symbol": "b", "name": f"B{k}"}], fetched_at=fetched
                ),
            }
        )
    for batch in batches:
        apply_batch(lake, batch, None)
    incremental = hashes(lake)
    prices = sorted(lake.read("silver.price_history").to_pylist(), key=repr)  # lineage of the winners too
    lake.drop_layers(("silver", "gold"))
    rebuild_all(lake)
    assert hashes(lake) == incremental
    assert sorted(lake.read("silver.price_history").to_pylist(), key=repr) == prices


def test_a_batch_interrupted_after_bronze_is_completed_by_the_next(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    def batch(day: int) -> dict[str, pa.Table]:
        f = F1 + timedelta(days=day)
        return {
            "market_chart": bronze_batch("market_chart", [point(utc(2026, 3, 10 + day), 1.0 + day)], fetched_at=f),
            "coins_markets": bronze_batch("coins_markets", [market("bitcoin", f, 2.0 + day)], fetched_at=f),
        }

    apply_batch(lake, batch(0), None)
    apply_batch(lake, batch(1), None)
    uninterrupted = hashes(lake)
    lake.drop_layers(("bronze", "silver", "gold"))

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kill -9")

    monkeypatch.setattr(incremental, "_gold_incremental", killed)  # bronze and silver committed, gold not
    with pytest.raises(RuntimeError):
        apply_batch(lake, batch(0), None)
    monkeypatch.undo()
    report = apply_batch(lake, batch(1), None)
    assert report.recovered == {"bronze.market_chart": 1, "bronze.coins_markets": 1}
    assert hashes(lake) == uninterrupted
    assert apply_batch(lake, {}, None).recovered == {}
