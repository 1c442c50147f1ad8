"""Reply objects and CoinGecko's error bodies (shapes from FACTS.md and recorded/errors/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

JSON = "application/json; charset=utf-8"


@dataclass
class Reply:
    """A finished answer: status, body bytes, extra headers. Handlers return these."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    cache_s: int = 0  # Cache-Control max-age CoinGecko would send


class ApiFailure(Exception):
    """Raised inside handlers to answer with an error body."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def ok(obj: object, cache_s: int = 60) -> Reply:
    return Reply(200, orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), cache_s=cache_s)


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def error_simple(status: int, message: str) -> ApiFailure:
    """``{"error": "..."}`` — missing parameters (422), unknown coin (404), bad values (400)."""
    return ApiFailure(Reply(status, orjson.dumps({"error": message})))


def missing(param: str) -> ApiFailure:
    return error_simple(422, f"Missing parameter {param}")


def coin_not_found() -> ApiFailure:
    return error_simple(404, "coin not found")


def status_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> ApiFailure:
    """``{"status": {"timestamp", "error_code", "error_message"}}`` — key and plan errors."""
    body = {"status": {"timestamp": _iso_now(), "error_code": code, "error_message": message}}
    return ApiFailure(Reply(status, orjson.dumps(body), headers or {}))


def key_missing() -> ApiFailure:
    return status_error(
        401,
        10002,
        "API Key Missing. Please make sure you're using the right authentication method. For more "
        "information, please refer to: https://docs.coingecko.com/reference/authentication",
    )


def key_wrong() -> ApiFailure:
    return status_error(
        401,
        10002,
        "Invalid API Key. Please make sure you're using the right authentication method. For more "
        "information, please refer to: https://docs.coingecko.com/reference/authentication",
    )


def paid_only() -> ApiFailure:
    return status_error(
        401,
        10005,
        "You may need to upgrade your plan to access this endpoint. This request is limited to "
        "PRO API subscribers: https://www.coingecko.com/en/api/pricing",
    )


def history_limit() -> ApiFailure:
    return status_error(
        401,
        10012,
        "Your request exceeds the allowed time range. Public API users are limited to querying "
        "historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical "
        "data access: https://www.coingecko.com/en/api/pricing.",
    )


def rate_limited(headers: dict[str, str]) -> Reply:
    body = {
        "status": {
            "error_code": 429,
            "error_message": "You've exceeded the Rate Limit. Please visit "
            "https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
        }
    }
    return Reply(429, orjson.dumps(body), headers)


def not_found_path() -> Reply:
    return Reply(404, orjson.dumps({"error": "Incorrect path. Please check https://www.coingecko.com/api/"}))
