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

Two kinds of news from the server correct the pacing, so that a client configured far above the
server's real limit (a wrong ``rate_per_min``, another process sharing the key) stays polite:

- **Its own count** (:meth:`RateLimiter.on_quota`): when answers carry ``x-ratelimit-remaining``
  and ``x-ratelimit-reset`` (CoinGecko's newer answers and the simulator do), the limiter keeps a
  budget: the calls the server said were left, minus every start since the request that carried the
  count (those may already be counted). At zero, nobody starts until the window reopens (plus a
  second: the headers have whole-second resolution). This prevents 429s instead of reacting to them.
- **A 429** (:meth:`RateLimiter.on_rate_limited`): everyone pauses until the server's
  ``retry-after``, and the rate drops at once to what the server evidently allows — the successes of
  the last minute over the time they and the wait span, with a 10 % margin — or, with nothing to
  measure, to half. Several in-flight requests usually hit the same exhausted window, so only a
  429 for a request started after the previous slowdown lowers the rate again.
  Recovery is slow on purpose: nothing for ``recover_after_s`` (a CoinGecko window), then each
  success adds 1/``recover_successes`` of the reduced rate, so the rate doubles back over that many
  calls (additive increase, as TCP congestion control does). A faster recovery probes the limit
  again within a few calls and turns every probe into another 429.

The task waiting at the gate re-reads the pause, the budget and the rate after every sleep, so
nothing starts during a pause.

The clock and sleep are injected so unit tests can drive the arithmetic without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# CoinGecko counts calls per minute: the 429 estimate looks at the successes of the last one.
_LOOKBACK_S = 60.0


class RateLimiter:
    """Spaces request starts to stay under ``rate_per_min``; adaptive on 429 and the server's own count."""

    def __init__(
        self,
        rate_per_min: float,
        *,
        burst: int = 1,
        safety: float = 0.98,
        min_rate_per_min: float = 1.0,
        slowdown_factor: float = 0.5,
        estimate_margin: float = 0.9,
        recover_after_s: float = 60.0,
        recover_successes: int = 100,
        quota_margin_s: float = 1.0,
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
        if min_rate_per_min <= 0:
            raise ValueError(f"min_rate_per_min must be positive, got {min_rate_per_min}")
        if not 0 < slowdown_factor < 1 or not 0 < estimate_margin <= 1:
            raise ValueError("slowdown_factor must be in (0, 1) and estimate_margin in (0, 1]")
        self.target_rate_per_min = float(rate_per_min)
        self.burst = burst
        self.safety = safety
        self.min_rate_per_min = min(min_rate_per_min, self.target_rate_per_min)
        self.slowdown_factor = slowdown_factor
        self.estimate_margin = estimate_margin
        self.recover_after_s = recover_after_s
        self.recover_successes = max(1, recover_successes)
        self.quota_margin_s = quota_margin_s
        self.jitter = jitter
        self._clock = clock
        self._sleep = sleep
        self._rate = self.target_rate_per_min
        self._tat = float("-inf")  # theoretical arrival time of the next request (GCRA)
        self._paused_until = float("-inf")
        self._gate = asyncio.Lock()  # FIFO: requests start in the order they asked
        self._last_slowdown = float("-inf")
        self._reduced_to = self.target_rate_per_min  # the rate right after the last slowdown
        self._starts = 0
        self._accepted: deque[float] = deque()  # start times of the successes of the last minute
        self._budget: int | None = None  # calls left in the server's window, by its own count
        self._window_reopens = float("-inf")

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

    @property
    def starts(self) -> int:
        """How many starts :meth:`acquire` has granted; read right after it to number a request."""
        return self._starts

    @property
    def budget(self) -> int | None:
        """Calls the server has left in its current window by its headers (None: unknown)."""
        return self._budget

    def _earliest_start(self) -> float:
        """When the next start is allowed: GCRA with ``burst - 1`` intervals of tolerance."""
        tolerance = (self.burst - 1) * self.interval_s
        return max(self._tat - tolerance, self._paused_until, self._quota_wait())

    def _quota_wait(self) -> float:
        """The time the server's window reopens when its budget is spent, else -inf."""
        if self._budget is None:
            return float("-inf")
        if self._clock() >= self._window_reopens:
            self._budget = None  # a new window: the next answer tells its count
            return float("-inf")
        return self._window_reopens if self._budget <= 0 else float("-inf")

    async def acquire(self) -> float:
        """Wait for this caller's turn; return the clock time at which it may send."""
        async with self._gate:
            slept = False
            while True:
                # Re-read on each pass: a pause, an exhausted budget or a slowdown may have arrived.
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
            self._starts += 1
            if self._budget is not None:
                self._budget -= 1
            return released

    def on_success(self, started_at: float | None = None) -> None:
        """A request (started at ``started_at``) went through: remember it, and creep back up slowly."""
        now = self._clock()
        if started_at is not None:
            self._accepted.append(started_at)
        while self._accepted and self._accepted[0] < now - _LOOKBACK_S:
            self._accepted.popleft()
        if self._rate < self.target_rate_per_min and now - self._last_slowdown >= self.recover_after_s:
            step = self._reduced_to / self.recover_successes
            self._rate = min(self.target_rate_per_min, self._rate + step)

    def on_quota(self, seq: int, remaining: int, reset_in_s: float) -> None:
        """The answer to start number ``seq`` says ``remaining`` calls are left, for ``reset_in_s`` seconds.

        Every start after ``seq`` may already be counted, so the budget is ``remaining`` minus those:
        never more than the server really has left. Of two estimates for one window the larger wins
        (both are lower bounds); an estimate for a window that has reopened is replaced.
        """
        now = self._clock()
        budget = remaining - max(0, self._starts - seq)
        reopens = now + max(0.0, reset_in_s) + self.quota_margin_s
        if self._budget is None or now >= self._window_reopens or budget > self._budget:
            if budget <= 0 and (self._budget is None or self._budget > 0):
                logger.info("the server's window is used up: holding new calls %.1fs until it reopens", reopens - now)
            self._budget, self._window_reopens = budget, reopens

    def on_rate_limited(self, started_at: float, wait_s: float) -> None:
        """A request started at ``started_at`` got a 429: pause everyone ``wait_s``, slow down.

        The new rate is what the server evidently allows (see the module docstring), or half.
        Only a 429 for a request that started after the previous slowdown lowers the rate again,
        so one burst of 429s slows down once, not eight times.
        """
        now = self._clock()
        if started_at >= self._last_slowdown:
            old = self._rate
            allowed = self._evident_rate(now, wait_s)
            if allowed is not None and allowed * self.estimate_margin < old:
                new, why = allowed * self.estimate_margin, f"the server allowed ≈{allowed:.1f}/min"
            else:
                new, why = old * self.slowdown_factor, "halved"
            self._rate = self._reduced_to = max(self.min_rate_per_min, new)
            self._last_slowdown = now
            logger.info(
                "rate limited (429): pausing %.1fs, pacing %.1f → %.1f calls/min (%s)", wait_s, old, self._rate, why
            )
        self._paused_until = max(self._paused_until, now + max(0.0, wait_s))

    def _evident_rate(self, now: float, wait_s: float) -> float | None:
        """Calls/min the server let through: last minute's successes over the time they and the wait span."""
        while self._accepted and self._accepted[0] < now - _LOOKBACK_S:
            self._accepted.popleft()
        if not self._accepted:
            return None
        span = now - self._accepted[0] + max(0.0, wait_s)
        return len(self._accepted) / max(span, 1.0) * 60.0
