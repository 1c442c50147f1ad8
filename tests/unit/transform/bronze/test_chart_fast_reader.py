"""The simdjson reader of market charts gives exactly what the orjson path gives, or steps aside.

Generated bodies cover the shapes CoinGecko sends and the ones it should not: integers and floats of
any magnitude and precision, null values, misaligned and duplicated timestamps, extra keys,
whitespace and newlines. Where the fast reader answers, rows and quarantine must equal the orjson
path's; for a plain body (three keys, two numbers per point) it must answer. Listed inputs that
orjson refuses or reads differently (NaN / Infinity literals, a BOM, repeated keys, points of
other sizes, error bodies) must make it step aside.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geckolake.api.endpoints import ApiRequest
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import market_chart, parse
from geckolake.transform.bronze.result import Quarantine

MAX_MS = market_chart._MAX_MS

timestamps = st.one_of(st.integers(0, MAX_MS), st.floats(0, MAX_MS, allow_nan=False))
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-12, max_value=1e15),
)
plain_points = st.lists(st.tuples(timestamps, numbers).map(list), max_size=40)
any_points = st.lists(st.tuples(timestamps, st.one_of(st.none(), numbers)).map(list), max_size=40)


def _dump(body: dict[str, object], pretty: bool) -> bytes:
    return json.dumps(body, indent=1 if pretty else None).encode()


def _orjson_way(body: bytes) -> tuple[market_chart.ChartColumns, list[object]]:
    q = Quarantine("market_chart_range")
    return market_chart.parse_chart(orjson.loads(body), q), list(zip(q.reasons, q.records, strict=True))


def _fast_way(body: bytes) -> tuple[market_chart.ChartColumns, list[object]] | None:
    series = market_chart.read_series_fast(body)
    if series is None:
        return None
    q = Quarantine("market_chart_range")
    return market_chart.chart_from_series(series, q), list(zip(q.reasons, q.records, strict=True))


def _same(a: market_chart.ChartColumns, b: market_chart.ChartColumns) -> bool:
    same_values = all(
        np.array_equal(x.view(np.int64), y.view(np.int64)) for x, y in zip(a.values, b.values, strict=True)
    )  # bit for bit: -0.0 and NaN included
    return np.array_equal(a.ts_us, b.ts_us) and np.array_equal(a.is_last, b.is_last) and same_values


def _fits_a_double_path(points: list[list[object]]) -> bool:
    """orjson refuses integers beyond 64 bits, and Arrow those beyond 2**53 as float64 values: such a
    body takes the slow path there, and simdjson may too (it reads up to 64 bits)."""
    return all(not isinstance(v, int) or abs(v) < 2**53 for _, v in points)


@settings(max_examples=300, deadline=None)
@given(prices=plain_points, caps=plain_points, volumes=plain_points, aligned=st.booleans(), pretty=st.booleans())
def test_fast_reader_equals_the_orjson_path_and_answers_for_plain_bodies(
    prices: list[list[object]], caps: list[list[object]], volumes: list[list[object]], aligned: bool, pretty: bool
) -> None:
    if aligned:  # the usual body: one timestamp per row across the three series
        caps = [[t, v] for (t, _), (_, v) in zip(prices, caps + prices, strict=False)]
        volumes = [[t, v] for (t, _), (_, v) in zip(prices, volumes + prices, strict=False)]
    raw = _dump({"prices": prices, "market_caps": caps, "total_volumes": volumes}, pretty)
    fast = _fast_way(raw)
    if all(_fits_a_double_path(s) for s in (prices, caps, volumes)):
        assert fast is not None, raw[:200]
    if fast is not None:
        slow = _orjson_way(raw)
        assert _same(fast[0], slow[0])
        assert fast[1] == slow[1]


@settings(max_examples=200, deadline=None)
@given(prices=any_points, caps=any_points, volumes=any_points, extra=st.booleans(), pretty=st.booleans())
def test_fast_reader_never_disagrees_with_the_orjson_path(
    prices: list[list[object]], caps: list[list[object]], volumes: list[list[object]], extra: bool, pretty: bool
) -> None:
    body: dict[str, object] = {"prices": prices, "market_caps": caps, "total_volumes": volumes}
    if extra:
        body = {"note": "x[1,2]", **body, "more": {"a": [1, 2]}}
    raw = _dump(body, pretty)
    fast = _fast_way(raw)
    if fast is not None:
        slow = _orjson_way(raw)
        assert _same(fast[0], slow[0])
        assert fast[1] == slow[1]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"prices":[[1,NaN]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,Infinity]],"market_caps":[],"total_volumes":[]}',
        b'\xef\xbb\xbf{"prices":[[1,2]],"market_caps":[],"total_volumes":[]}',
        b'\x0b{"prices":[[1,2]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,2]],"market_caps":[],"total_volumes":[],"error":"rate limited"}',
        b'{"status":{"error_code":429},"prices":[],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,2]]}',
        b'{"prices":[[1,2,3]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,2,3],[4]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,[2,3]]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[1,2],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[null,2]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,null]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[null],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,"2"]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,true]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[-1,2]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":{"a":1},"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,2]],"prices":[[3,4]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,2]],"market_caps":[],"total_volumes":[]}{"prices":[]}',
        b'{"prices":[[1,1e400]],"market_caps":[],"total_volumes":[]}',
        b'{"prices":[[1,123456789012345678901234]],"market_caps":[],"total_volumes":[]}',
        b"[[1,2]]",
        b'{"prices":[[1,2]',
        b"",
    ],
)
def test_fast_reader_steps_aside_for_what_it_cannot_vouch_for(raw: bytes) -> None:
    assert market_chart.read_series_fast(raw) is None


def test_parse_gives_the_same_bronze_rows_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [[1_700_000_000_000 + i * 3_600_000, 100.0 + i / 7] for i in range(500)]
    body = {"prices": points, "market_caps": points[::-1], "total_volumes": [*points[:-1], points[0]]}
    raw = orjson.dumps(body)
    request = ApiRequest("market_chart_range", "/coins/bitcoin/market_chart/range", (("vs_currency", "usd"),),
                         coin_id="bitcoin", vs_currency="usd", granularity="hourly")  # fmt: skip
    lineage = Lineage("run", datetime(2026, 11, 20, tzinfo=UTC), "sha", "raw/x.json.gz")
    assert market_chart.read_series_fast(raw) is not None
    fast = parse(request, raw, lineage)
    monkeypatch.setattr(market_chart, "read_series_fast", lambda body: None)
    slow = parse(request, raw, lineage)
    assert fast.tables["market_chart"].equals(slow.tables["market_chart"])
    assert fast.points == slow.points == 500
    assert fast.quarantine is not None and slow.quarantine is not None
    assert fast.quarantine.drop_columns(["_fetched_at"]).equals(slow.quarantine.drop_columns(["_fetched_at"]))
