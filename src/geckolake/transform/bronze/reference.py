"""Small reference endpoints: ``/global``, ``/coins/categories``, ``/search/trending``,
``/coins/list`` and ``/simple/price``. Each fills a ``RowBuilder``; bad records go to quarantine."""

from __future__ import annotations

from typing import Any

from geckolake.api.endpoints import ApiRequest
from geckolake.transform.bronze.body import BodyError, shape_name
from geckolake.transform.bronze.coerce import (
    RecordError,
    epoch_us_from_iso,
    epoch_us_from_seconds,
    to_float,
    to_float_map,
    to_int,
    to_str,
    to_str_list,
)
from geckolake.transform.bronze.required import (
    CATEGORY_DOCUMENTED,
    CATEGORY_REQUIRED,
    COINS_LIST_REQUIRED,
    GLOBAL_DOCUMENTED,
    GLOBAL_REQUIRED,
    SIMPLE_PRICE_FLAGS,
    MissingPart,
    absent,
    asked,
    require,
)
from geckolake.transform.bronze.result import Quarantine, RowBuilder


def _object(record: Any, what: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"expected {what} object, got {shape_name(record)}")
    return record


def _each(
    records: list[Any], rows: RowBuilder, quarantine: Quarantine, make: Any, documented: tuple[str, ...] = ()
) -> None:
    """One row per record; a bad record is quarantined, a record lacking ``documented`` fields lands."""
    for position, record in enumerate(records):
        try:
            rows.add(make(record, position))
        except RecordError as e:
            coin_id = record.get("id") if isinstance(record, dict) else None
            quarantine.reject(e, record, coin_id=coin_id if isinstance(coin_id, str) else None)
            continue
        if documented:
            quarantine.lacks(absent(record, documented))


# --- /global -------------------------------------------------------------------------------------


def global_row(data: Any) -> dict[str, Any]:
    """The ``data`` block of ``/global`` as a row.

    Raises:
        MissingPart: ``updated_at`` (the row's key) is absent.
        RecordError: a field cannot be read.
    """
    data = _object(data, "a global-data")
    require(data, GLOBAL_REQUIRED)
    row: dict[str, Any] = {
        name: to_int(data.get(name), name)
        for name in ("active_cryptocurrencies", "upcoming_icos", "ongoing_icos", "ended_icos", "markets")
    }
    for name in ("total_market_cap", "total_volume", "market_cap_percentage"):
        row[name] = to_float_map(data.get(name), name)
    for name in ("market_cap_change_percentage_24h_usd", "volume_change_percentage_24h_usd"):
        row[name] = to_float(data.get(name), name)
    row["updated_at"] = epoch_us_from_seconds(data.get("updated_at"), "updated_at")
    return row


