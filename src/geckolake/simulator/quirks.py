"""Small formatting rules that reproduce what recorded CoinGecko bodies look like.

Each helper takes ``on`` (quirks enabled, i.e. not ``--clean``) and returns the clean form when off.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from geckolake.simulator.hashing import key_of, unit


def iso_ms(ts_ms: int) -> str:
    """ISO-8601 with milliseconds and ``Z``, as /coins/markets prints it."""
    dt = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def whole(x: float) -> float | int:
    """Whole numbers serialise as integers (``49253`` rather than ``49253.0``)."""
    return int(x) if math.isfinite(x) and x.is_integer() and abs(x) < 1e18 else x


def cap_int(x: float) -> int:
    """Market caps and volumes are whole numbers in /coins/markets."""
    return round(x)


def coarse_extreme(x: float, up: bool, on: bool) -> float | int:
    """Quirk: large-valued fields such as high_24h come as integers (``67291`` next to ``0.0839``)."""
    if not on or x < 1000:
        return x
    return math.ceil(x) if up else math.floor(x)


def pct(x: float | None, digits: int = 5) -> float | None:
    return None if x is None else round(x, digits)


def nulls(seed: int, coin_id: str, field: str, rate: float, on: bool) -> bool:
    """Deterministically decide that a field is null for this coin (quirk only)."""
    return on and unit(key_of(seed, coin_id, "null", field), 0) < rate


def round_price(x: float, precision: str | None) -> float:
    """The ``precision`` parameter: ``full`` or a number of decimals 0..18."""
    if precision is None or precision == "full" or not precision.isdigit():
        return x
    return round(x, min(int(precision), 18))


def ohlc_round(x: float, on: bool) -> float:
    """Quirk: OHLC values rounded to 2 decimals (keep significant digits for tiny prices)."""
    if not on or x == 0:
        return x
    if abs(x) >= 1:
        return round(x, 2)
    return round(x, 5 - math.floor(math.log10(abs(x))))


def money(x: float) -> str:
    """Trending's formatted USD strings: ``"$104,127,324"``."""
    return f"${x:,.0f}"
