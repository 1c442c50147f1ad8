"""Pacing that keeps the client under the plan's rate limit, shared by every concurrent task.

Request STARTS are spaced ``60 / (rate · safety)`` seconds apart (a GCRA / virtual-scheduling
token bucket with a burst of ``burst`` requests, 1 by default). ``safety`` (0.98) keeps us a little
under the limit because CoinGecko counts in windows we cannot see exactly (a request that leaves on
time can still arrive early in the next window after a network hiccup).

Callers pass through one FIFO gate (an ``asyncio.Lock``): the task at the head sleeps until the
schedule allows a start. A task woken a little late (by at most ``jitter`` of an interval: the event
loop's timer resolution, a commit thread holding the GIL for a moment) keeps the schedule: the next
start is due one interval after this one was *due*, so the lateness is not added to every interval
(at 500 calls/min, 3 ms late per wake-up cost 2.5 % of the rate). A longer stall pushes the schedule
back from the moment the task was actually *released* instead of letting requests go out back to
back (booking slots in advance would compress them). Either way two starts are never closer than
``(1 - jitter)`` intervals, and no window holds more starts than the pacing allows.
A 429 means our idea of the limit is wrong (another process shares the key, the plan's figure
changed): :meth:`RateLimiter.on_rate_limited` pauses everyone until the server's ``retry-after`` and
halves the rate; each success afterwards gives back a small step, so the rate recovers over about
``recover_successes`` calls (AIMD, as TCP congestion control does). The task waiting at the gate
re-reads the pause and the rate after every sleep, so nothing starts during a pause.

The clock and sleep are injected so unit tests can drive the arithmetic without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Spaces request starts to stay under ``rate_per_min``; adaptive on 429."""

    def __init__(
        self,
        rate_per_min: float,
        *,
        burst: int = 1,
        safety: float = 0.98,
        min_rate_fraction: float = 0.05,
        slowdown_factor: float = 0.5,
        recover_successes: int = 20,
        jitter: float = 0.1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_min <= 0:
            raise ValueError(f"rate_per_min must be positive, got {rate_per_min}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        if not 0 < safety <= 1:
            raise ValueError(f"safety must be in (0, 1], got {safety}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        self.target_rate_per_min = float(rate_per_min)
        self.burst = burst
        self.safety = safety
        self.min_rate_per_min = self.target_rate_per_min * min_rate_fraction
        self.slowdown_factor = slowdown_factor
        self.jitter = jitter
        # Additive increase: this many successes take the rate from the floor back to the target.
        self._recover_step = self.target_rate_per_min / max(1, recover_successes)
        self._clock = clock
        self._sleep = sleep
        self._rate = self.target_rate_per_min
        self._tat = float("-inf")  # theoretical arrival time of the next request (GCRA)
        self._paused_until = float("-inf")
        self._gate = asyncio.Lock()  # FIFO: requests start in the order they asked
        self._last_slowdown = float("-inf")

    @property
    def rate_per_min(self) -> float:
        """The rate currently paced at (before the safety margin); lower than the target after 429s."""
        return self._rate

    @property
    def interval_s(self) -> float:
        """Seconds between two request starts at the current rate, safety margin included."""
        return 60.0 / (self._rate * self.safety)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def _earliest_start(self) -> float:
        """When the next start is allowed: GCRA with ``burst - 1`` intervals of tolerance."""
        tolerance = (self.burst - 1) * self.interval_s
        return max(self._tat - tolerance, self._paused_until)

    async def acquire(self) -> float:
        """Wait for this caller's turn; return the clock time at which it may send."""
        async with self._gate:
            slept = False
            while True:
                # Re-read on each pass: a pause or slowdown may have arrived while we slept.
                due = self._earliest_start()
                delay = due - self._clock()
                if delay <= 0:
                    break
                await self._sleep(delay)
                slept = True
            released = self._clock()
            # Late by a timer's jitter: schedule from the due time. Idle (no sleep) or stalled: from now.
            on_time = slept and released - due <= self.jitter * self.interval_s
            self._tat = max(self._tat, due if on_time else released) + self.interval_s
            return released

    def on_success(self) -> None:
        """A request went through: creep back towards the target rate."""
        if self._rate < self.target_rate_per_min:
            self._rate = min(self.target_rate_per_min, self._rate + self._recover_step)

    def on_rate_limited(self, started_at: float, wait_s: float) -> None:
        """A request started at ``started_at`` got a 429: pause everyone ``wait_s``, slow down.

        Several in-flight requests usually hit the same exhausted window; only a 429 for a request
        that started after the previous slowdown lowers the rate again, so one burst of 429s halves
        the rate once, not eight times.
        """
        now = self._clock()
        if started_at >= self._last_slowdown:
            old = self._rate
            self._rate = max(self.min_rate_per_min, self._rate * self.slowdown_factor)
            self._last_slowdown = now
            logger.info("rate limited (429): pausing %.1fs, pacing %.1f → %.1f calls/min", wait_s, old, self._rate)
        self._paused_until = max(self._paused_until, now + max(0.0, wait_s))