def parse_global(request: ApiRequest, body: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Raises: BodyError when the body is not ``{"data": {...}}``."""
    if not isinstance(body, dict) or "data" not in body:
        raise BodyError(f"expected an object with a data block, got {shape_name(body)}")
    try:
        rows.add(global_row(body["data"]))
    except RecordError as e:
        quarantine.reject(e, body["data"])
        return
    quarantine.lacks(absent(body["data"], GLOBAL_DOCUMENTED))


# --- /coins/categories ---------------------------------------------------------------------------


def category_row(record: Any, position: int) -> dict[str, Any]:
    """Raises: MissingPart without id or updated_at (the key); RecordError for an unreadable field."""
    record = _object(record, "a category")
    require(record, CATEGORY_REQUIRED)
    category_id = to_str(record.get("id"), "id")
    if not category_id:
        raise RecordError("missing id")
    return {
        "category_id": category_id,
        "name": to_str(record.get("name"), "name"),
        "market_cap": to_float(record.get("market_cap"), "market_cap"),
        "market_cap_change_24h": to_float(record.get("market_cap_change_24h"), "market_cap_change_24h"),
        "content": to_str(record.get("content"), "content"),
        "top_3_coins_id": to_str_list(record.get("top_3_coins_id"), "top_3_coins_id"),
        "top_3_coins": to_str_list(record.get("top_3_coins"), "top_3_coins"),
        "volume_24h": to_float(record.get("volume_24h"), "volume_24h"),
        "updated_at": epoch_us_from_iso(record.get("updated_at"), "updated_at"),
        "position": position,
    }


def parse_categories(request: ApiRequest, body: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Raises: BodyError when the body is not a list."""
    if not isinstance(body, list):
        raise BodyError(f"expected a list of categories, got {shape_name(body)}")
    _each(body, rows, quarantine, category_row, CATEGORY_DOCUMENTED)


# --- /search/trending ----------------------------------------------------------------------------


def _usd(block: Any, field: str) -> float | None:
    """``price_change_percentage_24h`` is an object per currency in newer bodies, a number in older."""
    if isinstance(block, dict):
        return to_float(block.get("usd"), f"{field}.usd")
    return to_float(block, field)


def _data_block(item: dict[str, Any]) -> dict[str, Any]:
    data = item.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RecordError(f"data: expected an object, got {shape_name(data)}")
    return data


def _required_id(item: dict[str, Any], key: str = "id") -> str:
    item_id = to_str(item.get(key), key)
    if not item_id:
        raise RecordError(f"missing {key}")
    return item_id


def trending_coin_row(record: Any, position: int) -> dict[str, Any]:
    """``{"item": {...}}``; old bodies have only the item, newer ones a ``data`` block of strings.

    Raises:
        RecordError: no id or an unreadable field.
    """
    record = _object(record, "a trending coin")
    item = _object(record.get("item", record), "a trending coin item")
    data = _data_block(item)
    price_btc = item.get("price_btc")
    score = to_int(item.get("score"), "score")
    return {
        "item_type": "coin",
        "item_id": _required_id(item),
        "name": to_str(item.get("name"), "name"),
        "symbol": to_str(item.get("symbol"), "symbol"),
        "market_cap_rank": to_int(item.get("market_cap_rank"), "market_cap_rank"),
        "score": position if score is None else score,
        "price_btc": to_float(price_btc if price_btc is not None else data.get("price_btc"), "price_btc"),
        "price_usd": to_float(data.get("price"), "data.price"),
        "market_cap_usd": to_float(data.get("market_cap"), "data.market_cap"),
        "total_volume_usd": to_float(data.get("total_volume"), "data.total_volume"),
        "price_change_percentage_24h_usd": _usd(
            data.get("price_change_percentage_24h"), "data.price_change_percentage_24h"
        ),
        "position": position,
    }


def trending_nft_row(record: Any, position: int) -> dict[str, Any]:
    """Raises: RecordError for an NFT without id or with an unreadable field."""
    item = _object(record, "a trending NFT")
    data = _data_block(item)
    return {
        "item_type": "nft",
        "item_id": _required_id(item),
        "name": to_str(item.get("name"), "name"),
        "symbol": to_str(item.get("symbol"), "symbol"),
        "score": position,
        "price_change_percentage_24h_usd": to_float(
            data.get("floor_price_in_usd_24h_percentage_change"),
            "data.floor_price_in_usd_24h_percentage_change",
        ),
        "floor_price": to_str(data.get("floor_price"), "data.floor_price"),
        "position": position,
    }


def trending_category_row(record: Any, position: int) -> dict[str, Any]:
    """A trending category's ``item_id`` is its slug (the ``category_id`` of ``/coins/categories``),
    falling back to the numeric id.

    Raises:
        RecordError: no slug nor id, or an unreadable field.
    """
    item = _object(record, "a trending category")
    data = _data_block(item)
    item_id = to_str(item.get("slug"), "slug") or _required_id(item)
    return {
        "item_type": "category",
        "item_id": item_id,
        "name": to_str(item.get("name"), "name"),
        "score": position,
        "market_cap_usd": to_float(data.get("market_cap"), "data.market_cap"),
        "total_volume_usd": to_float(data.get("total_volume"), "data.total_volume"),
        "coins_count": to_int(item.get("coins_count"), "coins_count"),
        "position": position,
    }


_TRENDING_GROUPS = (
    ("coins", trending_coin_row),
    ("nfts", trending_nft_row),
    ("categories", trending_category_row),
)


def parse_trending(request: ApiRequest, body: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Raises: BodyError when the body is not an object with a ``coins`` list."""
    if not isinstance(body, dict) or not isinstance(body.get("coins"), list):
        raise BodyError(f"expected an object with a list of coins, got {shape_name(body)}")
    for key, make in _TRENDING_GROUPS:
        group = body.get(key)
        if group is None:
            continue
        if not isinstance(group, list):
            quarantine.add(f"{key}: expected a list, got {shape_name(group)}", group)
            continue
        _each(group, rows, quarantine, make)


# --- /coins/list ---------------------------------------------------------------------------------


def coins_list_row(record: Any, position: int) -> dict[str, Any]:
    """Raises: MissingPart without id, symbol or name; RecordError for unreadable platforms."""
    record = _object(record, "a coin")
    require(record, COINS_LIST_REQUIRED)
    platforms = record.get("platforms")
    if platforms is not None:
        if not isinstance(platforms, dict):
            raise RecordError(f"platforms: expected an object, got {shape_name(platforms)}")
        platforms = {str(k): to_str(v, f"platforms.{k}") for k, v in platforms.items()}
    return {
        "coin_id": _required_id(record),
        "symbol": to_str(record.get("symbol"), "symbol"),
        "name": to_str(record.get("name"), "name"),
        "platforms": platforms,
    }


def parse_coins_list(request: ApiRequest, body: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Raises: BodyError when the body is not a list."""
    if not isinstance(body, list):
        raise BodyError(f"expected a list of coins, got {shape_name(body)}")
    _each(body, rows, quarantine, coins_list_row, ("platforms",) if asked(request, "include_platform") else ())


# --- /simple/price -------------------------------------------------------------------------------

_SUFFIXES = (("_market_cap", "market_cap"), ("_24h_vol", "vol_24h"), ("_24h_change", "change_24h"))


def simple_price_rows(request: ApiRequest, coin_id: str, quotes: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """``{"usd": 1, "usd_market_cap": ..., "last_updated_at": ...}`` → one row per vs currency, and the
    fields the request asked for (``include_*=true``) that the quotes lack (they land as null).
    An empty object (CoinGecko's answer for an unknown vs currency) gives no rows.

    Raises:
        MissingPart: a currency's price, or ``last_updated_at`` when the request asked for it (the
            key of ``silver.live_prices``), is absent.
        RecordError: the quotes are not an object or a value cannot be read.
    """
    quotes = _object(quotes, "a price")
    derived = {key + suffix for key in quotes for suffix, _ in _SUFFIXES}
    currencies = [k for k in quotes if k != "last_updated_at" and k not in derived]
    # Derived fields of a currency whose price is absent: the price is what a row is for.
    priceless = sorted(
        {key[: -len(suffix)] for key in quotes for suffix, _ in _SUFFIXES if key.endswith(suffix)}
        - set(currencies)
        - {""}
    )
    if priceless:
        raise MissingPart(*priceless)
    if quotes and asked(request, "include_last_updated_at") and "last_updated_at" not in quotes:
        raise MissingPart("last_updated_at")
    updated = epoch_us_from_seconds(quotes.get("last_updated_at"), "last_updated_at")
    rows = []
    lacking: list[str] = []
    for currency in currencies:
        row: dict[str, Any] = {
            "coin_id": coin_id,
            "vs_currency": currency,
            "price": to_float(quotes.get(currency), currency),
            "last_updated_at": updated,
        }
        for suffix, column in _SUFFIXES:
            row[column] = to_float(quotes.get(currency + suffix), currency + suffix)
        rows.append(row)
        lacking += [currency + suffix for flag, suffix in SIMPLE_PRICE_FLAGS if asked(request, flag)]
    return rows, absent(quotes, lacking)


def parse_simple_price(request: ApiRequest, body: Any, rows: RowBuilder, quarantine: Quarantine) -> None:
    """Raises: BodyError when the body is not an object keyed by coin id."""
    if not isinstance(body, dict):
        raise BodyError(f"expected an object keyed by coin id, got {shape_name(body)}")
    for coin_id, quotes in body.items():
        try:
            parsed, lacking = simple_price_rows(request, coin_id, quotes)
        except RecordError as e:
            quarantine.reject(e, {coin_id: quotes}, coin_id=coin_id)
            continue
        for row in parsed:
            rows.add(row)
        quarantine.lacks(lacking)
