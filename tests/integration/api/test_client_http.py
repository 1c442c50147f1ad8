"""The client over real HTTP against the scripted local server (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from scripted_server import Reply, ScriptedServer

from geckolake import __version__
from geckolake.api import endpoints
from geckolake.api.client import CoinGeckoClient
from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.api.plans import PLANS
from geckolake.api.retry import RetryPolicy
from geckolake.errors import ApiError, AuthError, FetchFailed, GeckolakeError, NotFound

KEY = "CG-secretTestKey-0123456789"
# Fast retries and a high rate so fault tests take milliseconds, not the real backoff.
FAST = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.05, rate_limited_base_s=0.05)

T = TypeVar("T")


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def client_for(server: ScriptedServer, **kwargs: object) -> CoinGeckoClient:
    options: dict[str, object] = {"rate_per_min": 60_000, "retry_policy": FAST, "timeout_s": 5.0}
    options.update(kwargs)
    return CoinGeckoClient(server.base_url, PLANS["demo"], KEY, **options)  # type: ignore[arg-type]


def fetch_one(server: ScriptedServer, req: ApiRequest, **kwargs: object) -> tuple[ApiResponse, CoinGeckoClient]:
    async def go() -> tuple[ApiResponse, CoinGeckoClient]:
        async with client_for(server, **kwargs) as client:
            return await client.fetch(req), client

    return run(go)


def test_success_keeps_body_exact_and_sends_key_only_in_header(server: ScriptedServer) -> None:
    body = b'{"prices": [[1700000000000, 1.5e4]], "x": "\xc3\xa9"}'
    server.script("/global", Reply(200, body, {"etag": "abc", "set-cookie": "s=1"}))
    resp, client = fetch_one(server, endpoints.global_market())
    assert resp.body == body
    assert resp.status == 200 and resp.attempts == 1
    assert resp.fetched_at.tzinfo is not None and resp.elapsed_ms >= 0
    assert resp.headers["etag"] == "abc" and "set-cookie" not in resp.headers
    seen = server.requests[-1]
    assert seen.headers["x-cg-demo-api-key"] == KEY
    assert seen.headers["user-agent"] == f"geckolake/{__version__}"
    assert KEY not in seen.url
    assert client.stats.calls == 1 and client.stats.bytes_in == len(body)


def test_params_and_base_path_are_kept(server: ScriptedServer) -> None:
    req = endpoints.market_chart_range("avalanche-2", "usd", 1, 2, "daily")
    resp, _ = fetch_one(server, req)
    seen = server.requests[-1]
    assert seen.path == "/api/v3/coins/avalanche-2/market_chart/range"
    assert seen.query == "vs_currency=usd&from=1&to=2&interval=daily"
    assert json.loads(resp.body)["path"] == seen.path


def test_429_with_retry_after_waits_and_slows_down(server: ScriptedServer) -> None:
    server.script(
        "/global",
        Reply(429, {"status": {"error_code": 429, "error_message": "Rate limit"}}, {"retry-after": "1"}),
    )
    t0 = time.monotonic()
    resp, client = fetch_one(server, endpoints.global_market())
    waited = time.monotonic() - t0
    assert resp.attempts == 2
    assert waited >= 0.9  # honoured retry-after: 1
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    assert client.limiter.rate_per_min < 60_000  # slowed down, then recovering


def test_html_429_from_the_cdn_is_retried(server: ScriptedServer) -> None:
    html = "<html><head><title>429 Too Many Requests</title></head><body>cloudflare</body></html>"
    server.script("/global", Reply(429, html), Reply(429, html))
    resp, client = fetch_one(server, endpoints.global_market())
    assert resp.attempts == 3 and client.stats.rate_limited == 2


def test_500s_then_200(server: ScriptedServer) -> None:
    server.script("/global", Reply(500, {"status": 500, "error": "boom"}), Reply(503, b""))
    resp, client = fetch_one(server, endpoints.global_market())
    assert resp.attempts == 3
    assert client.stats.server_errors == 2 and client.stats.retries == 2 and client.stats.calls == 3


def test_truncated_body_is_retried(server: ScriptedServer) -> None:
    server.script("/global", Reply(200, b'{"data": {"cut": "here', truncate=True))
    resp, client = fetch_one(server, endpoints.global_market())
    assert resp.attempts == 2 and client.stats.retries == 1 and client.stats.server_errors == 0
    assert json.loads(resp.body)["ok"] is True


def test_slow_response_times_out_then_succeeds(server: ScriptedServer) -> None:
    server.script("/global", Reply(200, delay_s=1.0))
    resp, client = fetch_one(server, endpoints.global_market(), timeout_s=0.2)
    assert resp.attempts == 2 and client.stats.timeouts == 1


def test_persistent_failure_gives_fetch_failed(server: ScriptedServer) -> None:
    server.script("/global", *[Reply(500, {"error": f"boom {KEY}"})] * 4)
    with pytest.raises(FetchFailed) as info:
        fetch_one(server, endpoints.global_market())
    err = info.value
    assert err.attempts == 4 and err.endpoint == "global" and "HTTP 500" in err.cause
    assert KEY not in str(err) and KEY not in err.cause and KEY not in repr(err.args)


def test_401_wrong_key_is_auth_error_without_retry_or_key(server: ScriptedServer) -> None:
    body = {"status": {"error_code": 10002, "error_message": f"API Key Missing or wrong: {KEY}"}}
    server.script("/global", Reply(401, body))
    with pytest.raises(AuthError) as info:
        fetch_one(server, endpoints.global_market())
    text = str(info.value)
    assert KEY not in text
    assert "10002" in text and "COINGECKO_DEMO_API_KEY" in text and "COINGECKO_PRO_API_KEY" in text
    assert len(server.requests) == 1


def test_404_unknown_coin_is_not_found(server: ScriptedServer) -> None:
    req = endpoints.market_chart_range("no-such-coin", "usd", 1, 2, "daily")
    server.script("/coins/no-such-coin/market_chart/range", Reply(404, {"error": "coin not found"}))
    with pytest.raises(NotFound) as info:
        fetch_one(server, req)
    assert info.value.coin_id == "no-such-coin" and info.value.status == 404
    assert "coin not found" in str(info.value)
    assert len(server.requests) == 1


def test_other_4xx_is_api_error_with_message(server: ScriptedServer) -> None:
    server.script("/coins/markets", Reply(422, {"error": "Missing parameter vs_currency"}))
    with pytest.raises(ApiError) as info:
        fetch_one(server, endpoints.markets("usd", 1))
    assert type(info.value) is ApiError
    assert "Missing parameter vs_currency" in str(info.value) and info.value.status == 422


def test_fetch_all_reports_each_result_and_stops_on_auth_error(server: ScriptedServer) -> None:
    server.script("/coins/markets", Reply(404, {"error": "Incorrect path"}))
    results: list[tuple[ApiRequest, ApiResponse | GeckolakeError]] = []

    async def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        results.append((req, result))

    async def go() -> None:
        async with client_for(server, concurrency=3) as client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 11)], on_result)

    run(go)
    assert len(results) == 10
    assert sum(isinstance(r, NotFound) for _, r in results) == 1
    assert sum(isinstance(r, ApiResponse) for _, r in results) == 9

    server.reset()
    server.script("/coins/markets", Reply(401, {"status": {"error_code": 10002, "error_message": "bad"}}))
    seen: list[object] = []

    async def go_auth() -> None:
        async with client_for(server, concurrency=1) as client:
            await client.fetch_all((endpoints.markets("usd", p) for p in range(1, 101)), lambda r, x: seen.append(x))

    with pytest.raises(AuthError):
        run(go_auth)
    assert len(server.requests) < 5  # the rest were cancelled, not sent


def test_pacing_40_calls_at_600_per_min_gets_no_429(server: ScriptedServer) -> None:
    # 600/min enforced as at most 30 requests in any sliding 3-second window. (A window much shorter
    # than 60 s makes 40 calls meaningful; 3 s rather than 1 s leaves the 2 % safety margin worth
    # 60 ms, more than the scheduling jitter of a loaded CI machine, where client and server share a GIL.)
    server.enforce_rate(limit=30, window_s=3.0)
    ok = 0

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        nonlocal ok
        ok += isinstance(result, ApiResponse)

    async def go() -> CoinGeckoClient:
        async with CoinGeckoClient(server.base_url, PLANS["pro"], KEY, rate_per_min=600) as client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 41)], on_result)
            return client

    t0 = time.monotonic()
    client = run(go)
    elapsed = time.monotonic() - t0
    assert server.rejected == 0 and client.stats.rate_limited == 0
    assert ok == 40 and client.stats.calls == 40
    assert 3.5 <= elapsed <= 15.0  # 39 gaps of 60/(600·0.98) s ≈ 4 s


def test_the_rate_limited_server_does_reject_an_unpaced_burst(server: ScriptedServer) -> None:
    # Guards the test above against passing because the server enforces nothing.
    server.enforce_rate(limit=30, window_s=3.0)
    outcomes: list[object] = []

    async def go() -> None:
        async with client_for(server, rate_per_min=1e7, concurrency=40, max_attempts=1, retry_policy=None) as c:
            await c.fetch_all([endpoints.markets("usd", p) for p in range(1, 41)], lambda r, x: outcomes.append(x))

    run(go)
    assert server.rejected >= 5
    assert sum(isinstance(o, FetchFailed) for o in outcomes) == server.rejected


def test_logs_never_contain_the_key(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script("/global", Reply(500, {"error": f"echo {KEY}"}), Reply(401, {"error": f"bad key {KEY}"}))
    caplog.set_level(logging.DEBUG)
    from geckolake.api.redaction import install

    install(caplog.handler)
    with pytest.raises(AuthError):
        fetch_one(server, endpoints.global_market())
    assert caplog.records
    assert KEY not in caplog.text


def test_without_rate_headers_the_first_429_drops_the_rate_to_what_the_server_allows(server: ScriptedServer) -> None:
    # 300/min enforced as 10 calls per sliding 2 s, with retry-after but no x-ratelimit-* headers;
    # the client believes 60,000/min. Only the calls already in flight when the first 429 comes
    # back can be refused (at most `concurrency` of them); after it the client paces near 300/min.
    server.enforce_rate(limit=10, window_s=2.0)
    ok = 0

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        nonlocal ok
        ok += isinstance(result, ApiResponse)

    async def go() -> CoinGeckoClient:
        async with client_for(server, retry_policy=None, concurrency=4) as client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 61)], on_result)
            return client

    client = run(go)
    assert ok == 60
    assert 1 <= server.rejected == client.stats.rate_limited <= 4 + 1
    assert 150 <= client.limiter.rate_per_min <= 300
