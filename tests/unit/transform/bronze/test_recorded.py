"""Every recorded CoinGecko body parses with nothing quarantined and values equal to the body."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.coingecko_data import RECORDED, recorded_files

from geckolake.api.endpoints import ApiRequest, markets
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import BRONZE_SCHEMAS, market_chart, parse

LINEAGE = Lineage("run-1", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ab" * 32, "raw/x/000001.json.gz")

ENDPOINTS = {
    "coins_markets": ("coins_markets", "coins_markets"),
    "market_chart": ("market_chart", "market_chart"),
    "global": ("global", "global_market"),
    "categories": ("categories", "categories"),
    "trending": ("trending", "trending"),
    "coins_list": ("coins_list", "coins_list"),
    "simple_price": ("simple_price", "simple_price"),
}


def _request(endpoint: str) -> ApiRequest:
    if endpoint == "coins_markets":
        return markets("usd", page=1)
    if endpoint == "market_chart":
        return ApiRequest("market_chart_range", "/coins/bitcoin/market_chart", (("vs_currency", "usd"), ("days", "1")))
    return ApiRequest(endpoint, "/x")  # type: ignore[arg-type]


CASES = [(folder, f) for folder in ENDPOINTS for f in recorded_files(folder)]


def test_every_folder_has_bodies() -> None:
    assert all(recorded_files(folder) for folder in ENDPOINTS)


@pytest.mark.parametrize(("folder", "path"), CASES, ids=[f"{c[0]}/{c[1].name}" for c in CASES])
def test_recorded_body_parses_cleanly(folder: str, path: Path) -> None:
    endpoint, table_name = ENDPOINTS[folder]
    body = path.read_bytes()
    result = parse(_request(endpoint), body, LINEAGE)
    assert result.ok
    assert result.quarantine is None
    table = result.tables[table_name]
    assert table.schema == BRONZE_SCHEMAS[table_name]
    assert result.points == table.num_rows == _expected_rows(folder, orjson.loads(body))
    assert set(table.column("_run_id").to_pylist()) <= {"run-1"}


def _expected_rows(folder: str, data: Any) -> int:
    if folder == "market_chart":
        return len(data["prices"])
    if folder == "global":
        return 1
    if folder == "trending":
        return sum(len(data.get(k, [])) for k in ("coins", "nfts", "categories"))
    if folder == "simple_price":
        return sum(len([k for k in q if "_" not in k]) for q in data.values())
    return len(data)


def test_markets_values_equal_body() -> None:
    path = RECORDED / "coins_markets" / "dashbrd_250_usd_2023-07-28.json"
    data = orjson.loads(path.read_bytes())
    rows = parse(markets("usd", 3), path.read_bytes(), LINEAGE).tables["coins_markets"].to_pylist()
    for position, (row, record) in enumerate(zip(rows, data, strict=True)):
        assert row["coin_id"] == record["id"]
        assert row["position"] == position and row["page"] == 3 and row["vs_currency"] == "usd"
        for name in ("current_price", "market_cap", "max_supply", "total_supply", "fully_diluted_valuation"):
            assert row[name] == (None if record[name] is None else float(record[name]))
        assert row["market_cap_rank"] == record["market_cap_rank"]
        assert row["last_updated"] == datetime.fromisoformat(record["last_updated"])
        roi = record["roi"] or {}
        assert row["roi_times"] == roi.get("times") and row["roi_currency"] == roi.get("currency")


def test_markets_mixed_ints_and_floats_become_float() -> None:
    path = RECORDED / "coins_markets" / "cgruby_btc_usd_2021-05.json"
    row = parse(markets("usd", 1), path.read_bytes(), LINEAGE).tables["coins_markets"].to_pylist()[0]
    assert row["current_price"] == 49053.0 and isinstance(row["current_price"], float)
    assert row["sparkline_7d"] is None
    assert row["_fetched_at"] == LINEAGE.fetched_at and row["_raw_path"] == LINEAGE.raw_path


def test_chart_1d_keeps_non_monotonic_live_point() -> None:
    path = RECORDED / "market_chart" / "cgruby_btc_usd_1d_2021-05-15.json"
    data = orjson.loads(path.read_bytes())
    table = parse(_request("market_chart"), path.read_bytes(), LINEAGE).tables["market_chart"]
    rows = table.to_pylist()
    assert rows[-1]["ts"] < rows[-2]["ts"]  # the live point is earlier than the one before it
    assert rows[-1]["is_last"] and not any(r["is_last"] for r in rows[:-1])
    assert rows[-1]["ts"] == datetime.fromtimestamp(data["prices"][-1][0] / 1000, UTC)
    for row, (ts, price), (_, cap), (_, vol) in zip(
        rows, data["prices"], data["market_caps"], data["total_volumes"], strict=True
    ):
        assert row["ts"] == datetime.fromtimestamp(ts / 1000, UTC)
        assert (row["price"], row["market_cap"], row["total_volume"]) == (price, cap, vol)
    assert set(table.column("granularity").to_pylist()) == {"5m"}
    assert set(table.column("coin_id").to_pylist()) == {"bitcoin"}


def test_global_values() -> None:
    path = RECORDED / "global" / "jkorf_2025-04-07.json"
    data = orjson.loads(path.read_bytes())["data"]
    row = parse(ApiRequest("global", "/global"), path.read_bytes(), LINEAGE).tables["global_market"].to_pylist()[0]
    assert row["active_cryptocurrencies"] == 17111
    assert dict(row["total_market_cap"]) == data["total_market_cap"]
    assert row["volume_change_percentage_24h_usd"] is None
    assert row["updated_at"] == datetime.fromtimestamp(1744025333, UTC)


def test_trending_new_shape() -> None:
    path = RECORDED / "trending" / "jkorf_2025-05_with_nfts_categories.json"
    rows = parse(ApiRequest("trending", "/search/trending"), path.read_bytes(), LINEAGE).tables["trending"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in rows.to_pylist():
        by_type.setdefault(row["item_type"], []).append(row)
    coin = by_type["coin"][0]
    assert coin["item_id"] == "qubic-network" and coin["market_cap_usd"] == 104127324.0
    assert coin["total_volume_usd"] == 3463333.0 and coin["score"] == 0
    nft = by_type["nft"][0]
    assert nft["floor_price"] == "0.002 BTC" and nft["item_id"] == "runestone"
    category = by_type["category"][0]
    assert category["coins_count"] == 11 and category["item_id"] == "chaingpt-pad"
    assert [len(by_type[k]) for k in ("coin", "nft", "category")] == [15, 7, 6]


def test_coins_list_keeps_odd_ids_and_empty_platform_keys() -> None:
    path = RECORDED / "coins_list" / "dashbrd_include_platform_2023-07.json"
    rows = parse(ApiRequest("coins_list", "/coins/list"), path.read_bytes(), LINEAGE).tables["coins_list"]
    by_id = {r["coin_id"]: r for r in rows.to_pylist()}
    assert "1move token" in by_id
    assert dict(by_id["ociswap"]["platforms"])[""].startswith("oci_")
    assert dict(by_id["boid"]["platforms"]) == {"eos": None}


def test_simple_price_empty_object_is_skipped_not_quarantined() -> None:
    path = RECORDED / "simple_price" / "cgruby_invalid_vs_currency_empty_obj_2021-05.json"
    result = parse(ApiRequest("simple_price", "/simple/price"), path.read_bytes(), LINEAGE)
    assert result.ok and result.quarantine is None and result.tables["simple_price"].num_rows == 0


@pytest.mark.parametrize("path", recorded_files("market_chart"), ids=lambda p: p.name)
def test_recorded_chart_takes_the_fast_reader_with_the_same_rows(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real chart bodies (integer timestamps, float values) are plain: simdjson reads them, and the rows
    equal those of the orjson path."""
    body = path.read_bytes()
    assert market_chart.read_series_fast(body) is not None
    fast = parse(_request("market_chart"), body, LINEAGE).tables["market_chart"]
    monkeypatch.setattr(market_chart, "read_series_fast", lambda body: None)
    assert fast.equals(parse(_request("market_chart"), body, LINEAGE).tables["market_chart"])
