"""Schema drift is detected, not absorbed: a missing required part is quarantined, a missing documented
field lands and marks the call incomplete, and no recorded CoinGecko body is taken for drift."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
import pytest
from tests.coingecko_data import RECORDED

from geckolake.api import endpoints as ep
from geckolake.api.endpoints import ApiRequest
from geckolake.lake.lineage import Lineage
from geckolake.simulator.faults import drift
from geckolake.simulator.fixtures import recorded_requests
from geckolake.transform.bronze import ParseResult, parse

LINEAGE = Lineage("run-d", datetime(2026, 1, 1, tzinfo=UTC), "ef" * 32, "raw/d/000003.json.gz")
CHART = ep.market_chart_range("bitcoin", "usd", 1_700_000_000, 1_702_592_000, "daily")
SERIES = ("prices", "market_caps", "total_volumes")
# recorded folder → the endpoint our client would have called
ENDPOINT = {"market_chart": "market_chart", "global": "global"}
PARSED_FOLDERS = ("coins_markets", "market_chart", "global", "categories", "trending", "coins_list", "simple_price")


def _chart(n: int = 3) -> dict[str, list[list[float]]]:
    ts = [1_700_006_400_000 + i * 86_400_000 for i in range(n)]
    return {name: [[t, float(i + 1) * (10**k)] for i, t in enumerate(ts)] for k, name in enumerate(SERIES)}


def _parse(request: ApiRequest, body: Any) -> ParseResult:
    return parse(request, orjson.dumps(body), LINEAGE)


def _reasons(result: ParseResult) -> list[str]:
    return [] if result.quarantine is None else [str(r) for r in result.quarantine.column("reason").to_pylist()]


def _recorded_cases() -> list[tuple[str, ApiRequest]]:
    cases = []
    for rel, request, status in recorded_requests(RECORDED):
        folder = rel.split("/")[0]
        if folder not in PARSED_FOLDERS or status != 200:
            continue
        parts = urlsplit(request)
        params = tuple(parse_qsl(parts.query))
        segments = unquote(parts.path).strip("/").split("/")
        endpoint = ENDPOINT.get(folder, folder)
        coin = segments[1] if folder == "market_chart" else None
        cases.append(
            (rel, ApiRequest(endpoint, parts.path, params, coin_id=coin, vs_currency=dict(params).get("vs_currency")))
        )  # type: ignore[arg-type]
    return cases


@pytest.mark.parametrize(("rel", "request_"), _recorded_cases(), ids=[c[0] for c in _recorded_cases()])
def test_every_recorded_body_answering_its_own_request_is_complete(rel: str, request_: ApiRequest) -> None:
    result = parse(request_, (RECORDED / rel).read_bytes(), LINEAGE)
    assert (result.outcome, result.missing, result.problem) == ("ok", {}, None)


@pytest.mark.parametrize("series", SERIES)
def test_a_chart_without_a_series_is_quarantined_whole(series: str) -> None:
    body = _chart()
    del body[series]
    result = _parse(CHART, body)
    assert not result.ok and result.outcome == "quarantined"
    assert result.tables["market_chart"].num_rows == 0  # nothing of it can overwrite silver's good values
    assert _reasons(result) == [f"missing required: {series}"]
    assert result.problem == f"missing required: {series}"  # the manifest's error
    assert result.missing == {series: 1} and result.required_missing == (series,)
    assert result.quarantine is not None and result.quarantine.column("record_json").to_pylist() == [None]


@pytest.mark.parametrize("value", [None, []], ids=["null", "empty"])
def test_a_null_or_emptied_series_is_missing_too(value: object) -> None:
    """``[]`` while the other series have points loses as much as no key; the fast reader agrees."""
    body: dict[str, Any] = _chart()
    body["total_volumes"] = value
    result = _parse(CHART, body)
    assert not result.ok and _reasons(result) == ["missing required: total_volumes"]


def test_a_chart_with_no_points_at_all_is_an_answer() -> None:
    result = _parse(CHART, {name: [] for name in SERIES})  # a coin with no data in the span
    assert result.ok and result.outcome == "ok" and result.tables["market_chart"].num_rows == 0


def _coin(i: int, **fields: Any) -> dict[str, Any]:
    record = orjson.loads((RECORDED / "coins_markets" / "jkorf_100_usd_2023-01-08.json").read_bytes())[i]
    return {**record, **fields}


PLAIN_MARKETS = ApiRequest("coins_markets", "/coins/markets", (("vs_currency", "usd"),), vs_currency="usd")


def test_a_markets_row_without_current_price_is_quarantined_the_others_land() -> None:
    gone = _coin(1)
    del gone["current_price"]
    result = _parse(PLAIN_MARKETS, [_coin(0), gone, _coin(2)])
    assert result.ok and result.outcome == "incomplete"
    assert result.tables["coins_markets"].column("coin_id").to_pylist() == [_coin(0)["id"], _coin(2)["id"]]
    assert _reasons(result) == ["missing required: current_price"]
    assert result.problem == "missing required: current_price (1 record)"


def test_a_markets_row_without_a_documented_field_lands_with_a_null_and_is_counted() -> None:
    gone = _coin(0)
    del gone["ath"], gone["roi"]
    result = _parse(PLAIN_MARKETS, [gone, _coin(1)])
    assert result.ok and result.quarantine is None
    assert result.tables["coins_markets"].column("ath").to_pylist()[0] is None
    assert result.outcome == "incomplete"
    assert result.problem == "missing: ath (1 record), roi (1 record)"


def test_fields_the_request_asked_for_are_documented() -> None:
    """``sparkline=true`` and ``price_change_percentage=…`` add fields every row must then carry."""
    asked = ep.markets("usd", 1)
    rows = [_coin(i, sparkline_in_7d={"price": [1.0, 2.0]}) for i in range(3)]
    for i, row in enumerate(rows):
        for w in ("1h", "24h", "7d", "30d"):
            row[f"price_change_percentage_{w}_in_currency"] = float(i)
    assert _parse(asked, rows).outcome == "ok"
    del rows[2]["price_change_percentage_30d_in_currency"]  # what the simulator's drift does
    result = _parse(asked, rows)
    assert result.outcome == "incomplete" and result.quarantine is None
    assert result.problem == "missing: price_change_percentage_30d_in_currency (1 record)"


def test_simple_price_without_the_time_it_asked_for_is_quarantined() -> None:
    """``last_updated_at`` keys silver.live_prices: asked for and absent, the coin's quote is drift."""
    request = ep.simple_price(["bitcoin", "ethereum", "tether"], "usd")
    full = {"usd": 1.0, "usd_market_cap": 2.0, "usd_24h_vol": 3.0, "usd_24h_change": 0.1, "last_updated_at": 10}
    no_time = {k: v for k, v in full.items() if k != "last_updated_at"}
    no_volume = {k: v for k, v in full.items() if k != "usd_24h_vol"}
    result = _parse(request, {"bitcoin": full, "ethereum": no_time, "tether": no_volume})
    table = result.tables["simple_price"]
    assert table.column("coin_id").to_pylist() == ["bitcoin", "tether"]
    assert table.column("vol_24h").to_pylist() == [3.0, None]
    assert _reasons(result) == ["missing required: last_updated_at"]
    assert result.problem == "missing required: last_updated_at (1 record); missing: usd_24h_vol (1 record)"


