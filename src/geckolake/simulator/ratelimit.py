"""Server-side rate limit: a fixed window that opens with the first call after the last one closed.

Opening the window on demand (rather than on wall-clock minute boundaries) makes "a burst of
2N calls at N per window gets N answers and N × 429" hold exactly, which the acceptance test needs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime


class RateLimiter:
    """At most ``limit`` calls per ``window_s`` seconds; ``limit=None`` never limits."""

    def __init__(self, limit: int | None, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._start = -math.inf
        self._used = 0

    def reset(self) -> None:
        self._start = -math.inf
        self._used = 0

    def check(self) -> tuple[bool, dict[str, str]]:
        """Count one call; return whether it may proceed and the x-ratelimit-* headers to send."""
        if self.limit is None:
            return True, {}
        now = self._clock()
        if now >= self._start + self.window_s:
            self._start, self._used = now, 0
        left_s = self._start + self.window_s - now
        reset_at = datetime.fromtimestamp(time.time() + left_s, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-reset": reset_at}
        if self._used >= self.limit:
            headers["x-ratelimit-remaining"] = "0"
            headers["retry-after"] = str(max(1, math.ceil(left_s)))
            return False, headers
        self._used += 1
        headers["x-ratelimit-remaining"] = str(self.limit - self._used)
        return True, headers
