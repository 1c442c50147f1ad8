"""Request and response shapes shared by the planner, the client and raw landing.

An ``ApiRequest`` is everything needed to make one call and to describe it in the manifest:
no secret ever lives here (the key is added as a header by the client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import quote

Endpoint = Literal[
    "coins_markets",
    "market_chart_range",
    "global",
    "categories",
    "trending",
    "coins_list",
    "simple_price",
]

Granularity = Literal["5m", "hourly", "daily"]


@dataclass(frozen=True)
class ApiRequest:
    """One planned call. ``params`` keeps insertion order so URLs and raw paths are stable."""

    endpoint: Endpoint
    path: str  # relative to the base URL, e.g. "/coins/bitcoin/market_chart/range"
    params: tuple[tuple[str, str], ...] = ()
    coin_id: str | None = None
    vs_currency: str | None = None
    granularity: Granularity | None = None

    @property
    def params_dict(self) -> dict[str, str]:
        return dict(self.params)

    def describe(self) -> str:
        """A log-safe one-line description (no key, by construction)."""
        query = "&".join(f"{k}={v}" for k, v in self.params)
        return f"{self.path}?{query}" if query else self.path


@dataclass(frozen=True)
class ApiResponse:
    """A successful (2xx) response, body kept byte-exact for raw landing."""

    request: ApiRequest
    status: int
    body: bytes
    fetched_at: datetime  # UTC, when the response arrived
    elapsed_ms: float
    attempts: int = 1
    headers: dict[str, str] = field(default_factory=dict)  # a safe subset: content-type, retry-after...


def markets(vs_currency: str, page: int, per_page: int = 250) -> ApiRequest:
    return ApiRequest(
        "coins_markets",
        "/coins/markets",
        (
            ("vs_currency", vs_currency),
            ("order", "market_cap_desc"),
            ("per_page", str(per_page)),
            ("page", str(page)),
            ("sparkline", "true"),
            ("price_change_percentage", "1h,24h,7d,30d"),
        ),
        vs_currency=vs_currency,
    )


def category_markets(vs_currency: str, category_id: str, page: int = 1, per_page: int = 250) -> ApiRequest:
    """One markets page of the coins of a category (its members, by market cap): no sparkline and
    no extra change windows, since the rows serve membership only."""
    return ApiRequest(
        "coins_markets",
        "/coins/markets",
        (
            ("vs_currency", vs_currency),
            ("category", category_id),
            ("order", "market_cap_desc"),
            ("per_page", str(per_page)),
            ("page", str(page)),
        ),
        vs_currency=vs_currency,
    )


def market_chart_range(coin_id: str, vs_currency: str, start: int, end: int, granularity: Granularity) -> ApiRequest:
    """``start``/``end`` in UNIX seconds. Daily uses ``interval=daily`` (allowed on every plan);
    hourly relies on automatic granularity, so windows must stay within 2..90 days."""
    params: list[tuple[str, str]] = [("vs_currency", vs_currency), ("from", str(start)), ("to", str(end))]
    if granularity == "daily":
        params.append(("interval", "daily"))
    return ApiRequest(
        "market_chart_range",
        f"/coins/{quote(coin_id, safe='')}/market_chart/range",
        tuple(params),
        coin_id=coin_id,
        vs_currency=vs_currency,
        granularity=granularity,
    )


def global_market() -> ApiRequest:
    return ApiRequest("global", "/global")


def categories() -> ApiRequest:
    return ApiRequest("categories", "/coins/categories")


def trending() -> ApiRequest:
    return ApiRequest("trending", "/search/trending")


def coins_list() -> ApiRequest:
    return ApiRequest("coins_list", "/coins/list")


def simple_price(ids: list[str], vs_currency: str) -> ApiRequest:
    return ApiRequest(
        "simple_price",
        "/simple/price",
        (
            ("ids", ",".join(ids)),
            ("vs_currencies", vs_currency),
            ("include_market_cap", "true"),
            ("include_24hr_vol", "true"),
            ("include_24hr_change", "true"),
            ("include_last_updated_at", "true"),
        ),
        vs_currency=vs_currency,
    )
