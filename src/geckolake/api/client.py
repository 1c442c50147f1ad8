"""The rate-limited CoinGecko HTTP client.

One :class:`CoinGeckoClient` per run and plan. Every attempt goes through the same steps: take a
concurrency slot, wait for the shared :class:`~geckolake.api.limiter.RateLimiter` to allow a start,
send. A failed attempt raises one of our errors (httpx's are translated here, ``raise ... from e``),
and the policy in :mod:`geckolake.api.retry` decides what happens (the table there):

- 2xx → :class:`~geckolake.api.endpoints.ApiResponse`, body byte-exact;
- transient (429, 408, 5xx, timeouts, connection errors, bodies cut short) → ``RateLimited`` /
  ``ServerError`` / ``NetworkError`` internally, retried: a 429 pauses the limiter for
  ``retry-after`` and slows it down, the rest back off with full jitter;
- after ``max_attempts`` → :class:`~geckolake.errors.FetchFailed`, the last transient error as its
  ``__cause__``;
- terminal (401/403 and error codes 10002/10005/10010/10011 → ``AuthError``, 404 → ``NotFound``,
  other 4xx → ``ApiError``) → raised at once: the same request would get the same answer.

Connection-level failures (DNS, refused, TLS, connect timeout) also feed the
:class:`~geckolake.api.breaker.CircuitBreaker`: after ``breaker_failures`` in a row (5) across all
requests, the client raises :class:`~geckolake.errors.ApiUnreachable` and ``fetch_all`` stops, so a
dead host or a wrong base URL costs seconds, not every request's whole retry budget.

Timeouts are sized to the call, not to the worst case: ``connect_timeout_s`` (5 s) to open a
connection, ``timeout_s`` (10 s) for every read, write and pool wait. A large ``/market_chart``
body takes 1–2 s from CoinGecko, so 10 s is generous, and a hung call costs 10 s, not 30.

The API key travels only in the plan's header (never the URL), is registered for log redaction, and
is masked out of every error message this module builds; ``ApiUnreachable`` names only the host.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from geckolake.api.breaker import CircuitBreaker
from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.api.limiter import Clock, RateLimiter, Sleep
from geckolake.api.plans import PRO_BASE_URL, PUBLIC_BASE_URL, Plan
from geckolake.api.redaction import install as install_redaction
from geckolake.api.redaction import redact, register_secret
from geckolake.api.retry import (
    AUTH_ERROR_CODES,
    CDN_FIREWALL_CODE,
    RetryPolicy,
    error_class_for,
    error_for_exception,
    quota_from_headers,
    retry_after_from_headers,
)
from geckolake.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    ConfigError,
    FetchFailed,
    GeckolakeError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    TransientError,
)
from geckolake.version import __version__

__all__ = ["AUTH_ERROR_CODES", "CDN_FIREWALL_CODE", "ClientStats", "CoinGeckoClient", "ResultCallback"]

logger = logging.getLogger(__name__)

USER_AGENT = f"geckolake/{__version__}"

# Only these response headers are kept on ApiResponse (and so in manifests): an allow-list, so a
# header we have never seen cannot carry anything sensitive into the lake.
SAFE_HEADERS: frozenset[str] = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "date",
        "etag",
        "last-modified",
        "cache-control",
        "age",
        "expires",
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "cf-cache-status",
    }
)

# CoinGecko's own hosts: when they cannot be reached, the offline demo is the way to try geckolake.
COINGECKO_HOSTS: frozenset[str] = frozenset(httpx.URL(url).host for url in (PUBLIC_BASE_URL, PRO_BASE_URL))

# Errors every other request of a fetch_all would meet too: they stop it instead of being reported
# once per request.
_STOPS_FETCH_ALL = (AuthError, ApiUnreachable, ConfigError)

ResultCallback = Callable[[ApiRequest, "ApiResponse | GeckolakeError"], Awaitable[None] | None]


@dataclass
class ClientStats:
    """Counters for one client's lifetime (they feed ``ops.pipeline_runs``).

    ``calls`` counts HTTP requests sent (every attempt), ``retries`` the attempts after the first,
    ``failed`` the requests that ended in an error (given up after retries, or a terminal error).
    ``timeouts`` and ``connect_failures`` count attempts (a connect timeout is both).
    """

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    bytes_in: int = 0
    failed: int = 0
    connect_failures: int = 0


class CoinGeckoClient:
    """Fetches :class:`ApiRequest` s from CoinGecko (or the simulator) politely and robustly."""

    def __init__(
        self,
        base_url: str,
        plan: Plan,
        api_key: str | None = None,
        *,
        rate_per_min: float | None = None,
        concurrency: int = 8,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        max_attempts: int = 6,
        breaker_failures: int = 5,
        breaker_window_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        retry_policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Set up the connection pool, limiter, retry policy and circuit breaker.

        ``timeout_s`` is the read timeout (also used for writes and waiting for a pooled connection):
        how long one call may go without receiving a byte. ``connect_timeout_s`` bounds opening a
        connection (DNS, TCP, TLS). ``breaker_failures`` / ``breaker_window_s``: the circuit breaker
        (see :mod:`geckolake.api.breaker`). ``retry_policy`` overrides the default policy (its
        ``max_attempts`` wins over the argument).
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if timeout_s <= 0 or connect_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.base_url = base_url.rstrip("/")
        self.plan = plan
        self.concurrency = concurrency
        self.stats = ClientStats()
        self.policy = retry_policy or RetryPolicy(max_attempts=max_attempts)
        self.limiter = RateLimiter(rate_per_min or plan.rate_per_min, clock=clock, sleep=sleep)
        self.breaker = CircuitBreaker(breaker_failures, breaker_window_s, clock=clock)
        self._api_key = api_key or None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._last_connect_failure: NetworkError | None = None  # the cause of every ApiUnreachable
        self._last_connect_detail = ""  # its short description: "ConnectError: connection refused"
        headers = {"user-agent": USER_AGENT, "accept": "application/json"}
        if self._api_key:
            register_secret(self._api_key)
            # Covers handlers configured before the client exists (the CLI's); later ones call install().
            install_redaction()
            if plan.key_header:
                headers[plan.key_header] = self._api_key
            else:
                logger.warning("an API key was given but plan %r sends none; use plan demo or a paid one", plan.name)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            follow_redirects=False,
        )

    async def __aenter__(self) -> CoinGeckoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def host(self) -> str:
        """The API's host (and port when not the scheme's default): safe to show, no key or query."""
        url = httpx.URL(self.base_url)
        return f"{url.host}:{url.port}" if url.port is not None else url.host

    async def fetch(self, req: ApiRequest) -> ApiResponse:
        """Send ``req`` until it succeeds, retrying what is worth retrying (see the module docstring).

        Raises:
            AuthError: 401/403 or a key/plan error code; fix the key, plan or base URL.
            NotFound: 404 (unknown coin id or path).
            ApiError: another 4xx, with CoinGecko's error message.
            FetchFailed: still failing after ``max_attempts`` attempts; ``cause`` says why and
                ``__cause__`` / ``last_error`` is the last transient error.
            ApiUnreachable: the circuit breaker is open: connection after connection failed.
            ConfigError: the base URL is not an http(s) URL.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt_in_turn(req, attempt)
            except TransientError as error:
                wait = self._after_failure(req, error, attempt)
            except GeckolakeError:
                self.stats.failed += 1
                raise
            if wait > 0:
                await self._sleep(wait)

    def _after_failure(self, req: ApiRequest, error: TransientError, attempt: int) -> float:
        """The wait before the next attempt, or the terminal error (raised ``from error``)."""
        if isinstance(error, NetworkError) and error.connect and self.breaker.record_failure():
            self.stats.failed += 1
            raise self._unreachable() from error
        cause = str(error)
        if not self.policy.retries(error, attempt):
            self.stats.failed += 1
            logger.info("giving up on %s after %d attempts: %s", req.describe(), attempt, cause)
            raise FetchFailed(
                f"{req.endpoint} {req.describe()} failed after {attempt} attempts: {cause}",
                endpoint=req.endpoint,
                attempts=attempt,
                cause=cause,
                last_error=error,
                hint="it is recorded and the next run fetches it again; check the network or CoinGecko's status",
            ) from error
        wait = self.policy.delay_after(error, attempt, self._rng)
        self.stats.retries += 1
        logger.debug(
            "retrying %s in %.2fs after %s (attempt %d of %d)",
            req.describe(),
            wait,
            cause,
            attempt,
            self.policy.max_attempts,
        )
        return wait

    async def fetch_all(self, reqs: Iterable[ApiRequest], on_result: ResultCallback) -> None:
        """Fetch every request with at most ``concurrency`` in flight, paced by the limiter.

        Each result (an :class:`ApiResponse` or the :class:`GeckolakeError` it ended with) goes to
        ``on_result``, which may be sync or async, as soon as it arrives; one failed request never
        stops the others. ``reqs`` is consumed lazily, so a large generator is fine.

        An error every other request would meet too stops the whole fetch instead: the requests in
        flight and those not started are dropped (never reported), callbacks already running finish,
        and the error is raised. Every result received before that was delivered.

        Raises:
            AuthError: the key or plan is refused.
            ApiUnreachable: the API cannot be reached (circuit breaker; see :mod:`geckolake.api.breaker`).
            ConfigError: the base URL is not an http(s) URL.
        """
        iterator = iter(reqs)
        stopping = False
        in_callback: set[asyncio.Task[Any] | None] = set()

        async def worker() -> None:
            # Workers share one iterator; next() never awaits, so two tasks cannot take one request.
            for req in iterator:
                if stopping:
                    return
                result: ApiResponse | GeckolakeError
                try:
                    result = await self.fetch(req)
                except _STOPS_FETCH_ALL:
                    raise
                except GeckolakeError as e:
                    result = e
                # No await between the answer and here: a received answer always reaches on_result,
                # and a callback that has started is never cancelled halfway (it may be committing).
                me = asyncio.current_task()
                in_callback.add(me)
                try:
                    pending = on_result(req, result)
                    if inspect.isawaitable(pending):
                        await pending
                finally:
                    in_callback.discard(me)

        tasks = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            stopping = True
            for task in tasks:
                if task not in in_callback:
                    task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome

    async def _attempt_in_turn(self, req: ApiRequest, attempt: int) -> ApiResponse:
        """One attempt when a slot and the limiter allow it (failing fast while the breaker is open)."""
        self._check_reachable()
        async with self._slots:
            started = await self.limiter.acquire()
            seq = self.limiter.starts
            self._check_reachable()  # the breaker may have tripped while this attempt waited its turn
            return await self._attempt(req, attempt, started, seq)

    def _check_reachable(self) -> None:
        if self.breaker.is_open:
            raise self._unreachable() from self._last_connect_failure

    async def _attempt(self, req: ApiRequest, attempt: int, started: float, seq: int) -> ApiResponse:
        """One HTTP exchange: the response, or our error for what went wrong (transient or terminal)."""
        logger.debug("GET %s (attempt %d)", req.describe(), attempt)
        self.stats.calls += 1
        try:
            response = await self._http.get(req.path, params=list(req.params))
        except httpx.HTTPError as e:
            detail = self._safe(_describe(e))
            error = error_for_exception(e, detail, endpoint=req.endpoint)
            if isinstance(error, NetworkError):
                self.stats.timeouts += error.timeout
                self.stats.connect_failures += error.connect
                if error.connect:
                    self._last_connect_failure, self._last_connect_detail = error, detail
                    self.limiter.refund()  # the server never saw this call
            raise error from e
        self.breaker.record_answer()
        elapsed_ms = (self._clock() - started) * 1000.0
        body = response.content
        self.stats.bytes_in += len(body)
        status = response.status_code
        quota = quota_from_headers(response.headers)
        if quota is not None:
            self.limiter.on_quota(seq, quota.remaining, quota.reset_in_s)

        if 200 <= status < 300:
            if _is_short(response, body):
                raise NetworkError("body shorter than its Content-Length", endpoint=req.endpoint)
            self.limiter.on_success()
            return ApiResponse(
                request=req,
                status=status,
                body=body,
                fetched_at=datetime.now(UTC),
                elapsed_ms=elapsed_ms,
                attempts=attempt,
                headers={k: v for k, v in response.headers.items() if k.lower() in SAFE_HEADERS},
            )
        code, message = _error_details(response)
        message = self._safe(message)
        kind = error_class_for(status, code)
        if kind is RateLimited:
            self.stats.rate_limited += 1
            wait = self.policy.rate_limited_wait(retry_after_from_headers(response.headers), attempt)
            # The wait happens in the limiter so every task holds off, not just this one.
            self.limiter.on_rate_limited(started, wait)
            raise RateLimited(
                f"HTTP 429 (rate limited: {message}), waited {wait:.1f}s", retry_after=wait, endpoint=req.endpoint
            )
        if kind is ServerError:
            self.stats.server_errors += status >= 500
            raise ServerError(f"HTTP {status}: {message}", status=status, endpoint=req.endpoint)
        raise self._terminal_error(req, status, code, message)

    def _safe(self, text: str) -> str:
        return redact(text, [self._api_key])

    def _unreachable(self) -> ApiUnreachable:
        detail = f" (the last: {self._last_connect_detail})" if self._last_connect_detail else ""
        return ApiUnreachable(
            f"cannot reach the API at {self.host}: {self.breaker.streak} connection attempts in a row failed{detail}; "
            "the network or the base URL is the problem",
            host=self.host,
            failures=self.breaker.streak,
            hint=self._unreachable_hint(),
        )

    def _unreachable_hint(self) -> str:
        if httpx.URL(self.base_url).host in COINGECKO_HOSTS:
            return (
                "check the internet connection (and any proxy or firewall) and https://status.coingecko.com; "
                "to try geckolake offline, run `geckolake demo` (it uses the built-in CoinGecko simulator)"
            )
        url = httpx.URL(self.base_url).copy_with(userinfo=b"", query=None, fragment=None)
        return (
            f"check COINGECKO_BASE_URL (base_url in geckolake.toml; now {url}) and that the server there "
            "is running (`geckolake simulator` serves a fake CoinGecko)"
        )

    def _terminal_error(self, req: ApiRequest, status: int, code: int | None, message: str) -> ApiError:
        where = f"{req.endpoint} {req.describe()}"
        code_text = f", error code {code}" if code is not None else ""
        common: dict[str, Any] = {"status": status, "endpoint": req.endpoint, "coin_id": req.coin_id}
        kind = error_class_for(status, code)
        if kind is AuthError and code == CDN_FIREWALL_CODE:
            return AuthError(
                f"CoinGecko's CDN blocked {where}: HTTP {status}{code_text}: {message}",
                hint="the CDN firewall refused this client (error 1020); wait a while, or use an API key",
                **common,
            )
        if kind is AuthError:
            return AuthError(
                f"CoinGecko refused {where}: HTTP {status}{code_text}: {message}",
                hint=self._auth_hint(code),
                **common,
            )
        if kind is NotFound:
            if req.coin_id is not None:
                hint = (
                    f"CoinGecko does not know coin id {req.coin_id!r}; "
                    "ids are slugs such as 'bitcoin' (see /coins/list)"
                )
            else:
                hint = f"check the base URL ({self.base_url}); it should end in /api/v3"
            return NotFound(f"not found: {where}: {message}", hint=hint, **common)
        return ApiError(
            f"CoinGecko rejected {where}: HTTP {status}{code_text}: {message}",
            hint="check the request's parameters (for example the vs_currency)",
            **common,
        )

    def _auth_hint(self, code: int | None) -> str:
        plan = self.plan
        if code == 10005:
            return (
                f"this endpoint is not included in the {plan.name!r} plan; "
                "use a paid plan (--plan analyst|lite|pro) with COINGECKO_PRO_API_KEY"
            )
        if self._api_key is None and plan.needs_key:
            return (
                f"no API key is set for plan {plan.name!r}: set COINGECKO_DEMO_API_KEY (demo) or "
                "COINGECKO_PRO_API_KEY (paid plans), or use --plan public"
            )
        return (
            "check the key (COINGECKO_DEMO_API_KEY for the demo plan, COINGECKO_PRO_API_KEY for paid plans), "
            f"that the plan ({plan.name}) matches it, and the base URL ({self.base_url}; "
            f"this plan's host is {plan.base_url})"
        )


