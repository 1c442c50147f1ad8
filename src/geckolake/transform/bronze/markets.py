"""``/coins/markets`` → ``bronze.coins_markets`` (one row per coin of the page)."""

from __future__ import annotations

from typing import Any

from geckolake.api.endpoints import ApiRequest
from geckolake.transform.bronze.body import BodyError, shape_name
from geckolake.transform.bronze.coerce import (
    RecordError,
    epoch_us_from_iso,
    to_float,
    to_int,
    to_str,
)
from geckolake.transform.bronze.required import MARKETS_REQUIRED, absent, markets_documented, require
from geckolake.transform.bronze.result import Quarantine, RowBuilder

_FLOATS = (
    "current_price",
    "market_cap",
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
    "atl",
    "atl_change_percentage",
)
# bronze column ← CoinGecko field added by ``price_change_percentage=1h,24h,7d,30d``
_IN_CURRENCY = (
    ("price_change_percentage_1h", "price_change_percentage_1h_in_currency"),
    ("price_change_percentage_24h_in_currency", "price_change_percentage_24h_in_currency"),
    ("price_change_percentage_7d", "price_change_percentage_7d_in_currency"),
    ("price_change_percentage_30d", "price_change_percentage_30d_in_currency"),
)


def _page(request: ApiRequest) -> int | None:
    raw = request.params_dict.get("page")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _sparkline(record: dict[str, Any]) -> list[float | None] | None:
    block = record.get("sparkline_in_7d")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise RecordError(f"sparkline_in_7d: expected an object, got {type(block).__name__}")
    prices = block.get("price")
    if prices is None:
        return None
    if not isinstance(prices, list):
        raise RecordError(f"sparkline_in_7d.price: expected a list, got {type(prices).__name__}")
    return [to_float(p, "sparkline_in_7d.price") for p in prices]


def market_row(
    record: Any, vs_currency: str | None, page: int | None, position: int, category: str | None = None
) -> dict[str, Any]:
    """One coin of a markets page as a bronze row.

    Raises:
        MissingPart: a required field (id, last_updated, current_price) is absent (schema drift).
        RecordError: a null id or last_updated, or a field that cannot be read.
    """
    if not isinstance(record, dict):
        raise RecordError(f"expected a coin object, got {shape_name(record)}")
    require(record, MARKETS_REQUIRED)
    coin_id = to_str(record.get("id"), "id")
    if not coin_id:
        raise RecordError("missing id")
    last_updated = epoch_us_from_iso(record.get("last_updated"), "last_updated")
    if last_updated is None:
        raise RecordError("missing last_updated")
    row: dict[str, Any] = {name: to_float(record.get(name), name) for name in _FLOATS}
    for column, source in _IN_CURRENCY:
        row[column] = to_float(record.get(source), source)
    roi = record.get("roi")
    if roi is not None and not isinstance(roi, dict):
        raise RecordError(f"roi: expected an object or null, got {type(roi).__name__}")
    roi = roi or {}
    row.update(
        coin_id=coin_id,
        symbol=to_str(record.get("symbol"), "symbol"),
        name=to_str(record.get("name"), "name"),
        image=to_str(record.get("image"), "image"),
        vs_currency=vs_currency,
        market_cap_rank=to_int(record.get("market_cap_rank"), "market_cap_rank"),
        ath_date=epoch_us_from_iso(record.get("ath_date"), "ath_date"),
        atl_date=epoch_us_from_iso(record.get("atl_date"), "atl_date"),
        roi_times=to_float(roi.get("times"), "roi.times"),
        roi_currency=to_str(roi.get("currency"), "roi.currency"),
        roi_percentage=to_float(roi.get("percentage"), "roi.percentage"),
        last_updated=last_updated,
        sparkline_7d=_sparkline(record),
        page=page,
        position=position,
        category=category,
    )
    return row


def parse_markets(request: ApiRequest, data: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Fill ``rows`` from a markets page; bad coins go to ``quarantine``.

    Raises:
        BodyError: the body is not a list of coins.
    """
    if not isinstance(data, list):
        raise BodyError(f"expected a list of coins, got {shape_name(data)}")
    vs_currency = request.vs_currency or request.params_dict.get("vs_currency")
    page = _page(request)
    category = request.params_dict.get("category")
    documented = markets_documented(request)
    for position, record in enumerate(data):
        try:
            rows.add(market_row(record, vs_currency, page, position, category))
        except RecordError as e:
            coin_id = record.get("id") if isinstance(record, dict) else None
            quarantine.reject(e, record, coin_id=coin_id)
            continue
        quarantine.lacks(absent(record, documented))
