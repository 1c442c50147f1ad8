"""The planner's state comes from what the lake holds: a manifest row alone never makes data count as held."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from geckolake.api import endpoints as ep
from geckolake.ingest.planner import read_lake_state
from geckolake.lake.catalog import Lake

TODAY = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
YESTERDAY = TODAY - timedelta(days=1)


def _call(seq: int, request: ep.ApiRequest, outcome: str, fetched_at: datetime) -> dict[str, Any]:
    return {
        "run_id": f"run-{fetched_at:%d}",
        "seq": seq,
        "endpoint": request.endpoint,
        "path": request.path,
        "params_json": json.dumps(request.params_dict, sort_keys=True),
        "coin_id": request.coin_id,
        "vs_currency": request.vs_currency,
        "granularity": request.granularity,
        "status": 200,
        "outcome": outcome,
        "error": None if outcome == "ok" else "missing required: name",
        "fetched_at": fetched_at,
        "raw_path": f"raw/{request.endpoint}/{seq}.json.gz",
    }


def _append(lake: Lake, name: str, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to ``name``, absent columns null."""
    schema = lake.arrow_schema(name)
    lake.append(name, pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema))


def _manifest(lake: Lake, *calls: dict[str, Any]) -> None:
    _append(lake, "ops.raw_manifest", list(calls))


def _listed(lake: Lake, fetched_at: datetime) -> None:
    """silver.coins as a /coins/list fetched at ``fetched_at`` leaves it."""
    coins = [
        {"coin_id": c, "symbol": c[:3], "name": c, "name_source": "list", "_platforms_fetched_at": fetched_at}
        for c in ("bitcoin", "ethereum")
    ]
    _append(lake, "silver.coins", coins)


@pytest.fixture
def fresh(lake: Lake) -> Lake:
    lake.drop_layers(("ops",))
    return lake


def test_a_complete_list_of_today_that_silver_holds_is_not_fetched_again(fresh: Lake) -> None:
    _manifest(fresh, _call(1, ep.coins_list(), "ok", TODAY))
    _listed(fresh, TODAY)
    assert read_lake_state(fresh, "usd").coins_list_day == datetime(2026, 11, 20, tzinfo=UTC)


def test_the_list_counts_as_missing_when_silver_lost_it(fresh: Lake) -> None:
    """A replay killed right after dropping the tables: the manifest still says "fetched today"."""
    _manifest(fresh, _call(1, ep.coins_list(), "ok", TODAY))
    assert read_lake_state(fresh, "usd").coins_list_day is None


def test_a_list_rolled_back_by_the_gate_counts_from_the_list_silver_kept(fresh: Lake) -> None:
    _manifest(fresh, _call(1, ep.coins_list(), "ok", YESTERDAY), _call(2, ep.coins_list(), "ok", TODAY))
    _listed(fresh, YESTERDAY)  # today's list was merged, then silver went back to yesterday's snapshot
    assert read_lake_state(fresh, "usd").coins_list_day == datetime(2026, 11, 19, tzinfo=UTC)


def test_an_incomplete_list_is_fetched_again(fresh: Lake) -> None:
    """A list with a coin's name missing (drift) lands the other coins, but does not count as the day's list."""
    _manifest(fresh, _call(1, ep.coins_list(), "ok", YESTERDAY), _call(2, ep.coins_list(), "incomplete", TODAY))
    _listed(fresh, TODAY)
    assert read_lake_state(fresh, "usd").coins_list_day == datetime(2026, 11, 19, tzinfo=UTC)


def test_only_complete_charts_count_as_fetched_history(fresh: Lake) -> None:
    start = int((TODAY - timedelta(days=30)).timestamp())
    end = int(TODAY.timestamp())
    _manifest(
        fresh,
        _call(1, ep.market_chart_range("bitcoin", "usd", start, end, "daily"), "ok", TODAY),
        _call(2, ep.market_chart_range("ethereum", "usd", start, end, "daily"), "quarantined", TODAY),
        _call(3, ep.market_chart_range("tether", "usd", start, end, "daily"), "incomplete", TODAY),
    )
    state = read_lake_state(fresh, "usd")
    assert state.daily_from == {"bitcoin": datetime.fromtimestamp(start, UTC)}
