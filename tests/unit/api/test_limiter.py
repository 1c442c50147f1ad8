"""Limiter arithmetic on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from virtual_time import VirtualTime

from geckolake.api.limiter import RateLimiter


def limiter(rate: float, vt: VirtualTime, **kwargs: object) -> RateLimiter:
    return RateLimiter(rate, clock=vt.clock, sleep=vt.sleep, **kwargs)  # type: ignore[arg-type]


def test_interval_includes_safety_margin() -> None:
    vt = VirtualTime()
    assert limiter(600, vt).interval_s == pytest.approx(60 / (600 * 0.98))
    assert limiter(30, vt, safety=1.0).interval_s == pytest.approx(2.0)


def test_sequential_starts_are_spaced_and_first_is_immediate() -> None:
    vt = VirtualTime(start=100.0)
    lim = limiter(60, vt, safety=1.0)
    starts = [vt.run(lim.acquire()) for _ in range(4)]
    assert starts == pytest.approx([100.0, 101.0, 102.0, 103.0])


def test_concurrent_tasks_share_one_schedule() -> None:
    vt = VirtualTime()
    lim = limiter(600, vt, safety=1.0)

    async def many() -> list[float]:
        return list(await asyncio.gather(*(lim.acquire() for _ in range(10))))

    starts = sorted(vt.run(many()))
    assert starts == pytest.approx([i * 0.1 for i in range(10)])


def test_idle_time_does_not_accumulate_a_burst() -> None:
    vt = VirtualTime()
    lim = limiter(60, vt, safety=1.0)
    assert vt.run(lim.acquire()) == 0.0
    vt.now = 1000.0
    assert [vt.run(lim.acquire()) for _ in range(3)] == pytest.approx([1000.0, 1001.0, 1002.0])


def test_burst_allows_that_many_immediate_starts() -> None:
    vt = VirtualTime()
    lim = limiter(60, vt, safety=1.0, burst=3)
    assert [vt.run(lim.acquire()) for _ in range(5)] == pytest.approx([0, 0, 0, 1, 2])


def test_a_late_wake_up_pushes_the_schedule_instead_of_compressing_it() -> None:
    vt = VirtualTime()
    lim = limiter(60, vt, safety=1.0)

    async def stalled_sleep(seconds: float) -> None:
        await vt.sleep(seconds + 0.5)  # an overloaded event loop wakes us half a second late

    lim._sleep = stalled_sleep
    starts = [vt.run(lim.acquire()) for _ in range(3)]
    assert starts == pytest.approx([0.0, 1.5, 3.0])


@settings(max_examples=50, deadline=None)
@given(
    rate=st.floats(min_value=1, max_value=10_000),
    calls=st.integers(min_value=2, max_value=40),
    gaps=st.lists(st.floats(min_value=0, max_value=5), min_size=40, max_size=40),
)
def test_no_window_of_one_interval_holds_two_starts(rate: float, calls: int, gaps: list[float]) -> None:
    vt = VirtualTime()
    lim = limiter(rate, vt)
    starts = []
    for i in range(calls):
        vt.now += gaps[i] * lim.interval_s  # callers arrive at arbitrary times
        starts.append(vt.run(lim.acquire()))
    spacing = [b - a for a, b in itertools.pairwise(starts)]
    assert min(spacing) >= lim.interval_s * (1 - 1e-9)
    assert all(s >= 0 for s in starts)


def test_429_pauses_everyone_and_halves_rate() -> None:
    vt = VirtualTime()
    lim = limiter(60, vt, safety=1.0)

    async def scenario() -> list[float]:
        first = await lim.acquire()  # t=0
        waiting = [asyncio.ensure_future(lim.acquire()) for _ in range(3)]  # due at 1, 2, 3
        await asyncio.sleep(0)
        lim.on_rate_limited(started_at=first, wait_s=10.0)
        return list(await asyncio.gather(*waiting))

    starts = sorted(vt.run(scenario()))
    assert lim.rate_per_min == pytest.approx(30)
    assert starts[0] >= 10.0  # nobody sent during the pause
    assert starts == pytest.approx([10.0, 12.0, 14.0])  # and afterwards at the halved rate


def test_one_burst_of_429s_slows_down_once() -> None:
    vt = VirtualTime()
    lim = limiter(100, vt)
    started = [vt.run(lim.acquire()) for _ in range(4)]
    vt.now = started[-1] + 0.5
    for s in started:  # all in flight before the first 429 came back
        lim.on_rate_limited(started_at=s, wait_s=1.0)
    assert lim.rate_per_min == pytest.approx(50)
    vt.now = 5.0
    lim.on_rate_limited(started_at=4.9, wait_s=1.0)  # a request sent after the slowdown
    assert lim.rate_per_min == pytest.approx(25)


def test_rate_holds_a_window_after_a_429_then_recovers_slowly_up_to_the_target() -> None:
    vt = VirtualTime()
    lim = limiter(100, vt, recover_successes=10, recover_after_s=60.0)
    lim.on_rate_limited(started_at=0.0, wait_s=0.0)
    assert lim.rate_per_min == pytest.approx(50)
    vt.now = 59.0
    lim.on_success()
    assert lim.rate_per_min == pytest.approx(50)  # no probing within the window that said no
    vt.now = 61.0
    lim.on_success()
    assert lim.rate_per_min == pytest.approx(55)  # one tenth of the reduced rate per success
    for _ in range(30):
        lim.on_success()
    assert lim.rate_per_min == pytest.approx(100)


def test_429_drops_the_rate_to_what_the_server_let_through() -> None:
    # Configured for 60,000/min against a server that allows 30 per minute: 30 calls went through
    # at once, then a 429 says "come back in 60 s". The server allowed 30 calls in ~60 s.
    vt = VirtualTime()
    lim = limiter(60_000, vt)
    for _ in range(30):
        vt.run(lim.acquire())
    refused = vt.run(lim.acquire())
    lim.on_rate_limited(started_at=refused, wait_s=60.0)
    assert lim.rate_per_min == pytest.approx(0.9 * 30, rel=0.01)
    assert lim.paused_until == pytest.approx(vt.now + 60.0)


def test_429_with_nothing_to_measure_halves_the_rate() -> None:
    vt = VirtualTime()
    lim = limiter(600, vt)
    lim.on_rate_limited(started_at=0.0, wait_s=5.0)
    assert lim.rate_per_min == pytest.approx(300)


def test_rate_has_a_floor() -> None:
    vt = VirtualTime()
    lim = limiter(100, vt, min_rate_per_min=10)
    for i in range(20):
        vt.now = float(i)
        lim.on_rate_limited(started_at=vt.now, wait_s=0.0)
    assert lim.rate_per_min == pytest.approx(10)


def test_spent_server_budget_holds_starts_until_its_window_reopens() -> None:
    vt = VirtualTime()
    lim = limiter(60_000, vt, quota_margin_s=1.0)
    starts = [vt.run(lim.acquire()) for _ in range(3)]
    # The answer to the first start: 3 calls left in a window that reopens in 10 s. Starts 2 and 3
    # may already be counted, so only one more call is safe.
    lim.on_quota(seq=1, remaining=3, reset_in_s=10.0)
    assert lim.budget == 1
    starts.append(vt.run(lim.acquire()))
    assert starts[-1] < 1.0
    starts.append(vt.run(lim.acquire()))
    assert starts[-1] == pytest.approx(starts[2] + 11.0, abs=0.01)  # reopened, plus the margin
    assert lim.budget is None  # a new window: unknown until the next answer


def test_of_two_estimates_for_one_window_the_lower_wins() -> None:
    vt = VirtualTime()
    lim = limiter(60_000, vt)
    for _ in range(4):
        vt.run(lim.acquire())
    lim.on_quota(seq=1, remaining=21, reset_in_s=30.0)  # 21 - 3 later starts = 18
    lim.on_quota(seq=4, remaining=20, reset_in_s=30.0)  # a call before 4 was counted late
    assert lim.budget == 18
    lim.on_quota(seq=3, remaining=15, reset_in_s=29.0)  # someone else shares the key: 15 - 1
    assert lim.budget == 14


def test_an_answer_about_a_new_window_replaces_the_budget() -> None:
    vt = VirtualTime()
    lim = limiter(60_000, vt)
    vt.run(lim.acquire())
    lim.on_quota(seq=1, remaining=2, reset_in_s=10.0)
    vt.now = 5.0
    vt.run(lim.acquire())
    lim.on_quota(seq=2, remaining=29, reset_in_s=60.0)  # the server opened a new window early
    assert lim.budget == 29


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_min": 0},
        {"rate_per_min": 10, "burst": 0},
        {"rate_per_min": 10, "safety": 0},
        {"rate_per_min": 10, "jitter": 1},
        {"rate_per_min": 10, "min_rate_per_min": 0},
        {"rate_per_min": 10, "slowdown_factor": 1},
    ],
)
def test_invalid_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**kwargs)  # type: ignore[arg-type]


def test_small_lateness_does_not_accumulate() -> None:
    # Each wake-up 5 % of an interval late (timer resolution, a busy loop): the starts stay on the
    # schedule instead of drifting by 5 % per call.
    vt = VirtualTime()
    lim = limiter(60, vt, safety=1.0)

    async def jittery_sleep(seconds: float) -> None:
        await vt.sleep(seconds + 0.05)

    lim._sleep = jittery_sleep
    starts = [vt.run(lim.acquire()) for _ in range(5)]
    assert starts == pytest.approx([0.0, 1.05, 2.05, 3.05, 4.05])


@settings(max_examples=50, deadline=None)
@given(lateness=st.lists(st.floats(min_value=0, max_value=0.5), min_size=60, max_size=60))
def test_late_wake_ups_never_exceed_the_rate_in_any_window(lateness: list[float]) -> None:
    vt = VirtualTime()
    lim = limiter(600, vt)
    late = iter(lateness)

    async def late_sleep(seconds: float) -> None:
        await vt.sleep(seconds + next(late) * lim.interval_s)

    lim._sleep = late_sleep
    starts = [vt.run(lim.acquire()) for _ in range(50)]
    spacing = [b - a for a, b in itertools.pairwise(starts)]
    assert min(spacing) >= lim.interval_s * (1 - lim.jitter) * (1 - 1e-9)
    window = 10 * lim.interval_s  # never more than the 10 (+1 at the edge) the pacing allows
    assert max(sum(1 for t in starts if s <= t < s + window) for s in starts) <= 11


def test_a_refund_gives_the_slot_back_and_wakes_the_task_waiting_for_it() -> None:
    vt = VirtualTime()
    lim = limiter(30, vt)  # one start every ~2 s

    async def scenario() -> float:
        await lim.acquire()  # t=0: its connection is refused
        waiting = asyncio.ensure_future(lim.acquire())  # due at ~2 s, napping at the gate
        for _ in range(5):
            await asyncio.sleep(0)
        lim.refund()
        return await waiting

    assert vt.run(scenario()) == pytest.approx(0.0)
