"""Retry policy: what each failure becomes, retry-after and quota parsing, backoff bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geckolake.api.retry import (
    RETRYABLE_STATUSES,
    Quota,
    RetryPolicy,
    error_class_for,
    error_for_exception,
    is_retryable_status,
    parse_retry_after,
    quota_from_headers,
    retry_after_from_headers,
)
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


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (200, None, None),
        (204, None, None),
        (429, None, RateLimited),
        (408, None, ServerError),
        (500, None, ServerError),
        (503, None, ServerError),
        (522, None, ServerError),
        (401, 10002, AuthError),
        (403, None, AuthError),
        (400, 10002, AuthError),  # a missing key can come back as a 400
        (403, 1020, AuthError),  # the CDN's firewall
        (404, None, NotFound),
        (400, None, ApiError),
        (422, None, ApiError),
        (301, None, ApiError),  # redirects are not followed: a wrong base URL
    ],
)
def test_one_table_decides_what_each_answer_becomes(
    status: int, code: int | None, expected: type[GeckolakeError] | None
) -> None:
    assert error_class_for(status, code) is expected
    assert (expected is not None and issubclass(expected, TransientError)) == is_retryable_status(status)


REQUEST = httpx.Request("GET", "https://api.coingecko.com/api/v3/global")


@pytest.mark.parametrize(
    ("error", "connect", "timeout"),
    [
        (httpx.ConnectError("refused", request=REQUEST), True, False),
        (httpx.ConnectTimeout("slow handshake", request=REQUEST), True, True),
        (httpx.ProxyError("proxy said no", request=REQUEST), True, False),
        (httpx.ReadTimeout("hung", request=REQUEST), False, True),
        (httpx.WriteTimeout("hung", request=REQUEST), False, True),
        (httpx.PoolTimeout("busy", request=REQUEST), False, True),
        (httpx.ReadError("reset", request=REQUEST), False, False),
        (httpx.RemoteProtocolError("cut short", request=REQUEST), False, False),
        (httpx.DecodingError("bad gzip", request=REQUEST), False, False),
    ],
)
def test_httpx_errors_become_network_errors(error: httpx.HTTPError, connect: bool, timeout: bool) -> None:
    ours = error_for_exception(error, "detail", endpoint="global")
    assert type(ours) is NetworkError
    assert ours.connect is connect and ours.timeout is timeout and ours.endpoint == "global"
    assert RetryPolicy().retries(ours, attempt=1)


def test_a_url_without_http_is_a_config_error_not_retried() -> None:
    ours = error_for_exception(httpx.UnsupportedProtocol("missing protocol", request=REQUEST), "detail")
    assert isinstance(ours, ConfigError) and "COINGECKO_BASE_URL" in ours.hint
    assert not RetryPolicy().retries(ours, attempt=1)


def test_policy_retries_transient_errors_until_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    err = ServerError("HTTP 503", status=503)
    assert policy.retries(err, 2) and not policy.retries(err, 3)
    assert not policy.retries(ApiError("HTTP 400", status=400), 1)
    assert policy.delay_after(RateLimited("429", retry_after=30.0), 1) == 0.0  # the limiter waits
    assert 0 <= policy.delay_after(err, 1, random.Random(1)) <= policy.base_s


def test_quota_and_waits_are_read_against_the_answers_own_date() -> None:
    # Whatever the local clock says (it is not 2025-03-01 here), the Date header gives the right 30 s.
    headers = {
        "date": "Sat, 01 Mar 2025 12:00:00 GMT",
        "x-ratelimit-remaining": "7",
        "x-ratelimit-reset": "2025-03-01 12:00:30 +0000",
    }
    assert quota_from_headers(headers) == Quota(7, 30.0)
    assert retry_after_from_headers(headers) == 30.0
    assert quota_from_headers({"x-ratelimit-remaining": "7"}) is None
    assert quota_from_headers({**headers, "x-ratelimit-remaining": "many"}) is None


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
