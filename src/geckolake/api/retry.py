"""What is worth retrying and how long to wait, declared in one place.

Every failed attempt becomes one of our errors here (the client translates httpx's at the boundary
with ``raise ... from e``), and its class decides what happens next:

============================================  ===================  ===============================
what came back                                error                what the client does
============================================  ===================  ===============================
HTTP 429 (JSON or the CDN's HTML page)        ``RateLimited``      pause the shared limiter, retry
HTTP 408, every 5xx (the CDN's 52x too)       ``ServerError``      backoff with full jitter, retry
connect failure: DNS, refused, TLS, proxy,    ``NetworkError``     backoff, retry; counted by the
connect timeout                               (``connect=True``)   circuit breaker (``breaker.py``)
read/write/pool timeout, reset connection,    ``NetworkError``     backoff, retry
body cut short or undecodable
401/403, error codes 10002/10005/10010/10011  ``AuthError``        raise at once; ``fetch_all`` stops
and the CDN's 1020
404                                           ``NotFound``         raise at once
any other status                              ``ApiError``         raise at once
a URL that is not http(s)                     ``ConfigError``      raise at once; ``fetch_all`` stops
============================================  ===================  ===============================

Transient errors (:class:`~geckolake.errors.TransientError`) are retried; terminal ones are not:
the same request would get the same answer.

- After a 429 the wait is the ``retry-after`` header (delta-seconds or an HTTP date), else
  ``x-ratelimit-reset`` (a date), else :meth:`RetryPolicy.rate_limited_backoff` — exponential without
  jitter from ``rate_limited_base_s``, because a rate-limit window only reopens after a while and
  retrying early just burns another call. Server-given waits are capped at ``max_retry_after_s`` so a
  silly header cannot park a run for hours. Dates are read against the answer's own ``Date`` header
  when it has one, so a skewed local clock does not stretch or cut the wait. The wait pauses the
  shared limiter (every task waits, not only the one that got the 429), and the limiter slows down
  (see ``limiter.py``).
- Other transient failures: exponential backoff with *full jitter*
  (``uniform(0, min(cap, base · 2^(attempt-1)))``, AWS architecture blog "Exponential Backoff And
  Jitter"): full jitter spreads the retries of concurrent tasks so they do not hit a recovering
  server in lockstep.

A request is tried at most ``max_attempts`` times in all (default 6, so 5 retries); then the client
raises ``FetchFailed`` with the last transient error as its ``__cause__`` (and ``last_error``).
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from geckolake.errors import (
    ApiError,
    AuthError,
    ConfigError,
    GeckolakeError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    TransientError,
)

RATE_LIMITED_STATUS = 429
SERVER_ERROR_STATUSES: frozenset[int] = frozenset({408, *range(500, 600)})
RETRYABLE_STATUSES: frozenset[int] = SERVER_ERROR_STATUSES | {RATE_LIMITED_STATUS}

# CoinGecko's error codes that mean "this key / plan cannot do that" (FACTS.md, CoinGecko docs).
AUTH_ERROR_CODES: frozenset[int] = frozenset({10002, 10005, 10010, 10011})
CDN_FIREWALL_CODE = 1020

# httpx errors raised before any connection existed: the host cannot be reached (DNS, refused,
# TLS handshake, proxy, connect timeout). ConnectError covers DNS, refusals and TLS failures.
CONNECT_ERRORS: tuple[type[httpx.HTTPError], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)


def is_retryable_status(status: int) -> bool:
    """True for the HTTP statuses worth trying again (see the module docstring)."""
    return status in RETRYABLE_STATUSES


def error_class_for(status: int, error_code: int | None = None) -> type[GeckolakeError] | None:
    """The error an HTTP answer becomes (None for 2xx); see the table in the module docstring."""
    if 200 <= status < 300:
        return None
    if status == RATE_LIMITED_STATUS:
        return RateLimited
    if status in SERVER_ERROR_STATUSES:
        return ServerError
    if status in (401, 403) or error_code in AUTH_ERROR_CODES or error_code == CDN_FIREWALL_CODE:
        return AuthError
    if status == 404:
        return NotFound
    return ApiError


def error_for_exception(error: httpx.HTTPError, detail: str, *, endpoint: str = "") -> GeckolakeError:
    """Our error for an httpx exception raised while sending (``detail``: a key-free description).

    The caller raises the result ``from error``.
    """
    if isinstance(error, httpx.UnsupportedProtocol):
        return ConfigError(
            f"the API base URL is not an http(s) URL ({detail})",
            hint="set COINGECKO_BASE_URL (base_url in geckolake.toml) to e.g. https://api.coingecko.com/api/v3",
        )
    timeout = isinstance(error, httpx.TimeoutException)
    if isinstance(error, CONNECT_ERRORS):
        return NetworkError(f"cannot connect ({detail})", connect=True, timeout=timeout, endpoint=endpoint)
    if timeout:
        return NetworkError(f"timeout ({detail})", timeout=True, endpoint=endpoint)
    return NetworkError(detail, endpoint=endpoint)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts of one request."""

    max_attempts: int = 6
    base_s: float = 0.5  # first backoff window for 5xx / network errors
    cap_s: float = 30.0  # no single backoff longer than this
    rate_limited_base_s: float = 5.0  # 429 without any reset hint: 5, 10, 20, 40, 60 s
    rate_limited_cap_s: float = 60.0  # CoinGecko windows are per minute
    max_retry_after_s: float = 120.0  # cap on server-given waits

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_s < 0 or self.cap_s < 0 or self.rate_limited_base_s < 0:
            raise ValueError("backoff durations must not be negative")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): full jitter."""
        window = self.backoff_ceiling(attempt)
        return (rng or random).uniform(0.0, window)

    def backoff_ceiling(self, attempt: int) -> float:
        """The upper bound of :meth:`backoff` for ``attempt`` (exponential, capped)."""
        exponent = max(0, attempt - 1)
        # Cap the exponent before computing 2**n so huge attempt numbers cannot overflow.
        if exponent > 62:
            return self.cap_s
        return min(self.cap_s, self.base_s * math.pow(2, exponent))

    def rate_limited_backoff(self, attempt: int) -> float:
        """Seconds to wait after a 429 that gave no hint of when the window reopens."""
        exponent = min(max(0, attempt - 1), 62)
        return min(self.rate_limited_cap_s, self.rate_limited_base_s * math.pow(2, exponent))

    def rate_limited_wait(self, retry_after: float | None, attempt: int) -> float:
        """The wait after a 429: the server's hint (capped) or :meth:`rate_limited_backoff`."""
        if retry_after is None:
            return self.rate_limited_backoff(attempt)
        return min(retry_after, self.max_retry_after_s)

    def retries(self, error: GeckolakeError, attempt: int) -> bool:
        """Whether a request whose attempt number ``attempt`` failed with ``error`` gets another."""
        return isinstance(error, TransientError) and attempt < self.max_attempts

    def delay_after(self, error: TransientError, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds the request itself waits before its next attempt.

        0 after a 429: its wait pauses the shared limiter instead (every task holds off).
        """
        if isinstance(error, RateLimited):
            return 0.0
        return self.backoff(attempt, rng)


@dataclass(frozen=True)
class Quota:
    """The server's own count, from ``x-ratelimit-remaining`` and ``x-ratelimit-reset``."""

    remaining: int
    reset_in_s: float


def quota_from_headers(headers: Mapping[str, str], now: datetime | None = None) -> Quota | None:
    """What is left of the server's rate-limit window, or None unless both headers are readable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    remaining = lowered.get("x-ratelimit-remaining", "").strip()
    reset = lowered.get("x-ratelimit-reset")
    if not remaining.isdigit() or reset is None:
        return None
    reset_in = _seconds_until(_parse_date(reset.strip()), now or _server_now(lowered))
    return None if reset_in is None else Quota(int(remaining), reset_in)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value (RFC 9110 §10.2.3).

    Accepts delta-seconds (``"30"``; fractions tolerated) or an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``). A date in the past gives 0. Anything unparsable,
    negative or non-finite gives ``None`` (the caller then falls back to its own backoff).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(_parse_date(text), now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def retry_after_from_headers(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait a 429's headers ask for: ``retry-after`` first, then ``x-ratelimit-reset`` (a date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    now = now or _server_now(lowered)
    wait = parse_retry_after(lowered.get("retry-after"), now)
    if wait is not None:
        return wait
    reset = lowered.get("x-ratelimit-reset")
    if reset is None:
        return None
    return _seconds_until(_parse_date(reset.strip()), now)


def _server_now(lowered: Mapping[str, str]) -> datetime | None:
    """The answer's ``Date`` header: dates in other headers are relative to the server's clock."""
    date = lowered.get("date")
    return _parse_date(date.strip()) if date else None


def _parse_date(text: str) -> datetime | None:
    """An HTTP date, or the ISO-like dates CoinGecko puts in ``x-ratelimit-reset``."""
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    # Naive dates in HTTP headers are UTC by definition (RFC 9110 uses GMT only).
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _seconds_until(when: datetime | None, now: datetime | None) -> float | None:
    if when is None:
        return None
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())
