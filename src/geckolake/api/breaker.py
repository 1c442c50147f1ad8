"""The client's circuit breaker: stop calling a host that cannot be reached.

Retries are right for a server that answers badly now and then; they are wrong for a host that
does not answer at all (no network, a mistyped base URL, a simulator that is not running, an API
that died mid-run): every request would spend its whole retry budget, one after another, and a
run of thousands of requests would take hours to fail.

The breaker counts *connection-level* failures — no connection was made: DNS failure, connection
refused, TLS handshake, proxy, connect timeout (``NetworkError.connect``) — across all requests.
Any HTTP answer, whatever its status, proves the host is reachable and resets the count; a read
timeout or a connection reset mid-answer neither counts nor resets (the host was there).

It trips on ``failures`` consecutive connection failures (default 5) where each comes within
``window_s`` (default 30 s) of the previous one, so an old hiccup does not join a new one into a
streak. Why these defaults: 5 is more than a flaky network produces in a row between two answers,
yet reached in milliseconds against a closed port with several requests in flight, and in a few
seconds of backoff by a single request (whose own 6 attempts it cuts short); 30 s between failures
covers the slowest case that still says "unreachable" — a connect timeout (5 s) on a plan paced at
10 calls/min (6 s between starts).

Once tripped it stays open for ``window_s``: every attempt fails fast with ``ApiUnreachable``
(``fetch_all`` stops at the first). After that one attempt is let through (half-open): an answer
closes the breaker, another connection failure opens it again at once.
"""

from __future__ import annotations

import logging
import time

from geckolake.api.limiter import Clock

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Counts consecutive connection failures; :attr:`is_open` once ``failures`` of them came in a row."""

    def __init__(self, failures: int = 5, window_s: float = 30.0, *, clock: Clock = time.monotonic) -> None:
        if failures < 1:
            raise ValueError(f"failures must be at least 1, got {failures}")
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self.failures = failures
        self.window_s = window_s
        self._clock = clock
        self._streak = 0
        self._last_failure = float("-inf")

    @property
    def streak(self) -> int:
        """Connection failures in a row so far."""
        return self._streak

    @property
    def tripped(self) -> bool:
        """True once the streak reached ``failures`` (until an answer resets it)."""
        return self._streak >= self.failures

    @property
    def is_open(self) -> bool:
        """True while attempts must fail fast: tripped, and the last failure less than ``window_s`` ago."""
        return self.tripped and self._clock() - self._last_failure < self.window_s

    def record_failure(self) -> bool:
        """Count one connection failure; return True when the breaker is (now) open."""
        now = self._clock()
        if not self.tripped and now - self._last_failure > self.window_s:
            self._streak = 0  # too long since the previous failure: a new streak
        self._streak += 1
        self._last_failure = now
        if self._streak == self.failures:
            logger.info("%d connection failures in a row: the API is unreachable", self._streak)
        return self.tripped

    def record_answer(self) -> None:
        """An HTTP answer arrived (any status): the host is reachable."""
        self._streak = 0
        self._last_failure = float("-inf")
