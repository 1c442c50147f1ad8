"""Client behaviour over httpx.MockTransport, on a virtual clock (no sockets, no real waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from virtual_time import VirtualTime

from geckolake.api import endpoints
from geckolake.api.client import ClientStats, CoinGeckoClient
from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.api.plans import PLANS
from geckolake.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    ConfigError,
    FetchFailed,
    GeckolakeError,
    NetworkError,
    NotFound,
)

KEY = "CG-unitTestKey-5555666677"
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, vt: VirtualTime, plan: str = "demo", key: str | None = KEY, **kw: object) -> CoinGeckoClient:
    return CoinGeckoClient(
        "https://example.test/api/v3",
        PLANS[plan],
        key,
        transport=httpx.MockTransport(handler),
        sleep=vt.sleep,
        clock=vt.clock,
        **kw,  # type: ignore[arg-type]
    )


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if queue else httpx.Response(200, json={"ok": True})
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def fetch(client: CoinGeckoClient, vt: VirtualTime, req: ApiRequest | None = None) -> ApiResponse:
    async def go() -> ApiResponse:
        async with client:
            return await client.fetch(req or endpoints.global_market())

    return vt.run(go())


def test_headers_and_url() -> None:
    vt = VirtualTime()
    handler, seen = sequence()
    fetch(make(handler, vt, plan="pro"), vt, endpoints.simple_price(["bitcoin", "ethereum"], "usd"))
    request = seen[0]
    assert request.headers["x-cg-pro-api-key"] == KEY
    assert "x-cg-demo-api-key" not in request.headers
    assert request.headers["user-agent"].startswith("geckolake/")
    assert KEY not in str(request.url)
    assert request.url.path == "/api/v3/simple/price"
    assert request.url.params["ids"] == "bitcoin,ethereum"


def test_public_plan_sends_no_key_header() -> None:
    vt = VirtualTime()
    handler, seen = sequence()
    fetch(make(handler, vt, plan="public", key=None), vt)
    assert not any("api-key" in name for name in seen[0].headers)


def test_rate_defaults_to_plan_and_can_be_overridden() -> None:
    vt = VirtualTime()
    handler, _ = sequence()
    assert make(handler, vt, plan="demo").limiter.target_rate_per_min == 30
    assert make(handler, vt, plan="demo", rate_per_min=600).limiter.target_rate_per_min == 600


def test_429_waits_retry_after_in_the_limiter() -> None:
    vt = VirtualTime()
    handler, seen = sequence(httpx.Response(429, headers={"retry-after": "30"}, json={"status": {"error_code": 429}}))
    client = make(handler, vt, rate_per_min=600)
    resp = fetch(client, vt)
    assert resp.attempts == 2 and len(seen) == 2
    assert vt.now >= 30.0
    assert client.stats.rate_limited == 1 and client.stats.retries == 1 and client.stats.calls == 2
    assert client.limiter.rate_per_min < 600


def test_429_without_hint_uses_rate_limited_backoff() -> None:
    vt = VirtualTime()
    handler, _ = sequence(httpx.Response(429, text="<html><title>Too Many Requests</title></html>"))
    client = make(handler, vt, rate_per_min=600)
    fetch(client, vt)
    assert vt.now == pytest.approx(client.policy.rate_limited_backoff(1), abs=0.2)


def test_retries_network_errors_with_bounded_backoff_then_gives_up() -> None:
    vt = VirtualTime()
    errors = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")] * 2
    handler, seen = sequence(*errors)
    client = make(handler, vt, rate_per_min=60_000, max_attempts=6)
    with pytest.raises(FetchFailed) as info:
        fetch(client, vt)
    assert info.value.attempts == 6 and len(seen) == 6
    assert "RemoteProtocolError" in info.value.cause
    assert client.stats.timeouts == 2 and client.stats.retries == 5 and client.stats.failed == 1
    backoffs = [s for s in vt.sleeps if s > 0.01]  # limiter gaps are ~1 ms at this rate
    assert all(s <= client.policy.cap_s for s in backoffs)


def test_short_body_without_transport_error_is_retried() -> None:
    vt = VirtualTime()
    short = httpx.Response(200, content=b'{"a"', headers={"content-length": "100"})
    handler, _ = sequence(short)
    assert fetch(make(handler, vt), vt).attempts == 2


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (
            401,
            {"status": {"error_code": 10002, "error_message": "API Key Missing"}},
            AuthError,
            "COINGECKO_DEMO_API_KEY",
        ),
        (400, {"status": {"error_code": 10002, "error_message": "API Key Missing"}}, AuthError, "base URL"),
        (403, {"status": {"error_code": 10005, "error_message": "paid only"}}, AuthError, "paid plan"),
        (
            403,
            "<html><title>Access denied | api.coingecko.com</title>Error code: 1020</html>",
            AuthError,
            "1020",
        ),
        (404, {"error": "coin not found"}, NotFound, "coin not found"),
        (422, {"error": "Missing parameter vs_currency"}, ApiError, "Missing parameter vs_currency"),
        (400, {"error": {"status": {"error_message": "invalid vs_currency"}}}, ApiError, "400"),
        (418, b"", ApiError, "empty body"),
    ],
)
def test_terminal_errors(status: int, body: object, error: type[ApiError], fragment: str) -> None:
    vt = VirtualTime()
    if isinstance(body, bytes):
        response = httpx.Response(status, content=body)
    elif isinstance(body, str):
        response = httpx.Response(status, text=body)
    else:
        response = httpx.Response(status, json=body)
    handler, seen = sequence(response)
    client = make(handler, vt)
    req = endpoints.market_chart_range("bitcoin", "usd", 1, 2, "daily")
    with pytest.raises(error) as info:
        fetch(client, vt, req)
    assert type(info.value) is error
    assert fragment in str(info.value)
    assert info.value.status == status and info.value.endpoint == "market_chart_range"
    assert info.value.coin_id == "bitcoin"
    assert len(seen) == 1 and client.stats.failed == 1


def test_missing_key_hint() -> None:
    vt = VirtualTime()
    handler, _ = sequence(httpx.Response(401, json={"status": {"error_code": 10002, "error_message": "x"}}))
    with pytest.raises(AuthError, match="no API key is set"):
        fetch(make(handler, vt, key=None), vt)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json={"status": {"error_code": 10002, "error_message": f"wrong key {KEY}"}}),
        httpx.Response(404, json={"error": f"not found {KEY}"}),
        httpx.Response(400, text=f"bad request for {KEY}"),
    ],
)
def test_errors_never_contain_the_key(response: httpx.Response) -> None:
    vt = VirtualTime()
    handler, _ = sequence(response)
    with pytest.raises(ApiError) as info:
        fetch(make(handler, vt), vt)
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in info.value.hint


def test_fetch_failed_cause_never_contains_the_key() -> None:
    vt = VirtualTime()
    handler, _ = sequence(*[httpx.ConnectError(f"refused {KEY}")] * 3)
    with pytest.raises(FetchFailed) as info:
        fetch(make(handler, vt, max_attempts=3), vt)
    assert KEY not in str(info.value) and KEY not in info.value.cause


def test_fetch_all_bounded_concurrency_and_results() -> None:
    vt = VirtualTime()
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await vt.sleep(5.0)  # slow server: many requests overlap
        in_flight -= 1
        if request.url.params["page"] == "3":
            return httpx.Response(404, json={"error": "nope"})
        return httpx.Response(200, json={"page": request.url.params["page"]})

    results: dict[str, ApiResponse | GeckolakeError] = {}

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        results[req.params_dict["page"]] = result

    client = CoinGeckoClient(
        "https://example.test/api/v3",
        PLANS["pro"],
        KEY,
        concurrency=4,
        transport=httpx.MockTransport(handler),
        sleep=vt.sleep,
        clock=vt.clock,
    )

    async def go() -> None:
        async with client:
            await client.fetch_all((endpoints.markets("usd", p) for p in range(1, 21)), on_result)

    vt.run(go())
    assert len(results) == 20 and peak == 4
    assert isinstance(results["3"], NotFound)
    assert sum(isinstance(r, ApiResponse) for r in results.values()) == 19
    assert client.stats == ClientStats(calls=20, bytes_in=client.stats.bytes_in, failed=1)


def test_fetch_all_raises_auth_error_and_cancels_the_rest() -> None:
    vt = VirtualTime()
    handler, seen = sequence(httpx.Response(401, json={"status": {"error_code": 10002, "error_message": "bad"}}))
    called: list[object] = []

    async def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        called.append(result)

    client = make(handler, vt, concurrency=2, rate_per_min=60)

    async def go() -> None:
        async with client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 50)], on_result)

    with pytest.raises(AuthError):
        vt.run(go())
    assert len(seen) <= 2 and not any(isinstance(c, AuthError) for c in called)


def test_fetch_all_propagates_callback_bugs() -> None:
    vt = VirtualTime()
    handler, _ = sequence()

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        raise KeyError("bug in the caller")

    client = make(handler, vt, rate_per_min=6000)

    async def go() -> None:
        async with client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 5)], on_result)

    with pytest.raises(KeyError):
        vt.run(go())


def test_invalid_concurrency() -> None:
    with pytest.raises(ValueError):
        CoinGeckoClient("http://x", PLANS["public"], concurrency=0)


def test_cancellation_of_fetch_all_cancels_workers() -> None:
    vt = VirtualTime()
    handler, _ = sequence()
    client = make(handler, vt, rate_per_min=1)  # one call a minute: the rest wait in the limiter

    async def go() -> None:
        async with client:
            task = asyncio.ensure_future(client.fetch_all([endpoints.global_market()] * 5, lambda r, x: None))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    vt.run(go())
    assert client.stats.calls <= 1


def test_fetch_failed_carries_the_last_transient_error_as_its_cause() -> None:
    vt = VirtualTime()
    handler, _ = sequence(
        httpx.Response(503, json={"error": "busy"}),
        httpx.ReadTimeout("hung"),
        httpx.RemoteProtocolError("cut short"),
    )
    with pytest.raises(FetchFailed) as info:
        fetch(make(handler, vt, rate_per_min=60_000, max_attempts=3), vt)
    cause = info.value.__cause__
    assert isinstance(cause, NetworkError) and not cause.connect and not cause.timeout
    assert info.value.last_error is cause and cause.endpoint == "global"
    assert isinstance(cause.__cause__, httpx.RemoteProtocolError)  # translated at the boundary


def test_read_timeouts_are_retried_but_never_trip_the_breaker() -> None:
    vt = VirtualTime()
    handler, seen = sequence(*[httpx.ReadTimeout("hung")] * 30)
    results: list[object] = []
    client = make(handler, vt, rate_per_min=60_000, max_attempts=6)

    async def go() -> None:
        async with client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 4)], lambda r, x: results.append(x))

    vt.run(go())
    assert len(seen) == 18 and not client.breaker.tripped
    assert all(isinstance(r, FetchFailed) for r in results) and len(results) == 3


def test_an_answer_between_connection_failures_keeps_the_breaker_closed() -> None:
    vt = VirtualTime()
    refused = httpx.ConnectError("refused")
    handler, _ = sequence(*[refused] * 4, httpx.Response(500, json={}), *[refused] * 4)
    client = make(handler, vt, rate_per_min=60_000, max_attempts=10)
    assert fetch(client, vt).attempts == 10 and not client.breaker.tripped


def unreachable_run(
    base_url: str, handler: Handler, n: int = 20, concurrency: int = 4, on_result: object = None
) -> tuple[CoinGeckoClient, list[ApiResponse | GeckolakeError], ApiUnreachable, VirtualTime]:
    vt = VirtualTime()
    delivered: list[ApiResponse | GeckolakeError] = []
    client = CoinGeckoClient(
        base_url,
        PLANS["demo"],
        KEY,
        concurrency=concurrency,
        transport=httpx.MockTransport(handler),
        sleep=vt.sleep,
        clock=vt.clock,
    )

    async def go() -> None:
        async with client:
            await client.fetch_all(
                [endpoints.markets("usd", p) for p in range(1, n + 1)],
                on_result or (lambda r, x: delivered.append(x)),  # type: ignore[arg-type]
            )

    with pytest.raises(ApiUnreachable) as info:
        vt.run(go())
    return client, delivered, info.value, vt


def test_five_connection_failures_in_a_row_stop_fetch_all_with_api_unreachable() -> None:
    handler, seen = sequence(*[httpx.ConnectError(f"refused {KEY}")] * 100)
    client, delivered, error, vt = unreachable_run("https://example.test:8443/api/v3?x_cg_demo_api_key=" + KEY, handler)
    assert len(seen) == 5 and client.stats.calls == 5 and client.stats.connect_failures == 5
    assert delivered == []  # no request is reported failed one by one
    assert vt.now < 5.0  # refused calls give their 2 s slots back: only the backoff is waited
    assert error.host == "example.test:8443" and error.failures == 5
    assert "example.test:8443" in str(error) and "network or the base URL" in str(error)
    assert "COINGECKO_BASE_URL" in error.hint and "geckolake demo" not in error.hint
    for text in (str(error), error.hint, repr(error.args)):
        assert KEY not in text and "x_cg_demo_api_key" not in text


def test_coingecko_unreachable_suggests_the_offline_demo() -> None:
    handler, _ = sequence(*[httpx.ConnectError("[Errno -3] Temporary failure in name resolution")] * 100)
    _, _, error, _ = unreachable_run("https://api.coingecko.com/api/v3", handler)
    assert error.host == "api.coingecko.com"
    assert "geckolake demo" in error.hint and "internet connection" in error.hint


def test_answers_received_before_the_breaker_trips_are_delivered_and_callbacks_finish() -> None:
    calls = 0
    finished: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 3:
            return httpx.Response(200, json={"page": request.url.params["page"]})
        raise httpx.ConnectError("refused")

    vt_holder: list[VirtualTime] = []

    async def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        assert isinstance(result, ApiResponse)
        await vt_holder[0].sleep(60.0)  # a slow commit, still running when the breaker trips
        finished.append(req.params_dict["page"])

    # The callback needs the run's clock: build the client by hand to share it.
    vt = VirtualTime()
    vt_holder.append(vt)
    client = CoinGeckoClient(
        "https://example.test/api/v3",
        PLANS["pro"],
        KEY,
        concurrency=4,
        transport=httpx.MockTransport(handler),
        sleep=vt.sleep,
        clock=vt.clock,
    )

    async def go() -> None:
        async with client:
            await client.fetch_all([endpoints.markets("usd", p) for p in range(1, 50)], on_result)

    with pytest.raises(ApiUnreachable):
        vt.run(go())
    assert sorted(finished) == ["1", "2", "3"]  # none cancelled halfway
    assert client.stats.calls == 3 + 5


def test_while_the_breaker_is_open_fetch_fails_fast_without_sending() -> None:
    handler, seen = sequence(*[httpx.ConnectError("refused")] * 100)
    client, _, _, vt = unreachable_run("https://example.test/api/v3", handler)
    sent = len(seen)

    async def again() -> None:
        await client.fetch(endpoints.global_market())

    with pytest.raises(ApiUnreachable) as info:
        vt.run(again())
    assert len(seen) == sent
    assert isinstance(info.value.__cause__, NetworkError) and info.value.__cause__.connect


def test_a_base_url_without_http_stops_fetch_all_with_a_config_error() -> None:
    vt = VirtualTime()
    client = CoinGeckoClient("localhost:8000/api/v3", PLANS["public"], sleep=vt.sleep, clock=vt.clock)
    delivered: list[object] = []

    async def go() -> None:
        async with client:
            await client.fetch_all([endpoints.global_market()] * 5, lambda r, x: delivered.append(x))

    with pytest.raises(ConfigError, match="not an http"):
        vt.run(go())
    assert delivered == [] and client.stats.calls == 1


def test_default_timeouts_are_sized_to_one_call() -> None:
    client = CoinGeckoClient("https://example.test/api/v3", PLANS["pro"])
    timeout = client._http.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (5.0, 10.0, 10.0, 10.0)
    custom = CoinGeckoClient("https://example.test/api/v3", PLANS["pro"], timeout_s=2.0, connect_timeout_s=1.0)
    assert (custom._http.timeout.connect, custom._http.timeout.read) == (1.0, 2.0)
