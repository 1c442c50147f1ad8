"""First contact and failure modes, over real HTTP: a closed port, an API that dies mid-run, a hung
call, a server whose rate limit is far below the configured one (the simulator, no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from geckolake.api import endpoints
from geckolake.api.client import CoinGeckoClient
from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.api.plans import PLANS
from geckolake.api.retry import RetryPolicy
from geckolake.errors import ApiUnreachable, FetchFailed, GeckolakeError, NetworkError
from geckolake.simulator import SimulatorConfig, running_simulator

KEY = "CG-secretFailureKey-9876543210"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def pages(n: int) -> list[ApiRequest]:
    return [endpoints.markets("usd", page % 3 + 1, per_page=20) for page in range(n)]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_closed_port_gives_api_unreachable_within_seconds_naming_the_host_not_the_key(concurrency: int) -> None:
    port = closed_port()
    delivered: list[object] = []

    async def go() -> None:
        # Default timeouts, retry policy and breaker: what a first `geckolake run` meets.
        async with CoinGeckoClient(
            f"http://127.0.0.1:{port}/api/v3", PLANS["demo"], KEY, concurrency=concurrency
        ) as client:
            await client.fetch_all(pages(50), lambda req, result: delivered.append(result))

    started = time.monotonic()
    with pytest.raises(ApiUnreachable) as info:
        asyncio.run(go())
    elapsed = time.monotonic() - started
    error = info.value
    # Refused connections are instant and give their rate-limit slot back: the retries' backoff is
    # all the wait (at most 0.5 + 1 + 2 + 4 s with one request in flight, milliseconds with eight).
    assert elapsed < (10.0 if concurrency == 1 else 3.0)
    assert delivered == []
    assert f"127.0.0.1:{port}" in str(error) and error.host == f"127.0.0.1:{port}"
    assert "network or the base URL" in str(error)
    assert "COINGECKO_BASE_URL" in error.hint
    assert KEY not in str(error) and KEY not in error.hint and KEY not in repr(error.args)
    assert isinstance(error.__cause__, NetworkError) and error.__cause__.connect


def test_an_api_that_dies_mid_run_ends_fetch_all_quickly_after_delivering_what_arrived() -> None:
    stack = contextlib.ExitStack()
    url = stack.enter_context(running_simulator(SimulatorConfig(port=0, coins=50, plan="unlimited")))
    delivered: list[ApiResponse | GeckolakeError] = []
    ten_in = asyncio.Event()
    stopped_at: list[float] = []

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        delivered.append(result)
        if len(delivered) == 10:
            ten_in.set()

    async def kill_the_api() -> None:
        await ten_in.wait()
        stopped_at.append(time.monotonic())
        await asyncio.to_thread(stack.close)

    async def go() -> None:
        async with CoinGeckoClient(url, PLANS["pro"], KEY, rate_per_min=600, concurrency=4) as client:
            killer = asyncio.create_task(kill_the_api())
            try:
                await client.fetch_all(pages(300), on_result)  # 30 s of calls at 600/min
            finally:
                await killer

    try:
        with pytest.raises(ApiUnreachable) as info:
            asyncio.run(go())
    finally:
        stack.close()
    gave_up_after = time.monotonic() - stopped_at[0]
    assert gave_up_after < 30.0  # typically ~1 s: graceful shutdown, then refused connections
    assert len(delivered) >= 10
    assert all(isinstance(result, ApiResponse) for result in delivered)  # nothing lost or mislabelled
    assert info.value.host in url and KEY not in str(info.value)


def test_a_hung_call_costs_about_the_read_timeout() -> None:
    cfg = SimulatorConfig(port=0, coins=50, plan="unlimited", faults="timeout=1.0")  # every call hangs 35 s
    read_timeout = 0.5
    with running_simulator(cfg) as url:

        async def go() -> CoinGeckoClient:
            async with CoinGeckoClient(
                url, PLANS["pro"], KEY, timeout_s=read_timeout, retry_policy=RetryPolicy(max_attempts=1)
            ) as client:
                await client.fetch(endpoints.global_market())
            return client

        started = time.monotonic()
        with pytest.raises(FetchFailed) as info:
            asyncio.run(go())
        elapsed = time.monotonic() - started
    assert read_timeout <= elapsed < 3 * read_timeout
    cause = info.value.__cause__
    assert isinstance(cause, NetworkError) and cause.timeout and not cause.connect
    assert info.value.last_error is cause and "timeout" in info.value.cause


def test_429s_stay_under_5_percent_when_the_server_allows_far_less_than_configured() -> None:
    # The server allows 30 calls per window (a 6 s window here instead of CoinGecko's minute, so
    # 70 calls span several windows in seconds); the client is configured for 60,000/min.
    cfg = SimulatorConfig(port=0, coins=50, plan="pro", rate_per_min=30, rate_window_s=6.0)
    ok = 0

    def on_result(req: ApiRequest, result: ApiResponse | GeckolakeError) -> None:
        nonlocal ok
        ok += isinstance(result, ApiResponse)

    with running_simulator(cfg) as url:

        async def go() -> CoinGeckoClient:
            async with CoinGeckoClient(url, PLANS["pro"], KEY, rate_per_min=60_000) as client:
                await client.fetch_all(pages(70), on_result)
            return client

        started = time.monotonic()
        client = asyncio.run(go())
        elapsed = time.monotonic() - started
    assert ok == 70
    assert client.stats.rate_limited <= 0.05 * client.stats.calls
    assert elapsed < 60.0  # 3 windows of 6 s, plus a second of margin each