def _describe(error: httpx.HTTPError) -> str:
    """``ConnectError: connection refused``: httpx's type and the root cause in a few words.

    httpx's own text can hide the cause ("All connection attempts failed" for a refusal); the OS
    error at the bottom of the chain says it.
    """
    root = _root_os_error(error)
    if isinstance(root, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(root, socket.gaierror):
        text = f"DNS lookup failed: {root.strerror or root}"
    elif isinstance(root, ssl.SSLError):
        text = f"TLS handshake failed: {root.reason or root}"
    elif root is not None and root.strerror:
        text = root.strerror
    else:
        text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _root_os_error(error: BaseException) -> OSError | None:
    """The deepest OSError in ``error``'s cause/context chain (None if there is none)."""
    found: OSError | None = None
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def _is_short(response: httpx.Response, body: bytes) -> bool:
    """A body shorter than its Content-Length (h11 normally catches this; a proxy may not)."""
    if "content-encoding" in response.headers:
        return False  # the length is of the compressed body; httpx has decoded it
    declared = response.headers.get("content-length")
    return declared is not None and declared.isdigit() and int(declared) > len(body)


_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CDN_CODE = re.compile(rb"error(?:\s+code)?:?\s*(1\d{3})\b", re.IGNORECASE)
_MAX_MESSAGE = 300


def _error_details(response: httpx.Response) -> tuple[int | None, str]:
    """CoinGecko's (error code, message) from any of its error body shapes, or a short description.

    Shapes seen: ``{"status": {"error_code": 429, "error_message": "..."}}``, ``{"error": "..."}``,
    ``{"status": 500, "error": "..."}``, and HTML pages from the CDN.
    """
    body = response.content
    try:
        data = json.loads(body)
    except ValueError:
        return _non_json_details(response)
    code: int | None = None
    message: str | None = None
    if isinstance(data, dict):
        status = data.get("status")
        if isinstance(status, dict):
            code = _as_int(status.get("error_code"))
            message = _as_str(status.get("error_message"))
        error = data.get("error")
        if isinstance(error, dict):
            code = code if code is not None else _as_int(error.get("error_code") or error.get("code"))
            message = message or _as_str(error.get("error_message") or error.get("message"))
        elif error is not None:
            message = message or _as_str(error)
    if message is None:
        message = body.decode("utf-8", "replace")
    return code, message[:_MAX_MESSAGE]


def _non_json_details(response: httpx.Response) -> tuple[int | None, str]:
    body = response.content
    if not body.strip():
        return None, "empty body"
    code_match = _CDN_CODE.search(body)
    code = int(code_match.group(1)) if code_match else None
    title = _HTML_TITLE.search(body)
    if title:
        text = " ".join(title.group(1).decode("utf-8", "replace").split())
        return code, f"HTML page from the CDN: {text}"[:_MAX_MESSAGE]
    return code, " ".join(body.decode("utf-8", "replace").split())[:_MAX_MESSAGE]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
