"""Ranking coin_daily rows by market cap in SQL."""

from __future__ import annotations


def top_by_cap(value: str, n: int) -> str:
    """SQL aggregate: the list of ``value`` for the group's top ``n`` rows by market cap, best first.

    The order of ``ORDER BY market_cap DESC, coin_id`` (NaN first, as DuckDB sorts it; ties by
    coin id), but a bounded heap per group instead of ranking every row with a window (3-4x
    faster on 10M points). At least one row is kept; callers filter on the position for n < 1.
    """
    key = "{'nan': NOT isnan(market_cap), 'cap': -market_cap, 'coin_id': coin_id}"
    return f"min_by({value}, {key}, {max(1, n)})"