def test_simple_price_that_did_not_ask_for_the_time_lands_without_it() -> None:
    """A request without ``include_last_updated_at`` (the recorded bodies): the row lands, time null;
    silver.live_prices cannot key it and counts it as filtered."""
    result = parse(ApiRequest("simple_price", "/simple/price"), b'{"bitcoin":{"usd":49253}}', LINEAGE)
    assert result.outcome == "ok"
    assert result.tables["simple_price"].column("last_updated_at").to_pylist() == [None]


def test_simple_price_derived_fields_without_their_price_are_drift() -> None:
    result = parse(ApiRequest("simple_price", "/simple/price"), b'{"bitcoin":{"usd_market_cap":5}}', LINEAGE)
    assert result.tables["simple_price"].num_rows == 0
    assert _reasons(result) == ["missing required: usd"]


@pytest.mark.parametrize(
    ("request_", "body", "reason"),
    [
        (ep.coins_list(), [{"id": "a", "symbol": "a", "name": "A"}, {"id": "b", "symbol": "b"}], "name"),
        (ep.categories(), [{"id": "defi", "name": "DeFi", "market_cap": 1.0}], "updated_at"),
    ],
    ids=["coins_list", "categories"],
)
def test_reference_records_without_a_key_or_their_value_are_quarantined(
    request_: ApiRequest, body: list[dict[str, Any]], reason: str
) -> None:
    result = _parse(request_, body)
    assert result.ok and result.outcome == "incomplete"
    assert _reasons(result) == [f"missing required: {reason}"]


def test_global_without_its_time_is_quarantined() -> None:
    data = orjson.loads((RECORDED / "global" / "jkorf_2025-04-07.json").read_bytes())
    del data["data"]["updated_at"]
    result = _parse(ep.global_market(), data)
    assert result.tables["global_market"].num_rows == 0
    assert _reasons(result) == ["missing required: updated_at"]


@pytest.mark.parametrize(
    ("request_", "body", "outcome", "problem"),
    [
        (CHART, _chart(), "quarantined", "missing required: total_volumes"),
        (
            ep.simple_price(["bitcoin"], "usd"),
            {
                "bitcoin": {
                    "usd": 1.0,
                    "usd_market_cap": 2.0,
                    "usd_24h_vol": 3.0,
                    "usd_24h_change": 0.1,
                    "last_updated_at": 9,
                }
            },
            "incomplete",
            "missing required: last_updated_at (1 record)",
        ),
        (
            ep.global_market(),
            orjson.loads((RECORDED / "global" / "jkorf_2025-04-07.json").read_bytes()),
            "incomplete",
            "missing required: updated_at (1 record)",
        ),
        (ep.coins_list(), [{"id": "a", "symbol": "a", "name": "A"}], "incomplete", "missing required: name (1 record)"),
    ],
    ids=["chart", "simple_price", "global", "coins_list"],
)
def test_the_simulators_missing_field_drift_is_caught(
    request_: ApiRequest, body: Any, outcome: str, problem: str
) -> None:
    """``--faults drift`` drops the last field of the body's first record: never taken for an answer."""
    result = parse(request_, drift(orjson.dumps(body), 1), LINEAGE)
    assert (result.outcome, result.problem) == (outcome, problem)
