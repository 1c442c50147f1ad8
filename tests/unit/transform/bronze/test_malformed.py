"""Bad bodies and bad records go to quarantine with a reason; good records are kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geckolake.api.endpoints import ApiRequest, market_chart_range, markets
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import BRONZE_SCHEMAS, QUARANTINE_SCHEMA, ParseResult, parse

LINEAGE = Lineage("run-9", datetime(2025, 1, 1, tzinfo=UTC), "cd" * 32, "raw/y/000002.json.gz")
CHART = market_chart_range("bitcoin", "usd", 1_700_000_000, 1_731_536_000, "daily")


def _coin(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "bitcoin", "symbol": "btc", "current_price": 1.5}
    base["last_updated"] = "2024-01-01T00:00:00.000Z"
    return {**base, **fields}


def _markets(records: Any) -> ParseResult:
    return parse(markets("usd", 1), orjson.dumps(records), LINEAGE)


def _reasons(result: ParseResult) -> list[str]:
    assert result.quarantine is not None
    assert result.quarantine.schema == QUARANTINE_SCHEMA
    return [str(r) for r in result.quarantine.column("reason").to_pylist()]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "invalid JSON"),
        (b'[{"id": "bitcoin", "sym', "invalid JSON"),
        (b'{"data": 1}', "expected a list of coins, got an object"),
        (
            b'{"error": "Missing parameter vs_currency"}',
            "CoinGecko error body: Missing parameter vs_currency",
        ),
        (b"<html>429</html>", "invalid JSON"),
    ],
)
def test_unusable_markets_body(body: bytes, reason: str) -> None:
    result = parse(markets("usd", 1), body, LINEAGE)
    assert not result.ok and result.points == 0
    assert result.tables["coins_markets"].num_rows == 0
    assert result.tables["coins_markets"].schema == BRONZE_SCHEMAS["coins_markets"]
    assert reason in _reasons(result)[0]
    assert result.quarantine is not None
    assert result.quarantine.column("record_json").to_pylist() == [None]
    assert result.quarantine.column("raw_path").to_pylist() == [LINEAGE.raw_path]


def test_bad_records_quarantined_others_kept() -> None:
    records = [
        _coin(),
        _coin(id=None),
        _coin(last_updated=None),
        _coin(current_price="abc"),
        "not an object",
        _coin(id="odd id with spaces", current_price="123.4", market_cap="1e3", extra_field={"x": 1}),
    ]
    result = _markets(records)
    assert result.ok
    table = result.tables["coins_markets"]
    assert table.column("coin_id").to_pylist() == ["bitcoin", "odd id with spaces"]
    assert table.column("position").to_pylist() == [0, 5]
    assert table.column("current_price").to_pylist() == [1.5, 123.4]
    assert table.column("market_cap").to_pylist() == [None, 1000.0]
    reasons = _reasons(result)
    assert reasons[0] == "missing id"
    assert reasons[1] == "missing last_updated"
    assert reasons[2].startswith("current_price: cannot read 'abc'")
    assert "expected a coin object" in reasons[3]
    assert result.quarantine is not None
    assert orjson.loads(result.quarantine.column("record_json")[2].as_py())["current_price"] == "abc"


def test_chart_null_value_kept_and_bad_points_quarantined() -> None:
    body = {
        "prices": [[1_700_000_000_000, 1.0], [1_700_086_400_000, None], [-5, 2.0], [1_700_172_800_000, "x"]],
        "market_caps": [[1_700_000_000_000, 10], [1_700_086_400_000, 20]],
        "total_volumes": [[1_700_000_000_000, None], [1_700_086_400_000, 5]],
    }
    result = parse(CHART, orjson.dumps(body), LINEAGE)
    assert result.ok and result.outcome == "ok"
    rows = result.tables["market_chart"].to_pylist()
    assert [r["price"] for r in rows] == [1.0, None]
    assert [r["market_cap"] for r in rows] == [10.0, 20.0]
    assert [r["total_volume"] for r in rows] == [None, 5.0]
    assert [r["is_last"] for r in rows] == [False, True]
    reasons = _reasons(result)
    assert reasons[0] == "prices[2]: timestamp -5 is out of range"
    assert reasons[1].startswith("prices[3] value: cannot read 'x'")
    assert result.quarantine is not None
    assert set(result.quarantine.column("coin_id").to_pylist()) == {"bitcoin"}


def test_chart_misaligned_series_join_by_timestamp() -> None:
    body = {
        "prices": [[1000, 1.0], [2000, 2.0], [3000, 3.0]],
        "market_caps": [[2000, 20.0], [3000, 30.0]],
        "total_volumes": [[1000, 100.0], [2000, 200.0], [3000, 300.0], [4000, 400.0]],
    }
    rows = parse(CHART, orjson.dumps(body), LINEAGE).tables["market_chart"].to_pylist()
    assert [(r["price"], r["market_cap"], r["total_volume"]) for r in rows] == [
        (1.0, None, 100.0),
        (2.0, 20.0, 200.0),
        (3.0, 30.0, 300.0),
        (None, None, 400.0),
    ]
    assert [r["is_last"] for r in rows] == [False, False, True, False]  # the last price point


def test_chart_strings_and_exponents_are_coerced() -> None:
    body = b'{"prices":[[1000,"1.5"],[2000,2e3]],"market_caps":[[1000,1],[2000,2]],"total_volumes":[[1000,3]]}'
    rows = parse(CHART, body, LINEAGE).tables["market_chart"].to_pylist()
    assert [r["price"] for r in rows] == [1.5, 2000.0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "expected an object with prices/market_caps/total_volumes, got a list"),
        (b'{"prices": 5}', "prices: expected a list"),
        (b'{"error": "coin not found"}', "CoinGecko error body: coin not found"),
        (b'{"prices": [[1, 2]', "invalid JSON"),
    ],
)
def test_unusable_chart_body(body: bytes, reason: str) -> None:
    result = parse(CHART, body, LINEAGE)
    assert not result.ok
    assert reason in _reasons(result)[0]


def test_granularity_inferred_from_params() -> None:
    def gran(params: tuple[tuple[str, str], ...]) -> str | None:
        request = ApiRequest("market_chart_range", "/coins/a%20b/market_chart/range", params)
        body = b'{"prices":[[1000,1]],"market_caps":[[1000,2]],"total_volumes":[[1000,3]]}'
        table = parse(request, body, LINEAGE).tables["market_chart"]
        assert table.column("coin_id").to_pylist() == ["a b"]
        return str(table.column("granularity")[0].as_py())

    assert gran((("from", "0"), ("to", "86400"))) == "5m"
    assert gran((("from", "0"), ("to", str(90 * 86400)))) == "hourly"
    assert gran((("from", "0"), ("to", str(91 * 86400)))) == "daily"
    assert gran((("from", "0"), ("to", "86400"), ("interval", "daily"))) == "daily"


def test_trending_formatted_strings() -> None:
    body = {"coins": [{"item": {"id": "x", "data": {"market_cap": "$1,234", "price_btc": "0.5"}}}, {"item": {}}]}
    result = parse(ApiRequest("trending", "/search/trending"), orjson.dumps(body), LINEAGE)
    rows = result.tables["trending"].to_pylist()
    assert rows[0]["market_cap_usd"] == 1234.0 and rows[0]["price_btc"] == 0.5 and rows[0]["score"] == 0
    assert _reasons(result) == ["missing id"]


def test_global_without_data_block() -> None:
    result = parse(
        ApiRequest("global", "/global"), b'{"status": {"error_code": 429, "error_message": "slow"}}', LINEAGE
    )
    assert not result.ok and "error_code 429" in _reasons(result)[0]


def test_simple_price_with_all_fields() -> None:
    body = {
        "bitcoin": {
            "usd": 1,
            "usd_market_cap": 2,
            "usd_24h_vol": "3",
            "usd_24h_change": None,
            "last_updated_at": 10,
        }
    }
    rows = parse(ApiRequest("simple_price", "/simple/price"), orjson.dumps(body), LINEAGE).tables["simple_price"]
    assert rows.to_pylist()[0] | {} == {
        **rows.to_pylist()[0],
        "coin_id": "bitcoin",
        "vs_currency": "usd",
        "price": 1.0,
        "market_cap": 2.0,
        "vol_24h": 3.0,
        "change_24h": None,
        "last_updated_at": datetime.fromtimestamp(10, UTC),
    }


_value = st.one_of(
    st.none(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=5),
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.none(), st.text(max_size=10)),
        "last_updated": st.one_of(st.none(), st.just("2024-05-01T10:00:00.123Z"), st.text(max_size=5)),
        "current_price": _value,
        "market_cap": _value,
        "market_cap_rank": _value,
        "max_supply": _value,
        "roi": st.one_of(st.none(), st.fixed_dictionaries({"times": _value, "currency": st.text(max_size=3)})),
        "sparkline_in_7d": st.fixed_dictionaries({"price": st.lists(_value, max_size=4)}),
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_record, max_size=12))
def test_every_market_record_is_a_row_or_quarantined(records: list[dict[str, Any]]) -> None:
    result = _markets(records)
    assert result.ok
    table = result.tables["coins_markets"]
    assert table.schema == BRONZE_SCHEMAS["coins_markets"]
    quarantined = 0 if result.quarantine is None else result.quarantine.num_rows
    assert table.num_rows + quarantined == len(records)
    assert isinstance(table, pa.Table) and result.points == table.num_rows
