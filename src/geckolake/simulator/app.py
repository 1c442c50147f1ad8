"""The Starlette app: routing, API keys, rate limit, latency, faults, body cache and /__stats.

Request flow under ``/api/v3``: stats → key check → rate limit → route (or fixture) →
latency → fault → handler (cached per simulated minute or second) → reply.
``/__stats`` and ``/__reset`` live at the server root and skip all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from geckolake.simulator import endpoints_charts as charts
from geckolake.simulator import endpoints_coins as coins
from geckolake.simulator import endpoints_misc as misc
from geckolake.simulator.config import SimulatorConfig
from geckolake.simulator.context import Request, Sim
from geckolake.simulator.faults import MALFORMED, FaultPlan, drift
from geckolake.simulator.fixtures import KEY_PARAMS, fixture_missing, load_fixture
from geckolake.simulator.ratelimit import RateLimiter
from geckolake.simulator.replies import (
    JSON,
    ApiFailure,
    Reply,
    key_missing,
    key_wrong,
    not_found_path,
    rate_limited,
)

Handler = Callable[[Sim, Request], Reply]


@dataclass(frozen=True)
class Endpoint:
    name: str
    pattern: re.Pattern[str]
    handler: Handler
    per_minute: bool  # body depends only on the minute bucket → cache per simulated minute


def _ep(template: str, handler: Handler, per_minute: bool) -> Endpoint:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
    return Endpoint(template, re.compile(regex), handler, per_minute)


ENDPOINTS: tuple[Endpoint, ...] = (
    _ep("/ping", misc.ping, True),
    _ep("/coins/list", coins.coins_list, True),
    _ep("/coins/markets", coins.coins_markets, True),
    _ep("/coins/categories/list", misc.categories_list, True),
    _ep("/coins/categories", misc.categories, True),
    _ep("/coins/{id}/market_chart/range", charts.market_chart_range, False),
    _ep("/coins/{id}/market_chart", charts.market_chart, False),
    _ep("/coins/{id}/ohlc/range", charts.ohlc_range, False),
    _ep("/coins/{id}/ohlc", charts.ohlc, False),
    _ep("/coins/{id}/history", coins.coin_history, False),
    _ep("/simple/price", coins.simple_price, True),
    _ep("/global", misc.global_, True),
    _ep("/search/trending", misc.trending, True),
    _ep("/exchanges", misc.exchanges, True),
)
CACHE_BYTES = 128 * 1024 * 1024


class TruncatedResponse(Response):
    """Announces the full Content-Length, sends half the bytes, then stops: a body cut short."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", JSON.encode()), (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


class SimulatorApp:
    """Owns the state behind the ASGI app; one per server."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self.sim = Sim(cfg)
        self.limiter = RateLimiter(cfg.effective_rate_per_min, cfg.rate_window_s)
        self.faults = FaultPlan(cfg.fault_rates, cfg.seed)
        self.stats: Counter[tuple[str, int]] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.seq = 0
        self._cache: OrderedDict[tuple[object, ...], Reply] = OrderedDict()
        self._cache_bytes = 0
        self.shutdown = asyncio.Event()

    # -- admin -----------------------------------------------------------------------------------
    async def stats_view(self, request: HttpRequest) -> Response:
        endpoints: dict[str, dict[str, int]] = {}
        for (name, status), count in sorted(self.stats.items()):
            endpoints.setdefault(name, {})[str(status)] = count
        body = {"total": sum(self.stats.values()), "endpoints": endpoints, "faults": dict(self.fault_counts)}
        return Response(orjson.dumps(body), media_type=JSON)

    async def reset_view(self, request: HttpRequest) -> Response:
        self.stats.clear()
        self.fault_counts.clear()
        self.limiter.reset()
        self.seq = 0
        return Response(orjson.dumps({"reset": True}), media_type=JSON)

    # -- API -------------------------------------------------------------------------------------
    async def api_view(self, request: HttpRequest) -> Response:
        path = "/" + request.path_params["path"]
        pairs = [(k, v) for k, v in request.query_params.multi_items()]
        match = self._match(path)
        name = match[0].name if match else ("fixture" if self.cfg.fixtures else "unknown")
        reply, fault = await self._answer(request, path, pairs, match)
        self.stats[(name, reply.status)] += 1
        headers = dict(reply.headers)
        if reply.cache_s and reply.status == 200:
            headers.setdefault("cache-control", f"public, max-age={reply.cache_s}")
        if fault == "truncated":
            return TruncatedResponse(reply.body, status_code=reply.status)
        return Response(reply.body, status_code=reply.status, headers=headers, media_type=JSON)

    def _match(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        for ep in ENDPOINTS:
            m = ep.pattern.match(path)
            if m:
                return ep, m.groupdict()
        return None

    def _auth(self, request: HttpRequest) -> ApiFailure | None:
        key = self.cfg.api_key
        if key is None:
            return None
        header, param = (
            ("x-cg-pro-api-key", "x_cg_pro_api_key")
            if self.cfg.rules.paid
            else ("x-cg-demo-api-key", "x_cg_demo_api_key")
        )
        sent = request.headers.get(header) or request.query_params.get(param)
        if not sent:
            return key_missing()
        return None if sent == key else key_wrong()

    async def _answer(
        self,
        request: HttpRequest,
        path: str,
        pairs: list[tuple[str, str]],
        match: tuple[Endpoint, dict[str, str]] | None,
    ) -> tuple[Reply, str | None]:
        failure = self._auth(request)
        if failure is not None:
            return failure.reply, None
        allowed, rl_headers = self.limiter.check()
        if not allowed:
            return rate_limited(rl_headers), None
        if self.cfg.latency_ms > 0:
            await asyncio.sleep(self.cfg.latency_ms / 1000)
        fault = None
        if self.faults.active and path != "/ping":
            fault = self.faults.kind_for(self.seq)
            self.seq += 1
        if fault is not None:
            self.fault_counts[fault] += 1
        if fault == "500":
            return Reply(500, b'{"status":500,"error":"Internal Server Error"}', rl_headers), fault
        if fault == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shutdown.wait(), timeout=self.cfg.timeout_s)
        if fault == "malformed":
            return Reply(200, MALFORMED, rl_headers), fault
        reply = self._compute(path, pairs, match)
        reply.headers.update(rl_headers)
        if fault == "drift" and reply.status == 200:
            reply = Reply(200, drift(reply.body, self.seq), reply.headers, reply.cache_s)
        return reply, fault

    def _compute(self, path: str, pairs: list[tuple[str, str]], match: tuple[Endpoint, dict[str, str]] | None) -> Reply:
        if self.cfg.fixtures is not None:
            found = load_fixture(self.cfg.fixtures, path, pairs)
            return found if found is not None else fixture_missing(path)
        if match is None:
            return not_found_path()
        ep, params = match
        now_s = self.sim.now_s()
        query = {k: v for k, v in pairs if k not in KEY_PARAMS}
        time_key = self.sim.market.live_s(now_s) if ep.per_minute else now_s
        key = (path, tuple(sorted(query.items())), time_key)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return Reply(200, cached.body, cache_s=cached.cache_s)
        try:
            reply = ep.handler(self.sim, Request(params, query, now_s))
        except ApiFailure as exc:
            return Reply(exc.reply.status, exc.reply.body, dict(exc.reply.headers))
        if reply.status == 200:
            self._store(key, reply)
        return Reply(reply.status, reply.body, dict(reply.headers), reply.cache_s)

    def _store(self, key: tuple[object, ...], reply: Reply) -> None:
        self._cache[key] = reply
        self._cache_bytes += len(reply.body)
        while self._cache_bytes > CACHE_BYTES and self._cache:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= len(old.body)


def create_app(cfg: SimulatorConfig) -> Starlette:
    """Build the ASGI app for ``cfg`` (the state object is at ``app.state.simulator``)."""
    state = SimulatorApp(cfg)
    app = Starlette(
        routes=[
            Route("/__stats", state.stats_view, methods=["GET"]),
            Route("/__reset", state.reset_view, methods=["POST"]),
            Route("/api/v3/{path:path}", state.api_view, methods=["GET"]),
        ]
    )
    app.state.simulator = state
    return app
