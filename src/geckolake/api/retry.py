"""The client's retry policy, declared in one place.

What is retried (everything else fails at once, see ``CoinGeckoClient.fetch``):

- HTTP 429 (CoinGecko's JSON answer or the CDN's HTML page). The wait is the ``retry-after``
  header (delta-seconds or an HTTP date), else ``x-ratelimit-reset`` (a date), else
  :meth:`RetryPolicy.rate_limited_backoff` — exponential without jitter from ``rate_limited_base_s``,
  because a rate-limit window only reopens after a while and retrying early just burns another call.
  Server-given waits are capped at ``max_retry_after_s`` so a silly header cannot park a run for hours.
  The wait pauses the shared limiter (every task waits, not only the one that got the 429), and the
  limiter slows down (see ``limiter.py``).
- HTTP 408, 500, 502, 503, 504 and the CDN's 520–524: exponential backoff with *full jitter*
  (``uniform(0, min(cap, base · 2^(attempt-1)))``, AWS architecture blog "Exponential Backoff And
  Jitter"): full jitter spreads the retries of concurrent tasks so they do not hit a recovering
  server in lockstep.
- Timeouts, refused or reset connections, bodies cut short (``httpx.TransportError``,
  ``httpx.DecodingError``, a body shorter than its ``Content-Length``): same backoff as 5xx.

A request is tried at most ``max_attempts`` times in all (default 6, so 5 retries); then the client
raises ``FetchFailed`` with the last cause.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

RATE_LIMITED_STATUS = 429
RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def is_retryable_status(status: int) -> bool:
    """True for the HTTP statuses worth trying again (see the module docstring)."""
    return status in RETRYABLE_STATUSES


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
    wait = parse_retry_after(lowered.get("retry-after"), now)
    if wait is not None:
        return wait
    reset = lowered.get("x-ratelimit-reset")
    if reset is None:
        return None
    return _seconds_until(_parse_date(reset.strip()), now)


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
