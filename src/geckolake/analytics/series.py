"""gold.coin_daily read into dense per-coin daily arrays, and trailing-window helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, GreaterThanOrEqual

from geckolake.lake.catalog import Lake

# Longest input window of any metric (365-day drawdown: closes D-364..D; 90-day windows of returns
# reach the close of D-90; 30-day movers D-30) plus one day.
LOOKBACK_DAYS = 366
DAILY_COLUMNS = (
    *("coin_id", "vs_currency", "date", "close", "market_cap", "volume", "return_1d", "log_return_1d"),
    "quality",
)
_DENSE = ("close", "market_cap", "return_1d", "log_return_1d")
_EPOCH = date(1970, 1, 1)


def load_daily(lake: Lake, start: date | None) -> pa.Table:
    """gold.coin_daily rows from ``start`` (all when None), sorted by currency, coin and date."""
    row_filter: BooleanExpression = AlwaysTrue()
    if start is not None:
        row_filter = GreaterThanOrEqual("date", start.isoformat())  # type: ignore[call-arg,misc,arg-type]
    data = lake.read("gold.coin_daily", row_filter, DAILY_COLUMNS)
    return data.take(sort_order(data))


def sort_order(data: pa.Table) -> np.ndarray:
    """The row order of ``data.sort_by`` on currency, coin and date (ascending, nulls last, stable).

    The strings are ranked once per distinct value and the rows sorted on one integer key: about
    half the time of sorting the strings row by row.
    """
    key = np.zeros(data.num_rows, dtype=np.int64)
    if data.num_rows == 0:  # no chunks to encode
        return key
    for name in ("vs_currency", "coin_id", "date"):
        rank, size = _ranks(data[name])
        key = key * size + rank
    return np.argsort(key, kind="stable")


def _ranks(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Per row, the ascending rank of its value among the column's distinct values (null: last)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    values = encoded.dictionary
    rank_of = np.empty(len(values) + 1, dtype=np.int64)
    rank_of[pc.sort_indices(values).to_numpy()] = np.arange(len(values))
    rank_of[len(values)] = len(values)
    index = pc.fill_null(encoded.indices, len(values)).to_numpy()
    return rank_of[index], len(values) + 1


@dataclass
class Series:
    """One coin's daily values on a dense calendar ``first, first+1, ...`` (NaN where no row)."""

    coin_id: str
    vs_currency: str
    first: date
    has_row: np.ndarray  # bool
    close: np.ndarray
    market_cap: np.ndarray
    ret: np.ndarray  # simple return_1d
    log_ret: np.ndarray  # log_return_1d

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=int(i)) for i in range(len(self.close))]

    def index_of(self, d: date) -> int:
        return (d - self.first).days


def run_starts(data: pa.Table) -> np.ndarray:
    """Per row: whether its (coin, currency) differs from the previous row's (row 0: True).

    Arrow compares the strings (no Python objects per row); a null equals a null, as ``None !=
    None`` is False.
    """
    if data.num_rows == 0:
        return np.zeros(0, dtype=bool)
    changed = pc.or_(*(_differs(data[c][1:], data[c][:-1]) for c in ("coin_id", "vs_currency")))
    return np.r_[True, changed.to_numpy(zero_copy_only=False)]


def sorted_runs(data: pa.Table) -> np.ndarray | None:
    """:func:`run_starts` when ``data`` is sorted as :func:`load_daily` sorts it, else None.

    Sorted: no null coin, currency or date; runs strictly ascending by (currency, coin) in byte
    order (so each pair is one run, and a day's rows come in coin order); days strictly increasing
    within a run (one row per coin and day).
    """
    if data.num_rows == 0 or any(data[c].null_count for c in ("coin_id", "vs_currency", "date")):
        return None
    starts = run_starts(data)
    day = pc.cast(data["date"], pa.int32()).to_numpy()
    if (np.diff(day)[~starts[1:]] <= 0).any():
        return None
    at = pa.array(np.flatnonzero(starts))
    cur, coin = data["vs_currency"].take(at), data["coin_id"].take(at)
    later_currency = pc.less(cur[:-1], cur[1:])
    later_coin = pc.and_(pc.equal(cur[:-1], cur[1:]), pc.less(coin[:-1], coin[1:]))
    return starts if pc.all(pc.or_(later_currency, later_coin)).as_py() in (True, None) else None


def _differs(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.ChunkedArray:
    ne = pc.not_equal(a, b)
    return pc.if_else(pc.is_null(ne), pc.not_equal(pc.is_null(a), pc.is_null(b)), ne)


def iter_series(data: pa.Table) -> Iterator[Series]:
    """One :class:`Series` per (coin, currency) of ``data`` (as :func:`load_daily` returns it).

    Every series' dense arrays are slices of one buffer per column, filled in one scatter for all
    coins (per-coin allocation dominated with thousands of short series).
    """
    if data.num_rows == 0:
        return
    day = pc.cast(data["date"], pa.int32()).to_numpy().astype(np.int64)  # days since 1970-01-01
    starts = np.flatnonzero(run_starts(data))
    ends = np.r_[starts[1:], data.num_rows]
    first = day[starts]
    length = day[ends - 1] - first + 1
    offset = np.r_[0, np.cumsum(length)[:-1]]
    run = np.repeat(np.arange(len(starts)), ends - starts)
    at = offset[run] + day - first[run]
    dense = {}
    for c in _DENSE:
        values = np.full(int(length.sum()), np.nan)
        values[at] = pc.fill_null(pc.cast(data[c], pa.float64()), np.nan).to_numpy()
        dense[c] = values
    has = np.zeros(int(length.sum()), dtype=bool)
    has[at] = True
    coins = [str(c) for c in data["coin_id"].take(starts).to_pylist()]
    currencies = [str(c) for c in data["vs_currency"].take(starts).to_pylist()]
    for i, (o, n) in enumerate(zip(offset.tolist(), length.tolist(), strict=True)):
        yield Series(
            coins[i],
            currencies[i],
            _EPOCH + timedelta(days=int(first[i])),
            has[o : o + n],
            dense["close"][o : o + n],
            dense["market_cap"][o : o + n],
            dense["return_1d"][o : o + n],
            dense["log_return_1d"][o : o + n],
        )


def month_of(days: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``YYYY-MM`` of each date; formatted once per distinct day (strftime per row is slow in Arrow)."""
    distinct = pc.unique(days)
    labels = pc.strftime(pc.cast(distinct, pa.timestamp("s")), "%Y-%m")
    return pc.take(labels, pc.index_in(days, distinct))


def windows(x: np.ndarray, w: int) -> np.ndarray:
    """Row j = ``x[j : j + w]`` (the window ending at index j + w - 1), as a C-contiguous copy.

    Each row is reduced on its own, so a value depends only on its window, never on the array's
    length or on where it starts (incremental and full recomputation agree bit for bit).
    """
    if len(x) < w:
        return np.empty((0, w))
    return np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(x, w))


def trailing(values: np.ndarray, n: int, w: int) -> np.ndarray:
    """Per-window results ``values`` (length n - w + 1) placed at each window's end in a length-n array."""
    out = np.full(n, np.nan)
    if len(values):
        out[w - 1 :] = values
    return out


def full_rows(win: np.ndarray) -> np.ndarray:
    """Rows of ``win`` without NaN (the window is full)."""
    return ~np.isnan(win).any(axis=1)
