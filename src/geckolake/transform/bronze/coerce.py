"""Tolerant value readers shared by the bronze parsers.

Each reader accepts what CoinGecko has been seen to send for a field (numbers as JSON numbers,
numeric strings, formatted strings like ``"$104,127,324"``, nulls) and raises ``RecordError`` with a
readable reason for anything else, so the caller can quarantine that one record.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Largest instant we accept: 9999-12-31T23:59:59Z, the end of Python's and Arrow's calendar.
MAX_EPOCH_SECONDS = 253_402_300_799
_INT64_MIN, _INT64_END = -(2**63), 2**63
_STRIP = str.maketrans("", "", "$,_ \u00a0")


class RecordError(ValueError):
    """One record (or one field of it) cannot be read; the reason names the field."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_float(value: Any, field: str) -> float | None:
    """A JSON number, a numeric string (``"123.4"``, ``"1e-7"``, ``"$1,234"``) or null → float."""
    if value is None:
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.translate(_STRIP)
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise RecordError(f"{field}: cannot read {_short(value)} as a number") from None
        if not math.isfinite(number):
            raise RecordError(f"{field}: {_short(value)} is not a finite number")
        return number
    raise RecordError(f"{field}: expected a number, got {type(value).__name__} {_short(value)}")


def to_int(value: Any, field: str) -> int | None:
    """A JSON integer, an integral float (``12.0``) or an integral numeric string → int."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | float = value
    else:
        as_float = to_float(value, field)
        if as_float is None:
            return None
        if not as_float.is_integer():
            raise RecordError(f"{field}: expected a whole number, got {_short(value)}")
        number = as_float
    if not _INT64_MIN <= number < _INT64_END:
        raise RecordError(f"{field}: {_short(value)} does not fit a 64-bit integer")
    return int(number)


def to_str(value: Any, field: str) -> str | None:
    """A string, kept verbatim; numbers are written out (an id sent as ``225`` becomes ``"225"``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"{field}: expected a string, got {type(value).__name__} {_short(value)}")


def to_str_list(value: Any, field: str) -> list[str | None] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise RecordError(f"{field}: expected a list, got {type(value).__name__}")
    return [to_str(v, field) for v in value]


def to_float_map(value: Any, field: str) -> dict[str, float | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{field}: expected an object, got {type(value).__name__}")
    return {str(k): to_float(v, f"{field}.{k}") for k, v in value.items()}


def epoch_us_from_seconds(value: Any, field: str) -> int | None:
    """UNIX seconds (int, float or numeric string) → microseconds since the epoch."""
    seconds = to_float(value, field)
    if seconds is None:
        return None
    if seconds < 0 or seconds > MAX_EPOCH_SECONDS:
        raise RecordError(f"{field}: timestamp {_short(value)} is out of range")
    return round(seconds * 1_000_000)


def epoch_us_from_iso(value: Any, field: str) -> int | None:
    """ISO-8601 (``2021-05-15T15:59:43.867Z``; naive means UTC) → microseconds since the epoch."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected an ISO-8601 string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{field}: cannot read {_short(value)} as an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def datetime_to_us(moment: datetime) -> int:
    """A datetime (naive means UTC) → microseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
