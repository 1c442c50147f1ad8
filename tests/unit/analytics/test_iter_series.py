"""iter_series (one scatter for all coins) gives the series the per-coin loop gave."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geckolake.analytics.series import _DENSE, _EPOCH, Series, iter_series, run_starts, sort_order


def reference_iter_series(data: pa.Table) -> Iterator[Series]:
    """The implementation before the single scatter, verbatim."""
    if data.num_rows == 0:
        return
    day = pc.cast(data["date"], pa.int32()).to_numpy().astype(np.int64)  # days since 1970-01-01
    coin = data["coin_id"].to_numpy(zero_copy_only=False)
    cur = data["vs_currency"].to_numpy(zero_copy_only=False)
    new = np.r_[True, (coin[1:] != coin[:-1]) | (cur[1:] != cur[:-1])]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], data.num_rows]
    cols = {c: pc.fill_null(pc.cast(data[c], pa.float64()), np.nan).to_numpy() for c in _DENSE}
    for a, b in zip(starts, ends, strict=True):
        pos = day[a:b] - day[a]
        n = int(pos[-1]) + 1
        dense = {}
        for c, values in cols.items():
            arr = np.full(n, np.nan)
            arr[pos] = values[a:b]
            dense[c] = arr
        has = np.zeros(n, dtype=bool)
        has[pos] = True
        yield Series(
            str(coin[a]),
            str(cur[a]),
            _EPOCH + timedelta(days=int(day[a])),
            has,
            dense["close"],
            dense["market_cap"],
            dense["return_1d"],
            dense["log_return_1d"],
        )


def frame(rng: np.random.Generator) -> pa.Table:
    rows = []
    for cur in ("eur", "usd"):
        for c in range(40):
            first = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 50)))
            days = np.flatnonzero(rng.random(int(rng.integers(1, 120))) < 0.9)  # gaps; some coins one row
            for d in days:
                row: dict[str, object] = {"coin_id": f"coin-{c:02d}", "vs_currency": cur}
                row["date"] = first + timedelta(days=int(d))
                for col in _DENSE:
                    row[col] = None if rng.random() < 0.05 else float(rng.normal(1, 0.1))
                rows.append(row)
    data = pa.Table.from_pylist(rows)
    return data.sort_by([("vs_currency", "ascending"), ("coin_id", "ascending"), ("date", "ascending")])


def test_same_series_as_the_per_coin_loop() -> None:
    data = frame(np.random.default_rng(11))
    got, want = list(iter_series(data)), list(reference_iter_series(data))
    assert len(got) == len(want) == 80
    for g, w in zip(got, want, strict=True):
        assert (g.coin_id, g.vs_currency, g.first) == (w.coin_id, w.vs_currency, w.first)
        for field in ("has_row", "close", "market_cap", "ret", "log_ret"):
            assert np.array_equal(getattr(g, field), getattr(w, field), equal_nan=True), field


def test_run_starts_compares_nulls_as_equal() -> None:
    data = pa.table({"coin_id": ["a", "a", None, None, "b"], "vs_currency": ["usd"] * 4 + [None]})
    assert run_starts(data).tolist() == [True, False, True, False, True]
    assert list(iter_series(data.slice(0, 0))) == []


def test_sort_order_is_arrows_stable_sort_with_nulls_last() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    coins = [None if rng.random() < 0.02 else f"c{int(rng.integers(0, 60))}" for _ in range(n)]
    currencies = [None if rng.random() < 0.02 else ["usd", "eur", "btc"][int(rng.integers(0, 3))] for _ in range(n)]
    days = [
        None if rng.random() < 0.02 else date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 30))) for _ in range(n)
    ]
    data = pa.table(
        {"coin_id": coins, "vs_currency": currencies, "date": pa.array(days, pa.date32()), "row": np.arange(n)}
    )
    data = pa.concat_tables([data.slice(0, 1000), data.slice(1000)])  # chunked, as a scan returns it
    want = data.sort_by([("vs_currency", "ascending"), ("coin_id", "ascending"), ("date", "ascending")])
    assert data.take(sort_order(data)).equals(want)  # the "row" column: ties keep their order


def test_sort_order_of_an_empty_scan() -> None:
    schema = pa.schema([("coin_id", pa.large_string()), ("vs_currency", pa.large_string()), ("date", pa.date32())])
    empty = pa.Table.from_batches([], schema=schema)  # no chunks at all, as a scan of an empty table
    assert len(sort_order(empty)) == 0
