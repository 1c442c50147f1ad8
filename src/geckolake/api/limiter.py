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
  count (those may already be counted), and the lowest such estimate for a window wins (answers
  overtake each other). At zero, nobody starts until the window reopens (plus a
  second: the headers have whole-second resolution). This prevents 429s instead of reacting to them.
- **A 429** (:meth:`RateLimiter.on_rate_limited`): everyone pauses until the server's
  ``retry-after``, and the rate drops at once to what the server evidently allows — the calls of
  the last minute started before the refused one (and not refused themselves) over the time they and
  the wait span, with a 10 % margin — or, with nothing to measure, to half. (Counting starts rather
  than successes: answers to calls the server accepted just before may still be on their way.)
  Several in-flight requests usually hit the same exhausted window, so only a 429 for a request
  started after the previous slowdown lowers the rate again (the others can only correct the
  estimate down).
  Recovery is slow on purpose: nothing for ``recover_after_s`` (a CoinGecko window), then each
  success adds 1/``recover_successes`` of the reduced rate, so the rate doubles back over that many
  calls (additive increase, as TCP congestion control does). A faster recovery probes the limit
  again within a few calls and turns every probe into another 429.

The task waiting at the gate re-reads the pause, the budget and the rate after every sleep, so
nothing starts during a pause. A call that never reached the server (no connection could be made)
gives its slot back (:meth:`RateLimiter.refund`, which also wakes the task waiting at the gate): the
server did not count it, and the retries that find out whether the host is there at all should not
wait for the plan's pacing (2 s a call on the demo plan).

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

# CoinGecko counts calls per minute: the 429 estimate looks at the calls of the last one.
_LOOKBACK_S = 60.0
# Reset times read from whole-second headers (and a cached Date) wobble by up to ~2 s within one window.
_SAME_WINDOW_S = 2.5
# Shorter waits at the gate are slept through; longer ones can be cut short by a refund.
_WAKEABLE_S = 0.05


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
        self._waker: asyncio.Future[None] | None = None  # wakes the task napping at the gate
        self._last_slowdown = float("-inf")
        self._first_refused = float("-inf")  # start of the earliest refused call of the last 429 burst
        self._reduced_to = self.target_rate_per_min  # the rate right after the last slowdown
        self._starts = 0
        self._recent_starts: deque[float] = deque()  # start times of the last minute
        self._refused: deque[float] = deque()  # start times of the last minute's 429s
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
                await self._nap(delay)
                slept = True
            released = self._clock()
            # Late by a timer's jitter: schedule from the due time. Idle (no sleep) or stalled: from now.
            on_time = slept and released - due <= self.jitter * self.interval_s
            self._tat = max(self._tat, due if on_time else released) + self.interval_s
            self._starts += 1
            self._recent_starts.append(released)
            _forget_before(self._recent_starts, released - _LOOKBACK_S)
            if self._budget is not None:
                self._budget -= 1
            return released

    async def _nap(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when a :meth:`refund` moves the schedule earlier."""
        if delay < _WAKEABLE_S:
            await self._sleep(delay)
            return
        # A future of the running loop, not an asyncio.Event kept on self: the limiter may outlive a loop.
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waker = waker
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            self._waker = None

    def refund(self) -> None:
        """A start that never reached the server (no connection was made): give its slot back.

        A refused connection or a DNS failure is not a call the server counted, so it should not
        slow the retries that find out whether the host is reachable at all.
        """
        self._tat -= self.interval_s
        if self._budget is not None:
            self._budget += 1
        if self._waker is not None and not self._waker.done():
            self._waker.set_result(None)  # the task napping at the gate may go sooner

    def on_success(self) -> None:
        """A request went through: creep back towards the target rate, slowly (module docstring)."""
        now = self._clock()
        if self._rate < self.target_rate_per_min and now - self._last_slowdown >= self.recover_after_s:
            step = self._reduced_to / self.recover_successes
            self._rate = min(self.target_rate_per_min, self._rate + step)

    def on_quota(self, seq: int, remaining: int, reset_in_s: float) -> None:
        """The answer to start number ``seq`` says ``remaining`` calls are left, for ``reset_in_s`` seconds.

        Every start after ``seq`` may already be counted, so the estimate is ``remaining`` minus
        those. Answers overtake each other (and requests do on their way to the server), so of two
        estimates for one window the lower wins, and the later reopening time; an answer about a
        new window (reopening clearly later, or after ours reopened) replaces both.
        """
        now = self._clock()
        estimate = remaining - max(0, self._starts - seq)
        reopens = now + max(0.0, reset_in_s) + self.quota_margin_s
        new_window = (
            self._budget is None or now >= self._window_reopens or reopens > self._window_reopens + _SAME_WINDOW_S
        )
        before = self._budget
        if new_window:
            self._budget, self._window_reopens = estimate, reopens
        else:
            assert self._budget is not None
            self._budget = min(self._budget, estimate)
            self._window_reopens = max(self._window_reopens, reopens)
        if self._budget <= 0 and (before is None or before > 0):
            logger.info("the server's window is used up: holding new calls %.1fs until it reopens", reopens - now)

    def on_rate_limited(self, started_at: float, wait_s: float) -> None:
        """A request started at ``started_at`` got a 429: pause everyone ``wait_s``, slow down.

        The new rate is what the server evidently allows (see the module docstring), or half.
        Only a 429 for a request that started after the previous slowdown lowers the rate again,
        so one burst of 429s slows down once, not eight times. A 429 of that burst for a call
        started *earlier* than the one that set the rate (answers overtake each other) means fewer
        calls got through than counted: the estimate is corrected down, never up.
        """
        now = self._clock()
        if started_at >= self._last_slowdown:
            old = self._rate
            allowed = self._evident_rate(now, started_at, wait_s)
            if allowed is not None and allowed * self.estimate_margin < old:
                new, why = allowed * self.estimate_margin, f"the server allowed ≈{allowed:.1f}/min"
            else:
                new, why = old * self.slowdown_factor, "halved"
            self._rate = self._reduced_to = max(self.min_rate_per_min, new)
            self._last_slowdown = now
            self._first_refused = started_at
            logger.info(
                "rate limited (429): pausing %.1fs, pacing %.1f → %.1f calls/min (%s)", wait_s, old, self._rate, why
            )
        elif started_at < self._first_refused:
            self._first_refused = started_at
            allowed = self._evident_rate(now, started_at, wait_s)
            if allowed is not None and allowed * self.estimate_margin < self._rate:
                self._rate = self._reduced_to = max(self.min_rate_per_min, allowed * self.estimate_margin)
                logger.debug("an earlier call was refused too: pacing %.1f calls/min", self._rate)
        self._refused.append(started_at)
        self._paused_until = max(self._paused_until, now + max(0.0, wait_s))

    def _evident_rate(self, now: float, refused_start: float, wait_s: float) -> float | None:
        """Calls/min the server let through before refusing the call started at ``refused_start``."""
        _forget_before(self._recent_starts, now - _LOOKBACK_S)
        _forget_before(self._refused, now - _LOOKBACK_S)
        before = [t for t in self._recent_starts if t < refused_start]
        allowed = len(before) - sum(1 for t in self._refused if t < refused_start)
        if allowed <= 0:
            return None
        span = now - before[0] + max(0.0, wait_s)
        return allowed / max(span, 1.0) * 60.0


def _forget_before(times: deque[float], cutoff: float) -> None:
    while times and times[0] < cutoff:
        times.popleft()
