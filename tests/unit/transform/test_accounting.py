"""Nothing vanishes between layers: every record of a body is a bronze row or a quarantine row, and
every bronze row reaches silver or is counted as filtered by its table's documented rule.

Definitions, per silver table T fed by bronze table B (docs/tables.md, "What reaches silver"):

* a *unit* of B is one bronze row (for ``silver.sparkline_prices``: one price of a row's sparkline);
* T's *rule* keeps or leaves out each unit (``silver.price_history``: a ``daily`` point must be at
  00:00 UTC; ``silver.live_prices``: a row needs its ``last_updated_at``; rows without a key);
* the kept units become candidate rows, one per key survives: the others are *superseded* by a
  later fetch of the same key.

So ``units(B) == rows(T) + filtered(T) + superseded(T)``, with ``filtered(T)`` the count the
transform reports (``TransformReport.filtered``; a run puts it in its rows as ``filtered.<T>``) and
``superseded(T) = kept units − distinct keys of the kept units`` (T starts empty).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
from tests.coingecko_data import RECORDED

from geckolake.api import endpoints as ep
from geckolake.api.endpoints import ApiRequest
from geckolake.lake.catalog import Lake
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import ParseResult, parse
from geckolake.transform.live_prices import merge_live_prices
from geckolake.transform.report import TransformReport
from geckolake.transform.runner import apply_batch, rebuild_all

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DAY_US = 86_400_000_000


def _recorded(rel: str) -> Any:
    return orjson.loads((RECORDED / rel).read_bytes())


def _bodies() -> list[tuple[ApiRequest, Any]]:
    """Real bodies, some drifted the way real APIs drift, plus what the silver rules leave out."""
    coins = _recorded("coins_markets/jkorf_100_usd_2023-01-08.json")
    coins[0]["sparkline_in_7d"] = {"price": [1.0, None, 3.0]}  # a null sparkline price: filtered
    del coins[1]["current_price"]  # required: quarantined
    del coins[2]["ath"]  # documented: lands null
    markets = ApiRequest("coins_markets", "/coins/markets", (("vs_currency", "usd"),), vs_currency="usd")

    def chart(rel: str, coin: str, granularity: ep.Granularity) -> tuple[ApiRequest, Any]:
        return ep.market_chart_range(coin, "usd", 1_600_000_000, 1_621_000_000, granularity), _recorded(rel)

    daily = chart("market_chart/cgruby_btc_usd_90d_daily_2021-05.json", "bitcoin", "daily")  # ends with a live point
    drifted = chart("market_chart/cgruby_btc_usd_30d_2021-05.json", "tether", "hourly")
    del drifted[1]["total_volumes"]  # required: the whole body is quarantined
    no_time = orjson.loads(orjson.dumps(_recorded("global/jkorf_2023-01.json")))
    del no_time["data"]["updated_at"]
    listed = [{"id": "x-coin", "symbol": "x", "name": "X"}, {"id": "y-coin", "symbol": "y"}]
    full = {
        "usd": 2.0,
        "usd_market_cap": 3.0,
        "usd_24h_vol": 4.0,
        "usd_24h_change": 0.5,
        "last_updated_at": 1_700_000_000,
    }
    prices = {"ethereum": full, "tether": {k: v for k, v in full.items() if k != "last_updated_at"}}
    return [
        (markets, coins),
        daily,
        daily,  # fetched twice: the second fetch supersedes the first, key by key
        chart("market_chart/cgruby_btc_usd_30d_2021-05.json", "bitcoin", "hourly"),
        chart("market_chart/cgruby_btc_usd_1d_2021-05-15.json", "bitcoin", "5m"),
        drifted,
        (ep.global_market(), _recorded("global/jkorf_2025-04-07.json")),
        (ep.global_market(), no_time),
        (ep.categories(), _recorded("categories/monkey_529_2025-03-04.json")),  # 234 without updated_at
        (ep.trending(), _recorded("trending/jkorf_2025-05_with_nfts_categories.json")),
        (ep.coins_list(), _recorded("coins_list/cgruby_2021-05-15.json")),
        (ep.coins_list(), listed),
        # recorded bodies of requests that did not ask for last_updated_at: no key for live prices
        (ApiRequest("simple_price", "/simple/price"), _recorded("simple_price/cgruby_btc_usd_2021-05.json")),
        (ApiRequest("simple_price", "/simple/price"), _recorded("simple_price/cgruby_btc_myr_2021-05.json")),
        (ep.simple_price(["ethereum", "tether"], "usd"), prices),  # tether lacks the time it asked for
    ]


def _parsed() -> list[tuple[ApiRequest, Any, ParseResult]]:
    out = []
    for seq, (request, body) in enumerate(_bodies()):
        lineage = Lineage("run-a", T0 + timedelta(minutes=seq), f"{seq:064x}", f"raw/a/{seq:06d}.json.gz")
        out.append((request, body, parse(request, orjson.dumps(body), lineage)))
    return out


def _records(request: ApiRequest, body: Any) -> int:
    """What a body holds, counted from its JSON: coins, points (a chart's prices), quotes, items."""
    if request.endpoint == "market_chart_range":
        return len(body["prices"])
    if request.endpoint == "global":
        return 1
    if request.endpoint == "trending":
        return sum(len(body.get(k, [])) for k in ("coins", "nfts", "categories"))
    if request.endpoint == "simple_price":
        return len(body)  # one currency per quote here; a quarantined quote is one record
    return len(body)


def test_every_record_of_a_body_is_a_bronze_row_or_quarantined() -> None:
    for request, body, result in _parsed():
        quarantined = 0 if result.quarantine is None else result.quarantine.num_rows
        landed = sum(t.num_rows for t in result.tables.values())
        if not result.ok:  # the whole body: one quarantine row, nothing landed
            assert (landed, quarantined, result.outcome) == (0, 1, "quarantined"), request
        else:
            assert landed + quarantined == _records(request, body), request


Key = Callable[[dict[str, Any]], tuple[Any, ...]]
Rule = Callable[[dict[str, Any]], bool]


def _midnight(ts: datetime) -> bool:
    return int(ts.timestamp() * 1_000_000) % DAY_US == 0


def _sparkline_units(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    units = []
    for r in rows:
        prices = r["sparkline_7d"] or []
        hour = r["last_updated"].replace(minute=0, second=0, microsecond=0) if r["last_updated"] else None
        for i, price in enumerate(prices):
            ts = hour - timedelta(hours=len(prices) - 1 - i) if hour else None
            units.append({"coin_id": r["coin_id"], "vs_currency": r["vs_currency"], "ts": ts, "price": price})
    return units


# silver table → (its bronze units from bronze rows, the documented rule, the key)
def _tables(bronze: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[list[dict[str, Any]], Rule, Key]]:
    markets = bronze["coins_markets"]
    return {
        "silver.price_history": (
            bronze["market_chart"],
            lambda r: r["granularity"] != "daily" or _midnight(r["ts"]),
            lambda r: (r["coin_id"], r["vs_currency"], r["ts"], r["granularity"]),
        ),
        "silver.market_snapshots": (
            markets,
            lambda r: True,
            lambda r: (r["coin_id"], r["vs_currency"], r["last_updated"]),
        ),
        "silver.sparkline_prices": (
            _sparkline_units(markets),
            lambda r: r["price"] is not None,
            lambda r: (r["coin_id"], r["vs_currency"], r["ts"]),
        ),
        "silver.global_market": (bronze["global_market"], lambda r: True, lambda r: (r["updated_at"],)),
        "silver.categories": (
            bronze["categories"],
            lambda r: True,
            lambda r: (r["category_id"], (r["updated_at"] or r["_fetched_at"]).date()),
        ),
        "silver.coins": (markets + bronze["coins_list"], lambda r: True, lambda r: (r["coin_id"],)),
        "silver.trending": (
            bronze["trending"],
            lambda r: True,
            lambda r: (r["_fetched_at"].replace(minute=0, second=0, microsecond=0), r["item_type"], r["item_id"]),
        ),
        "silver.live_prices": (
            bronze["simple_price"],
            lambda r: r["last_updated_at"] is not None,
            lambda r: (r["coin_id"], r["vs_currency"], r["last_updated_at"]),
        ),
    }


def test_every_bronze_row_reaches_silver_or_is_counted_as_filtered(lake: Lake) -> None:
    parts: dict[str, list[pa.Table]] = {}
    quarantine: list[pa.Table] = []
    for _, _, result in _parsed():
        for name, table in result.tables.items():
            parts.setdefault(name, []).append(table)
        if result.quarantine is not None:
            quarantine.append(result.quarantine)
    bronze = {name: pa.concat_tables(p) for name, p in parts.items()}
    prices = bronze.pop("simple_price")
    report = apply_batch(lake, bronze, pa.concat_tables(quarantine))
    lake.append("bronze.simple_price", prices)  # the prices poll's own commit, then its merge
    live = TransformReport()
    merge_live_prices(lake, live)
    report.filtered.update(live.filtered)

    rows = {name: lake.read(f"bronze.{name}").to_pylist() for name in (*bronze, "simple_price")}
    for table, (units, rule, key) in _tables(rows).items():
        kept = [u for u in units if rule(u)]
        filtered = report.filtered.get(table, 0)
        superseded = len(kept) - len({key(u) for u in kept})
        silver = lake.read(table).num_rows
        assert filtered == len(units) - len(kept), table
        assert len(units) == silver + filtered + superseded, table
    # what this input exercises: the live point of each daily body, a null sparkline price, the
    # quotes of requests that did not ask for their time; a repeated fetch
    assert report.filtered == {"silver.price_history": 2, "silver.sparkline_prices": 1, "silver.live_prices": 2}
    assert lake.read("silver.price_history").num_rows < len(rows["market_chart"]) - 2

    # A rebuild from all of bronze (replay) counts the same rows out.
    again = rebuild_all(lake)
    assert again.filtered == report.filtered
