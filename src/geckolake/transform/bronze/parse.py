"""``parse()``: one raw response body → bronze rows plus quarantined records.

Never raises for bad data: a body that cannot be used at all becomes one quarantine row with
``record_json`` null and ``ok=False``; a bad record becomes one quarantine row with its JSON, and the
other records are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from geckolake.api.endpoints import ApiRequest
from geckolake.errors import ParseError
from geckolake.lake.bronze import BRONZE_SCHEMAS
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import market_chart, markets, reference
from geckolake.transform.bronze.body import BodyError, api_error_message, parse_body_json
from geckolake.transform.bronze.required import MissingBodyPart, missing_series
from geckolake.transform.bronze.result import (
    ParseResult,
    Quarantine,
    RowBuilder,
    constant_array,
    table_from_columns,
)

log = logging.getLogger(__name__)

RowParser = Callable[[ApiRequest, Any, RowBuilder, Quarantine], None]

# endpoint → (bronze table, parser filling a RowBuilder); market charts have their own columnar path.
_ROW_PARSERS: dict[str, tuple[str, RowParser]] = {
    "coins_markets": ("coins_markets", markets.parse_markets),
    "global": ("global_market", reference.parse_global),
    "categories": ("categories", reference.parse_categories),
    "trending": ("trending", reference.parse_trending),
    "coins_list": ("coins_list", reference.parse_coins_list),
    "simple_price": ("simple_price", reference.parse_simple_price),
}
_CHART_ENDPOINTS = frozenset({"market_chart", "market_chart_range"})


def table_for(endpoint: str) -> str:
    """The bronze table an endpoint's rows go to.

    Raises:
        ParseError: the endpoint has no bronze parser.
    """
    if endpoint in _CHART_ENDPOINTS:
        return "market_chart"
    if endpoint in _ROW_PARSERS:
        return _ROW_PARSERS[endpoint][0]
    raise ParseError(f"no bronze parser for endpoint {endpoint!r}")


def _empty(table: str, lineage: Lineage) -> pa.Table:
    return RowBuilder(BRONZE_SCHEMAS[table]).to_table(lineage)


def parse(request: ApiRequest, body: bytes, lineage: Lineage) -> ParseResult:
    """Parse one response body of ``request`` into bronze rows.

    Raises:
        ParseError: only for an endpoint that has no bronze parser (a programming error);
            bad data never raises, it is quarantined.
    """
    table = table_for(request.endpoint)
    coin_id = market_chart.chart_coin_id(request) if request.endpoint in _CHART_ENDPOINTS else None
    quarantine = Quarantine(request.endpoint, default_coin_id=coin_id)
    try:
        fast = market_chart.read_series_fast(body) if request.endpoint in _CHART_ENDPOINTS else None
        if fast is not None:
            _require_series({name: len(ts) for name, (ts, _) in zip(market_chart.SERIES, fast, strict=True)})
            chart = market_chart.chart_from_series(fast, quarantine)
            return _result(table, _chart_table(request, chart, lineage), quarantine, lineage)
        data = parse_body_json(body, pause_gc=request.endpoint in _CHART_ENDPOINTS)
        message = api_error_message(data)
        if message is not None:
            raise BodyError(f"CoinGecko error body: {message}")
        if request.endpoint in _CHART_ENDPOINTS:
            result_table = _parse_chart(request, data, quarantine, lineage)
        else:
            rows = RowBuilder(BRONZE_SCHEMAS[table])
            _ROW_PARSERS[request.endpoint][1](request, data, rows, quarantine)
            result_table = rows.to_table(lineage)
    except (ParseError, BodyError, pa.ArrowException, OverflowError, ValueError, TypeError) as e:
        # ParseError/BodyError are expected; the others are a safety net (a value that slipped past
        # the readers) so that bad data never stops a run: the whole body goes to quarantine.
        reason = str(e) if isinstance(e, ParseError | BodyError) else f"could not build rows: {e!r}"
        log.warning("unusable %s body %s: %s", request.endpoint, lineage.raw_path, reason)
        whole = Quarantine(request.endpoint, default_coin_id=coin_id)
        whole.add(reason, whole_body=True)
        parts = e.parts if isinstance(e, MissingBodyPart) else ()
        return ParseResult(
            {table: _empty(table, lineage)},
            whole.to_table(lineage),
            ok=False,
            points=0,
            missing=dict.fromkeys(parts, 1),
            required_missing=parts,
            reason=reason,
        )
    return _result(table, result_table, quarantine, lineage)


def _result(table: str, result_table: pa.Table, quarantine: Quarantine, lineage: Lineage) -> ParseResult:
    if len(quarantine):
        log.info("%d record(s) of %s quarantined", len(quarantine), lineage.raw_path)
    if quarantine.missing:
        log.warning("schema drift in %s: %s", lineage.raw_path, quarantine.missing)
    return ParseResult(
        {table: result_table},
        quarantine.to_table(lineage),
        ok=True,
        points=result_table.num_rows,
        missing=dict(quarantine.missing),
        required_missing=tuple(p for p in quarantine.missing if p in quarantine.required),
    )


def _require_series(lengths: dict[str, int | None]) -> None:
    """Raises: MissingBodyPart when a chart series is absent, or empty while another has points."""
    gone = missing_series(lengths)
    if gone:
        raise MissingBodyPart(*gone)


def _parse_chart(request: ApiRequest, data: Any, quarantine: Quarantine, lineage: Lineage) -> pa.Table:
    chart = market_chart.parse_chart(data, quarantine)  # first: it names a body of the wrong shape
    _require_series({name: len(v) if isinstance(v := data.get(name), list) else None for name in market_chart.SERIES})
    return _chart_table(request, chart, lineage)


def _chart_table(request: ApiRequest, chart: market_chart.ChartColumns, lineage: Lineage) -> pa.Table:
    n = len(chart.ts_us)
    columns: dict[str, Any] = market_chart.chart_arrays(chart)
    constants = {
        "coin_id": market_chart.chart_coin_id(request),
        "vs_currency": request.vs_currency or request.params_dict.get("vs_currency"),
        "granularity": market_chart.infer_granularity(request, chart.ts_us),
    }
    for name, value in constants.items():
        columns[name] = constant_array(value, pa.string(), n)
    return table_from_columns(BRONZE_SCHEMAS["market_chart"], columns, lineage)
