"""Circuit breaker arithmetic on a virtual clock."""

from __future__ import annotations

import pytest
from virtual_time import VirtualTime

from geckolake.api.breaker import CircuitBreaker


def breaker(vt: VirtualTime, failures: int = 5, window_s: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(failures, window_s, clock=vt.clock)


def test_trips_on_the_nth_failure_in_a_row() -> None:
    vt = VirtualTime()
    b = breaker(vt)
    assert [b.record_failure() for _ in range(5)] == [False, False, False, False, True]
    assert b.is_open and b.streak == 5


def test_any_answer_resets_the_streak() -> None:
    vt = VirtualTime()
    b = breaker(vt)
    for _ in range(4):
        b.record_failure()
    b.record_answer()
    assert not any(b.record_failure() for _ in range(4))


def test_a_failure_long_after_the_previous_one_starts_a_new_streak() -> None:
    vt = VirtualTime()
    b = breaker(vt, window_s=30.0)
    for t in (0.0, 10.0, 20.0, 30.0):  # slow but steady failures still count
        vt.now = t
        b.record_failure()
    vt.now = 61.0  # 31 s after the previous one
    assert not b.record_failure() and b.streak == 1


def test_stays_open_for_the_window_then_lets_one_attempt_through() -> None:
    vt = VirtualTime()
    b = breaker(vt, failures=2, window_s=10.0)
    b.record_failure()
    b.record_failure()
    vt.now = 9.9
    assert b.is_open
    vt.now = 10.1
    assert not b.is_open and b.tripped  # half-open: one attempt may go
    assert b.record_failure() and b.is_open  # it failed: open again at once
    vt.now = 30.0
    b.record_answer()  # the next probe got an answer
    assert not b.tripped and not b.is_open


@pytest.mark.parametrize(("failures", "window_s"), [(0, 30.0), (5, 0.0)])
def test_invalid_settings(failures: int, window_s: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failures, window_s)
