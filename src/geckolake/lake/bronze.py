"""Arrow schemas of the bronze tables: a contract with the silver layer, keep names and types exact.

The parsers in :mod:`geckolake.transform.bronze` produce tables of exactly these schemas and
:mod:`geckolake.lake.tables` turns them into table definitions; this module is their one source.
Every bronze table ends with the same four lineage columns, so any row can be traced back to the
raw response file it was parsed from.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_run_id", pa.string()),
    pa.field("_fetched_at", TS),
    pa.field("_raw_sha256", pa.string()),
    pa.field("_raw_path", pa.string()),
)


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields] + list(LINEAGE_FIELDS))


_F = pa.float64()
_S = pa.string()
_I = pa.int64()
_I32 = pa.int32()

COINS_MARKETS = _schema(
    ("coin_id", _S),
    ("symbol", _S),
    ("name", _S),
    ("image", _S),
    ("vs_currency", _S),
    ("current_price", _F),
    ("market_cap", _F),
    ("market_cap_rank", _I),
    ("fully_diluted_valuation", _F),
    ("total_volume", _F),
    ("high_24h", _F),
    ("low_24h", _F),
    ("price_change_24h", _F),
    ("price_change_percentage_24h", _F),
    ("market_cap_change_24h", _F),
    ("market_cap_change_percentage_24h", _F),
    ("circulating_supply", _F),
    ("total_supply", _F),
    ("max_supply", _F),
    ("ath", _F),
    ("ath_change_percentage", _F),
    ("ath_date", TS),
    ("atl", _F),
    ("atl_change_percentage", _F),
    ("atl_date", TS),
    ("roi_times", _F),
    ("roi_currency", _S),
    ("roi_percentage", _F),
    ("last_updated", TS),
    ("price_change_percentage_1h", _F),
    ("price_change_percentage_24h_in_currency", _F),
    ("price_change_percentage_7d", _F),
    ("price_change_percentage_30d", _F),
    ("sparkline_7d", pa.list_(_F)),
    ("page", _I32),
    ("position", _I32),
    ("category", _S),  # the request's ``category`` (a membership page); null on the ranking pages
)

MARKET_CHART = _schema(
    ("coin_id", _S),
    ("vs_currency", _S),
    ("granularity", _S),
    ("ts", TS),
    ("price", _F),
    ("market_cap", _F),
    ("total_volume", _F),
    ("is_last", pa.bool_()),
)

GLOBAL_MARKET = _schema(
    ("active_cryptocurrencies", _I),
    ("upcoming_icos", _I),
    ("ongoing_icos", _I),
    ("ended_icos", _I),
    ("markets", _I),
    ("total_market_cap", pa.map_(_S, _F)),
    ("total_volume", pa.map_(_S, _F)),
    ("market_cap_percentage", pa.map_(_S, _F)),
    ("market_cap_change_percentage_24h_usd", _F),
    ("volume_change_percentage_24h_usd", _F),
    ("updated_at", TS),
)

CATEGORIES = _schema(
    ("category_id", _S),
    ("name", _S),
    ("market_cap", _F),
    ("market_cap_change_24h", _F),
    ("content", _S),
    ("top_3_coins_id", pa.list_(_S)),
    ("top_3_coins", pa.list_(_S)),
    ("volume_24h", _F),
    ("updated_at", TS),
    ("position", _I32),
)

TRENDING = _schema(
    ("item_type", _S),
    ("item_id", _S),
    ("name", _S),
    ("symbol", _S),
    ("market_cap_rank", _I),
    ("score", _I),
    ("price_btc", _F),
    ("price_usd", _F),
    ("market_cap_usd", _F),
    ("total_volume_usd", _F),
    ("price_change_percentage_24h_usd", _F),
    ("coins_count", _I),
    ("floor_price", _S),
    ("position", _I32),
)

COINS_LIST = _schema(
    ("coin_id", _S),
    ("symbol", _S),
    ("name", _S),
    ("platforms", pa.map_(_S, _S)),
)

SIMPLE_PRICE = _schema(
    ("coin_id", _S),
    ("vs_currency", _S),
    ("price", _F),
    ("market_cap", _F),
    ("vol_24h", _F),
    ("change_24h", _F),
    ("last_updated_at", TS),
)

QUARANTINE_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("endpoint", _S),
        pa.field("reason", _S),
        pa.field("record_json", _S),
        pa.field("coin_id", _S),
        pa.field("raw_path", _S),
        pa.field("raw_sha256", _S),
        pa.field("_run_id", _S),
        pa.field("_fetched_at", TS),
    ]
)

BRONZE_SCHEMAS: dict[str, pa.Schema] = {
    "coins_markets": COINS_MARKETS,
    "market_chart": MARKET_CHART,
    "global_market": GLOBAL_MARKET,
    "categories": CATEGORIES,
    "trending": TRENDING,
    "coins_list": COINS_LIST,
    "simple_price": SIMPLE_PRICE,
    "quarantine": QUARANTINE_SCHEMA,
}
"""Bronze table name → schema; ``"quarantine"`` is the shared table for rejected records."""
