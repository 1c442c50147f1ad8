"""``/coins/{id}/market_chart[/range]`` → ``bronze.market_chart`` (one row per timestamp).

This is the hot path of a history backfill and of a replay. The common case builds no Python object
per point: :func:`read_series_fast` has simdjson put the numbers of a plain body straight into float
arrays. Anything it cannot vouch for (nulls, extra keys, error bodies, odd shapes) goes the orjson
way: lists of ``[unix_ms, value]`` pairs, converted by Arrow in one call; only a body with unreadable
points falls back to a per-point loop, which quarantines exactly the bad points. Both readers give
the same rows (a property test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import simdjson

from geckolake.api.endpoints import ApiRequest
from geckolake.transform.bronze.body import BodyError, shape_name
from geckolake.transform.bronze.coerce import MAX_EPOCH_SECONDS, RecordError, to_float
from geckolake.transform.bronze.result import Quarantine

SERIES = ("prices", "market_caps", "total_volumes")
_COLUMNS = ("price", "market_cap", "total_volume")
_MAX_MS = MAX_EPOCH_SECONDS * 1000
_DAY_S = 86_400
_PAIR = pa.list_(pa.float64(), 2)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class ChartColumns:
    """The parsed chart: timestamps in µs, three value arrays (NaN = null) and the live-point flag."""

    ts_us: IntArray
    values: tuple[FloatArray, FloatArray, FloatArray]
    is_last: npt.NDArray[np.bool_]


def chart_coin_id(request: ApiRequest) -> str | None:
    """The coin id of a chart request, from the request or else from ``/coins/{id}/market_chart``."""
    if request.coin_id:
        return request.coin_id
    parts = request.path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "coins":
        return unquote(parts[1])
    return None


def infer_granularity(request: ApiRequest, ts_us: IntArray | None = None) -> str | None:
    """The request's granularity; else ``interval``; else from the span asked for (``from``/``to`` or
    ``days``: ≤1 day → 5m, ≤90 days → hourly, else daily, as CoinGecko's automatic granularity);
    else, with no usable parameter, from the median spacing of the data."""
    if request.granularity:
        return request.granularity
    params = request.params_dict
    interval = params.get("interval")
    if interval:
        return interval
    span_days: float | None = None
    try:
        if "from" in params and "to" in params:
            span_days = (float(params["to"]) - float(params["from"])) / _DAY_S
        elif "days" in params:
            span_days = float("inf") if params["days"] == "max" else float(params["days"])
    except ValueError:
        span_days = None
    if span_days is not None:
        return "5m" if span_days <= 1 else "hourly" if span_days <= 90 else "daily"
    if ts_us is not None and len(ts_us) >= 3:
        gap_s = float(np.median(np.diff(np.sort(ts_us)))) / 1e6
        return "5m" if gap_s < 30 * 60 else "hourly" if gap_s < 12 * 3600 else "daily"
    return None


def _fast_series(points: list[Any]) -> tuple[IntArray, FloatArray] | None:
    """Vectorized read of ``[[ms, value], ...]``; None when any point needs a closer look."""
    if not points:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    try:
        # Arrow's converter checks every point is a 2-element list of numbers (or null) in C,
        # faster than numpy's shape discovery on nested lists.
        pairs = pa.array(points, _PAIR)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if pairs.null_count:
        return None
    return _checked_pairs(pairs.flatten().to_numpy(zero_copy_only=False).reshape(-1, 2))


def _checked_pairs(arr: npt.NDArray[np.float64]) -> tuple[IntArray, FloatArray] | None:
    """``(ts_µs, values)`` of an ``(n, 2)`` array of ``[ms, value]``; None if a point needs a closer look."""
    ts_ms = arr[:, 0]
    values = arr[:, 1]
    if not (np.all(ts_ms >= 0) and np.all(ts_ms <= _MAX_MS)) or np.isinf(values).any():
        return None  # NaN (null) timestamps fail the comparisons too
    return np.rint(ts_ms * 1000.0).astype(np.int64), values


def _all_series_fast(data: dict[str, Any]) -> list[tuple[IntArray, FloatArray]] | None:
    """The common case in one vectorized pass over the three series together; None otherwise."""
    lists: list[list[Any]] = []
    for name in SERIES:
        points = data.get(name)
        if not isinstance(points, list):
            return None
        lists.append(points)
    fast = _fast_series(lists[0] + lists[1] + lists[2])
    if fast is None:
        return None
    ts, values = fast
    a, b = len(lists[0]), len(lists[0]) + len(lists[1])
    return [(ts[:a], values[:a]), (ts[a:b], values[a:b]), (ts[b:], values[b:])]


# JSON's own whitespace: orjson refuses anything else before the value (a BOM, which simdjson skips).
_JSON_SPACE = b" \t\r\n"
# Every byte but the three that shape a chart's arrays (numbers and the three keys contain none).
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b"[],")


def read_series_fast(body: bytes) -> list[tuple[IntArray, FloatArray]] | None:
    """The three series of a plain chart body, read by simdjson straight into float arrays.

    A plain body is an object with exactly the keys prices, market_caps and total_volumes, each a
    list of ``[number, number]`` with timestamps in range: what the orjson path reads without a
    closer look. For anything else (nulls, other keys, an error body, invalid JSON) this returns
    None and the caller takes the orjson path, which decides and quarantines as before.
    """
    if body.lstrip(_JSON_SPACE)[:1] != b"{":
        return None
    try:
        doc = simdjson.Parser().parse(body)
        if not isinstance(doc, simdjson.Object):
            return None
        keys = list(doc.keys())
        if len(keys) != len(SERIES) or set(keys) != set(SERIES):
            return None  # also a repeated key, which orjson resolves to the last value
        flat: dict[str, FloatArray] = {}
        sizes: list[int] = []
        for key in keys:
            points = doc[key]
            if not isinstance(points, simdjson.Array):
                return None
            sizes.append(len(points))
            # as_buffer flattens nested lists and refuses nulls, booleans and strings.
            flat[key] = np.frombuffer(points.as_buffer(of_type="d"), dtype=np.float64)
    except (ValueError, TypeError, RuntimeError):
        return None
    # Flattening hides the shape of each point ([[1, 2, 3], [4]] also gives 4 numbers): the brackets
    # and commas must be exactly those of n two-number points per series.
    if body.translate(None, _NOT_STRUCTURAL) != b",".join(_skeleton(n) for n in sizes):
        return None
    out = []
    for name in SERIES:
        pairs = _checked_pairs(flat[name].reshape(-1, 2))
        if pairs is None:
            return None
        out.append(pairs)
    return out


def _skeleton(points: int) -> bytes:
    """The structural bytes of a list of ``points`` two-number lists: ``[[,],[,]]``."""
    return b"[" + b"[,]," * (points - 1) + b"[,]]" if points else b"[]"


def _point(point: Any, where: str) -> tuple[int, float]:
    if not isinstance(point, list) or len(point) < 2:
        raise RecordError(f"{where}: expected [unix_ms, value], got {shape_name(point)}")
    ts = to_float(point[0], f"{where} timestamp")
    if ts is None:
        raise RecordError(f"{where}: missing timestamp")
    if not (0 <= ts <= _MAX_MS):
        raise RecordError(f"{where}: timestamp {point[0]!r} is out of range")
    value = to_float(point[1], f"{where} value")
    return round(ts * 1000), np.nan if value is None else value


def _slow_series(points: list[Any], name: str, quarantine: Quarantine) -> tuple[IntArray, FloatArray]:
    """Point by point: keeps every readable point, quarantines the others."""
    ts_list: list[int] = []
    values: list[float] = []
    for i, point in enumerate(points):
        try:
            ts, value = _point(point, f"{name}[{i}]")
        except RecordError as e:
            quarantine.add(str(e), point)
            continue
        ts_list.append(ts)
        values.append(value)
    return np.array(ts_list, dtype=np.int64), np.array(values, dtype=np.float64)


def _series(data: dict[str, Any], name: str, quarantine: Quarantine) -> tuple[IntArray, FloatArray]:
    points = data.get(name)
    if points is None:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if not isinstance(points, list):
        raise BodyError(f"{name}: expected a list of [unix_ms, value] pairs, got {shape_name(points)}")
    fast = _fast_series(points)
    return fast if fast is not None else _slow_series(points, name, quarantine)


def _drop_duplicates(
    ts: IntArray, values: FloatArray, name: str, quarantine: Quarantine
) -> tuple[IntArray, FloatArray]:
    """Within one series a repeated timestamp keeps its last value; earlier ones are quarantined."""
    _, last_from_end = np.unique(ts[::-1], return_index=True)
    keep = np.sort(len(ts) - 1 - last_from_end)
    if len(keep) == len(ts):
        return ts, values
    dropped = np.setdiff1d(np.arange(len(ts)), keep)
    for i in dropped:
        value = None if np.isnan(values[i]) else float(values[i])
        quarantine.add(f"{name}: duplicate timestamp, a later point wins", [int(ts[i]) // 1000, value])
    return ts[keep], values[keep]


def _outer_join(series: list[tuple[IntArray, FloatArray]], quarantine: Quarantine) -> tuple[IntArray, list[FloatArray]]:
    """Join by timestamp; rows in order of first appearance (prices, then market caps, then volumes)."""
    series = [_drop_duplicates(ts, v, name, quarantine) for (ts, v), name in zip(series, SERIES, strict=True)]
    all_ts = np.concatenate([ts for ts, _ in series])
    uniq, first = np.unique(all_ts, return_index=True)
    order = np.argsort(first, kind="stable")
    row_of_sorted = np.empty(len(uniq), dtype=np.int64)
    row_of_sorted[order] = np.arange(len(uniq))
    columns: list[FloatArray] = []
    for ts, values in series:
        out = np.full(len(uniq), np.nan)
        out[row_of_sorted[np.searchsorted(uniq, ts)]] = values
        columns.append(out)
    return uniq[order], columns


def parse_chart(data: Any, quarantine: Quarantine) -> ChartColumns:
    """Read the three series and join them.

    Raises:
        BodyError: the body is not a chart object.
    """
    if not isinstance(data, dict):
        raise BodyError(f"expected an object with prices/market_caps/total_volumes, got {shape_name(data)}")
    if not any(name in data for name in SERIES):
        raise BodyError(f"expected an object with prices/market_caps/total_volumes, got keys {sorted(data)[:5]}")
    return chart_from_series(_all_series_fast(data) or [_series(data, name, quarantine) for name in SERIES], quarantine)


def chart_from_series(series: list[tuple[IntArray, FloatArray]], quarantine: Quarantine) -> ChartColumns:
    """Join the three read series into chart rows (duplicate timestamps and misaligned series handled)."""
    (tp, vp), (tm, vm), (tv, vv) = series
    if len(tp) == len(tm) == len(tv) and np.array_equal(tp, tm) and np.array_equal(tp, tv):
        ts, columns = tp, [vp, vm, vv]
        is_last = np.zeros(len(ts), dtype=np.bool_)
        if len(ts):
            is_last[-1] = True
    else:
        # The live "now" point is the last point of the first non-empty series.
        last_ts = next((int(t[-1]) for t, _ in series if len(t)), None)
        ts, columns = _outer_join(series, quarantine)
        is_last = ts == last_ts if last_ts is not None else np.zeros(len(ts), dtype=np.bool_)
    return ChartColumns(ts, (columns[0], columns[1], columns[2]), is_last)


def float_column(values: FloatArray) -> pa.Array:
    """NaN marks a JSON null (JSON has no NaN), so it becomes an Arrow null."""
    nan = np.isnan(values)
    return pa.array(values, pa.float64(), mask=nan if nan.any() else None)


def chart_arrays(chart: ChartColumns) -> dict[str, pa.Array]:
    columns: dict[str, pa.Array] = {
        "ts": pa.array(chart.ts_us, pa.timestamp("us", tz="UTC")),
        "is_last": pa.array(chart.is_last, pa.bool_()),
    }
    for name, values in zip(_COLUMNS, chart.values, strict=True):
        columns[name] = float_column(values)
    return columns
