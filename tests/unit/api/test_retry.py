"""Retry policy: retry-after parsing and backoff bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geckolake.api.retry import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
        ("soon", None),
        (format_datetime(NOW + timedelta(seconds=42), usegmt=True), 42.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_headers_prefer_retry_after_then_ratelimit_reset() -> None:
    assert retry_after_from_headers({"Retry-After": "7", "x-ratelimit-reset": "2025-03-01 12:01:00 +0000"}, NOW) == 7
    assert retry_after_from_headers({"x-ratelimit-reset": "2025-03-01 12:01:00 +0000"}, NOW) == 60
    assert retry_after_from_headers({"x-ratelimit-reset": "2025-03-01T12:00:30Z"}, NOW) == 30
    assert retry_after_from_headers({"x-ratelimit-reset": "garbage"}, NOW) is None
    assert retry_after_from_headers({}, NOW) is None


def test_statuses() -> None:
    assert {429, 500, 502, 503, 504} <= RETRYABLE_STATUSES
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 422))


@given(attempt=st.integers(min_value=1, max_value=10_000), seed=st.integers())
def test_backoff_is_within_full_jitter_bounds(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=30.0)
    wait = policy.backoff(attempt, random.Random(seed))
    assert 0.0 <= wait <= policy.backoff_ceiling(attempt) <= 30.0
    assert policy.backoff_ceiling(attempt) == min(30.0, 0.5 * 2 ** min(attempt - 1, 100))


@given(st.integers(min_value=1, max_value=1000))
def test_ceilings_grow_then_cap(attempt: int) -> None:
    policy = RetryPolicy()
    assert policy.backoff_ceiling(attempt) <= policy.backoff_ceiling(attempt + 1)
    assert policy.rate_limited_backoff(attempt) <= policy.rate_limited_backoff(attempt + 1) <= 60.0


@given(st.one_of(st.none(), st.floats(min_value=0, max_value=1e9)), st.integers(min_value=1, max_value=50))
def test_rate_limited_wait_is_capped(retry_after: float | None, attempt: int) -> None:
    policy = RetryPolicy()
    wait = policy.rate_limited_wait(retry_after, attempt)
    assert 0 <= wait <= max(policy.max_retry_after_s, policy.rate_limited_cap_s)
    if retry_after is not None and retry_after <= policy.max_retry_after_s:
        assert wait == retry_after


def test_jitter_spreads_waits() -> None:
    rng = random.Random(1)
    waits = {round(RetryPolicy().backoff(5, rng), 6) for _ in range(50)}
    assert len(waits) > 40


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_s": -1.0}])
def test_invalid_policy(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
