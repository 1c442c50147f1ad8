"""Every real recorded body of the endpoints the pipeline ingests goes through the simulator's
fixture mode (real HTTP, our client) into bronze and silver with nothing lost (issue 3, point 9)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
from tests.coingecko_data import RECORDED

from geckolake.api.client import CoinGeckoClient
from geckolake.api.endpoints import ApiRequest
from geckolake.api.plans import get_plan
from geckolake.lake.catalog import open_lake
from geckolake.lake.lineage import Lineage
from geckolake.lake.query import run_query
from geckolake.simulator import SimulatorConfig, build_fixtures_dir, running_simulator
from geckolake.simulator.fixtures import recorded_requests
from geckolake.transform.bronze import parse
from geckolake.transform.runner import apply_batch

INGESTED = {
    "coins_markets": "coins_markets",
    "market_chart": "market_chart",
    "global": "global",
    "categories": "categories",
    "trending": "trending",
    "coins_list": "coins_list",
}


def _entries() -> list[tuple[str, str]]:
    return [(rel, req) for rel, req, status in recorded_requests(RECORDED) if rel.split("/")[0] in INGESTED]


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    dest = tmp_path_factory.mktemp("fixtures")
    entries = build_fixtures_dir(dest, RECORDED)
    by_source = {e.source: e.request for e in entries}
    with running_simulator(SimulatorConfig(port=0, fixtures=dest, plan="unlimited")) as url:
        yield url, by_source


def _api_request(folder: str, request: str) -> ApiRequest:
    parts = urlsplit(request)
    params = tuple(parse_qsl(parts.query))
    q = dict(params)
    segments = parts.path.strip("/").split("/")
    coin = segments[1] if folder == "market_chart" else None
    endpoint = {"market_chart": "market_chart", "global": "global"}.get(folder, folder)
    return ApiRequest(endpoint, parts.path, params, coin_id=coin, vs_currency=q.get("vs_currency"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("rel", "request_path"), _entries(), ids=[e[0] for e in _entries()])
def test_recorded_body_reaches_silver_intact(
    rel: str, request_path: str, fixture_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, by_source = fixture_server
    folder = rel.split("/")[0]
    req = _api_request(folder, by_source.get(rel, request_path))

    async def fetch() -> bytes:
        async with CoinGeckoClient(url, get_plan("pro"), None, rate_per_min=60_000) as client:
            return (await client.fetch(req)).body

    body = asyncio.run(fetch())
    assert body == (RECORDED / rel).read_bytes()  # byte-exact through real HTTP
    lineage = Lineage("run-rec", datetime(2026, 1, 1, tzinfo=UTC), "0" * 64, f"raw/{rel}")
    parsed = parse(req, body, lineage)
    assert parsed.ok
    assert parsed.quarantine is None or parsed.quarantine.num_rows == 0
    lake = open_lake(tmp_path / "lake")
    apply_batch(lake, {k: v for k, v in parsed.tables.items() if v.num_rows}, None)
    data = orjson.loads(body)

    def one(sql: str) -> object:
        return run_query(lake, sql)[1][0][0]

    if folder == "coins_markets":
        assert one("SELECT count(*) FROM silver.market_snapshots") == len({(c["id"], c["last_updated"]) for c in data})
        first = data[0]
        price = one(f"SELECT current_price FROM silver.market_snapshots WHERE coin_id = '{first['id']}'")
        assert price == pytest.approx(float(first["current_price"]))
    elif folder == "market_chart":
        points = {ts for ts, _ in data["prices"]}
        n = one("SELECT count(*) FROM silver.price_history")
        assert n == len(points) or n == len({ts for ts in points if ts % 86_400_000 == 0})
        last_ts, last_price = data["prices"][-2]
        got = one(f"SELECT price FROM silver.price_history WHERE epoch_ms(ts) = {last_ts}")
        assert got == pytest.approx(float(last_price))
    elif folder == "global":
        cap = one("SELECT total_market_cap_usd FROM silver.global_market")
        assert cap == pytest.approx(float(data["data"]["total_market_cap"]["usd"]))
    elif folder == "categories":
        assert one("SELECT count(*) FROM silver.categories") == len({c["id"] for c in data})
    elif folder == "trending":
        expected = len(data["coins"]) + len(data.get("nfts", [])) + len(data.get("categories", []))
        assert one("SELECT count(*) FROM bronze.trending") == expected
        assert one("SELECT count(*) FROM silver.trending") == expected
    elif folder == "coins_list":
        assert one("SELECT count(*) FROM silver.coins") == len({c["id"] for c in data})
