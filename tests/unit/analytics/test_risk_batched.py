"""gold.coin_risk computed many coins at a time equals the per-coin computation bit for bit."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from geckolake.analytics import risk
from geckolake.analytics.series import Series

SCHEMA = pa.schema(
    [
        ("coin_id", pa.string()),
        ("vs_currency", pa.string()),
        ("date", pa.date32()),
        *((name, pa.float64()) for name in risk.MEASURES),
        ("month", pa.string()),
    ]
)


def random_series(rng: np.random.Generator, coin: str, currency: str, first: date, n: int) -> Series:
    log_ret = rng.normal(0, 0.05, n)
    close = 100 * np.exp(np.cumsum(log_ret))
    has_row = rng.random(n) > 0.02
    has_row[0] = has_row[-1] = True  # a series starts and ends on a row
    for values in (log_ret, close):
        values[~has_row] = np.nan
    log_ret[rng.random(n) < 0.01] = np.nan  # an undefined return on a day with a row
    if coin == "flat":
        log_ret[:] = 0.0
    return Series(coin, currency, first, has_row, close, close * 1e6, np.expm1(log_ret), log_ret)


def per_coin(series: list[Series], since: date | None) -> pa.Table:
    bench = {s.vs_currency: s for s in series if s.coin_id == risk.BENCHMARK}
    parts = [risk.coin_risk(s, bench.get(s.vs_currency), since, 0.02) for s in series]
    return pa.concat_tables([p.select(SCHEMA.names).cast(SCHEMA) for p in parts if p.num_rows])


@pytest.mark.parametrize("since", [None, date(2025, 6, 1)])
@pytest.mark.parametrize("chunk_cells", [1, 5_000, 1 << 20])
def test_risk_table_equals_per_coin(since: date | None, chunk_cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lengths shorter than every window, around the 90- and 365-day windows, and long; calendars
    # that start on different days (the benchmark is aligned per coin); two currencies.
    monkeypatch.setattr(risk, "_CHUNK_CELLS", chunk_cells)
    rng = np.random.default_rng(7)
    start = date(2025, 1, 1)
    series = []
    for currency in ("eur", "usd"):
        series.append(random_series(rng, "bitcoin", currency, start, 400))
        for i, n in enumerate([1, 3, 6, 7, 30, 89, 90, 91, 200, 364, 365, 366, 400, 90, 90, 400]):
            first = start + timedelta(days=int(rng.integers(0, 40)))
            series.append(random_series(rng, f"coin-{i:02d}", currency, first, n))
        series.append(random_series(rng, "flat", currency, start, 120))
    series.append(random_series(rng, "no-bench", "gbp", start, 120))
    got = risk.risk_table(series, since, 0.02, SCHEMA)
    want = per_coin(series, since)
    assert got.num_rows == want.num_rows > 0
    for name in SCHEMA.names:
        g, w = got[name].combine_chunks(), want[name].combine_chunks()
        if pa.types.is_floating(g.type):
            # bit for bit, NaN-free: the measures are null, never NaN, where undefined
            assert g.null_count == w.null_count
            assert np.array_equal(g.to_numpy(zero_copy_only=False), w.to_numpy(zero_copy_only=False), equal_nan=True)
            assert g.equals(w), name
        else:
            assert g.equals(w), name


def test_risk_table_of_no_rows_is_empty() -> None:
    rng = np.random.default_rng(1)
    series = [random_series(rng, "bitcoin", "usd", date(2025, 1, 1), 30)]
    assert risk.risk_table(series, date(2026, 1, 1), 0.0, SCHEMA).num_rows == 0
