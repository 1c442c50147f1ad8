"""What a body must carry: the required and the documented parts of each endpoint (schema drift).

CoinGecko answers "unknown" with ``null``; it does not leave documented fields out. Every recorded
body (tests/data/coingecko/recorded) carries every field of its endpoint's version, nulls included,
so an absent field is schema drift, never an answer. Two tiers (docs/bronze.md, "Required parts"):

* **required** — the parts a row is keyed or valued by. Without one the record (for a chart: the
  whole body, one call per coin) is quarantined with the reason ``missing required: <part>``, so
  nothing from it overwrites good silver values, and the call is not ``ok`` in the manifest: the
  planner asks for it again.
* **documented** — the other fields every real body carries, and the optional fields the request
  asked for (``sparkline=true``, ``include_market_cap=true``, …). Without one the record still
  lands, with a null there (as CoinGecko's own null would), and the call is marked ``incomplete``.

Fields CoinGecko added over time (``content``, ``top_3_coins`` of categories; ``nfts``,
``categories`` and the ``data`` block of trending) are neither: old bodies lack them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from geckolake.api.endpoints import ApiRequest
from geckolake.transform.bronze.body import BodyError
from geckolake.transform.bronze.coerce import RecordError

CHART_SERIES: tuple[str, ...] = ("prices", "market_caps", "total_volumes")

MARKETS_REQUIRED: tuple[str, ...] = ("id", "last_updated", "current_price")
MARKETS_DOCUMENTED: tuple[str, ...] = (
    "symbol",
    "name",
    "image",
    "market_cap",
    "market_cap_rank",
    "fully_diluted_valuation",
    "total_volume",
    "high_24h",
    "low_24h",
    "price_change_24h",
    "price_change_percentage_24h",
    "market_cap_change_24h",
    "market_cap_change_percentage_24h",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "ath",
    "ath_change_percentage",
    "ath_date",
    "atl",
    "atl_change_percentage",
    "atl_date",
    "roi",
)
CATEGORY_REQUIRED: tuple[str, ...] = ("id", "updated_at")
CATEGORY_DOCUMENTED: tuple[str, ...] = ("name", "market_cap", "market_cap_change_24h", "volume_24h")
COINS_LIST_REQUIRED: tuple[str, ...] = ("id", "symbol", "name")
GLOBAL_REQUIRED: tuple[str, ...] = ("updated_at",)
GLOBAL_DOCUMENTED: tuple[str, ...] = (
    "active_cryptocurrencies",
    "upcoming_icos",
    "ongoing_icos",
    "ended_icos",
    "markets",
    "total_market_cap",
    "total_volume",
    "market_cap_percentage",
    "market_cap_change_percentage_24h_usd",
)
TRENDING_COIN_DOCUMENTED: tuple[str, ...] = ("name", "symbol", "market_cap_rank", "score")
# /simple/price: the per-currency field each include_* flag adds (suffix appended to the currency)
SIMPLE_PRICE_FLAGS: tuple[tuple[str, str], ...] = (
    ("include_market_cap", "_market_cap"),
    ("include_24hr_vol", "_24h_vol"),
    ("include_24hr_change", "_24h_change"),
)


REQUIRED_PREFIX = "missing required: "


class MissingPart(RecordError):
    """A required field is absent: the record is quarantined with this reason."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        super().__init__(REQUIRED_PREFIX + ", ".join(parts))


class MissingBodyPart(BodyError):
    """A required part of the body (a chart series) is absent: the whole body is quarantined."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        super().__init__(REQUIRED_PREFIX + ", ".join(parts))


def asked(request: ApiRequest, flag: str) -> bool:
    """The request set ``flag=true`` (e.g. ``include_last_updated_at``)."""
    return request.params_dict.get(flag, "").lower() == "true"


def markets_documented(request: ApiRequest) -> tuple[str, ...]:
    """The documented fields of a markets row, with those ``sparkline`` / ``price_change_percentage`` asked for."""
    extra = ["sparkline_in_7d"] if asked(request, "sparkline") else []
    windows = request.params_dict.get("price_change_percentage", "")
    extra += [f"price_change_percentage_{w.strip()}_in_currency" for w in windows.split(",") if w.strip()]
    return MARKETS_DOCUMENTED + tuple(extra)


def require(record: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Raises: MissingPart naming every field of ``fields`` absent from ``record``."""
    absent = [f for f in fields if f not in record]
    if absent:
        raise MissingPart(*absent)


def absent(record: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    """The fields of ``fields`` absent from ``record`` (documented ones: landed as null)."""
    return [f for f in fields if f not in record]


def missing_series(lengths: Mapping[str, int | None]) -> list[str]:
    """Chart series that are absent (None) or empty while another series has points."""
    has_points = any(n for n in lengths.values())
    return [name for name in CHART_SERIES if lengths.get(name) is None or (has_points and not lengths[name])]
