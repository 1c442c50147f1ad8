"""The rate-limited CoinGecko HTTP client.

One :class:`CoinGeckoClient` per run and plan. Every attempt goes through the same three steps:
take a concurrency slot, wait for the shared :class:`~geckolake.api.limiter.RateLimiter` to allow a
start, send. What happens to the answer is decided by the policy in :mod:`geckolake.api.retry`:

- 2xx → :class:`~geckolake.api.endpoints.ApiResponse`, body byte-exact;
- 429 → pause the limiter for ``retry-after`` and slow it down, then try again;
- 5xx, timeouts, connection errors, bodies cut short → exponential backoff with full jitter;
- after ``max_attempts`` → :class:`~geckolake.errors.FetchFailed`;
- 401/403 and error codes 10002/10005/10010/10011 → :class:`~geckolake.errors.AuthError`,
  404 → :class:`~geckolake.errors.NotFound`, other 4xx → :class:`~geckolake.errors.ApiError`
  (no retry: the same request would get the same answer).

The API key travels only in the plan's header (never the URL), is registered for log redaction, and
is masked out of every error message this module builds.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from geckolake import __version__
from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.api.limiter import Clock, RateLimiter, Sleep
from geckolake.api.plans import Plan
from geckolake.api.redaction import install as install_redaction
from geckolake.api.redaction import redact, register_secret
from geckolake.api.retry import (
    RATE_LIMITED_STATUS,
    RetryPolicy,
    is_retryable_status,
    retry_after_from_headers,
)
from geckolake.errors import ApiError, AuthError, FetchFailed, GeckolakeError, NotFound

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

# CoinGecko's error codes that mean "this key / plan cannot do that" (FACTS.md, CoinGecko docs).
AUTH_ERROR_CODES: frozenset[int] = frozenset({10002, 10005, 10010, 10011})
CDN_FIREWALL_CODE = 1020

ResultCallback = Callable[[ApiRequest, "ApiResponse | GeckolakeError"], Awaitable[None] | None]


@dataclass
class ClientStats:
    """Counters for one client's lifetime (they feed ``ops.pipeline_runs``).

    ``calls`` counts HTTP requests sent (every attempt), ``retries`` the attempts after the first,
    ``failed`` the requests that ended in an error (given up after retries, or a terminal 4xx).
    """

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    bytes_in: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Retry:
    """An attempt that failed in a way worth retrying."""

    wait_s: float  # the caller sleeps this long (429 waits happen in the limiter instead)
    cause: str


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
        timeout_s: float = 30.0,
        max_attempts: int = 6,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        retry_policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``retry_policy`` overrides the default policy (its ``max_attempts`` wins over the argument)."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.base_url = base_url.rstrip("/")
        self.plan = plan
        self.concurrency = concurrency
        self.stats = ClientStats()
        self.policy = retry_policy or RetryPolicy(max_attempts=max_attempts)
        self.limiter = RateLimiter(rate_per_min or plan.rate_per_min, clock=clock, sleep=sleep)
        self._api_key = api_key or None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
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
            timeout=httpx.Timeout(timeout_s),
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

    async def fetch(self, req: ApiRequest) -> ApiResponse:
        """Send ``req`` until it succeeds, retrying what is worth retrying (see the module docstring).

        Raises:
            AuthError: 401/403 or a key/plan error code; fix the key, plan or base URL.
            NotFound: 404 (unknown coin id or path).
            ApiError: another 4xx, with CoinGecko's error message.
            FetchFailed: still failing after ``max_attempts`` attempts; ``cause`` says why.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._slots:
                    started = await self.limiter.acquire()
                    outcome = await self._attempt(req, attempt, started)
            except GeckolakeError:
                self.stats.failed += 1
                raise
            if isinstance(outcome, ApiResponse):
                return outcome
            if attempt >= self.policy.max_attempts:
                self.stats.failed += 1
                logger.info("giving up on %s after %d attempts: %s", req.describe(), attempt, outcome.cause)
                raise FetchFailed(
                    f"{req.endpoint} {req.describe()} failed after {attempt} attempts: {outcome.cause}",
                    endpoint=req.endpoint,
                    attempts=attempt,
                    cause=outcome.cause,
                    hint=("it is recorded and the next run fetches it again; check the network or CoinGecko's status"),
                )
            self.stats.retries += 1
            logger.debug(
                "retrying %s in %.2fs after %s (attempt %d of %d)",
                req.describe(),
                outcome.wait_s,
                outcome.cause,
                attempt,
                self.policy.max_attempts,
            )
            if outcome.wait_s > 0:
                await self._sleep(outcome.wait_s)

    async def fetch_all(self, reqs: Iterable[ApiRequest], on_result: ResultCallback) -> None:
        """Fetch every request with at most ``concurrency`` in flight, paced by the limiter.

        Each result (an :class:`ApiResponse` or the :class:`GeckolakeError` it ended with) goes to
        ``on_result``, which may be sync or async; one failed request never stops the others.
        ``reqs`` is consumed lazily, so a large generator is fine.

        Raises:
            AuthError: the key or plan is refused; the remaining requests are cancelled because
                every one of them would fail the same way.
        """
        iterator = iter(reqs)

        async def worker() -> None:
            # Workers share one iterator; next() never awaits, so two tasks cannot take one request.
            for req in iterator:
                result: ApiResponse | GeckolakeError
                try:
                    result = await self.fetch(req)
                except AuthError:
                    raise
                except GeckolakeError as e:
                    result = e
                pending = on_result(req, result)
                if inspect.isawaitable(pending):
                    await pending

        tasks = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome

    async def _attempt(self, req: ApiRequest, attempt: int, started: float) -> ApiResponse | _Retry:
        """One HTTP exchange: a response, a reason to retry, or a terminal error raised."""
        logger.debug("GET %s (attempt %d)", req.describe(), attempt)
        self.stats.calls += 1
        try:
            response = await self._http.get(req.path, params=list(req.params))
        except httpx.TimeoutException as e:
            self.stats.timeouts += 1
            return _Retry(self._backoff(attempt), f"timeout ({type(e).__name__})")
        except (httpx.TransportError, httpx.DecodingError) as e:
            return _Retry(self._backoff(attempt), self._safe(f"{type(e).__name__}: {e}"))
        elapsed_ms = (self._clock() - started) * 1000.0
        body = response.content
        self.stats.bytes_in += len(body)
        status = response.status_code

        if 200 <= status < 300:
            if _is_short(response, body):
                return _Retry(self._backoff(attempt), "body shorter than its Content-Length")
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
        if status == RATE_LIMITED_STATUS:
            self.stats.rate_limited += 1
            wait = self.policy.rate_limited_wait(retry_after_from_headers(response.headers), attempt)
            # The wait happens in the limiter so every task holds off, not just this one.
            self.limiter.on_rate_limited(started, wait)
            _, message = _error_details(response)
            return _Retry(0.0, self._safe(f"HTTP 429 (rate limited: {message}), waited {wait:.1f}s"))
        if is_retryable_status(status):
            if status >= 500:
                self.stats.server_errors += 1
            _, message = _error_details(response)
            return _Retry(self._backoff(attempt), self._safe(f"HTTP {status}: {message}"))
        raise self._terminal_error(req, response)

    def _backoff(self, attempt: int) -> float:
        return self.policy.backoff(attempt, self._rng)

    def _safe(self, text: str) -> str:
        return redact(text, [self._api_key])

    def _terminal_error(self, req: ApiRequest, response: httpx.Response) -> ApiError:
        status = response.status_code
        code, message = _error_details(response)
        message = self._safe(message)
        where = f"{req.endpoint} {req.describe()}"
        code_text = f", error code {code}" if code is not None else ""
        common: dict[str, Any] = {"status": status, "endpoint": req.endpoint, "coin_id": req.coin_id}
        if code == CDN_FIREWALL_CODE:
            return AuthError(
                f"CoinGecko's CDN blocked {where}: HTTP {status}{code_text}: {message}",
                hint="the CDN firewall refused this client (error 1020); wait a while, or use an API key",
                **common,
            )
        if status in (401, 403) or code in AUTH_ERROR_CODES:
            return AuthError(
                f"CoinGecko refused {where}: HTTP {status}{code_text}: {message}",
                hint=self._auth_hint(code),
                **common,
            )
        if status == 404:
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
