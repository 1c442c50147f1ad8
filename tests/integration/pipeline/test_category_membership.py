"""Category membership: planned once per UTC day, landed as silver.category_members, and used by
gold.category_daily.coin_count and the stablecoin classification of gold.market_daily."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from geckolake import flows
from geckolake.config import AnalyticsSettings, Settings
from geckolake.ingest.planner import dry_run
from geckolake.lake.catalog import open_lake
from geckolake.lake.query import run_query
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COINS = 60
MEMBERSHIP_CALLS = 6  # stablecoins + the top 5 categories by market cap


def _settings(lake: Path, url: str, now: datetime) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=6000, coins=COINS, history_coins=COINS,
        history_days=40, as_of=now, analytics=AnalyticsSettings(stablecoins=frozenset()),
    )  # fmt: skip


def _run(lake: Path, now: datetime) -> dict[str, int]:
    cfg = SimulatorConfig(port=0, coins=COINS + 40, plan="pro", now=now, clean=True)
    with running_simulator(cfg) as url:
        settings = _settings(lake, url, now)
        result = flows.run(settings)
        assert result.status == "succeeded", result.error
        return _membership_calls(lake, result.run_id)


def _membership_calls(lake: Path, run_id: str) -> dict[str, int]:
    _, rows = run_query(
        open_lake(lake, read_only=True),
        "SELECT json_extract_string(params_json, '$.category') AS c, count(*) FROM ops.raw_manifest "
        f"WHERE run_id = '{run_id}' AND endpoint = 'coins_markets' AND c IS NOT NULL GROUP BY c",
    )
    return {c: n for c, n in rows}


def _rows(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    return run_query(open_lake(lake, read_only=True), sql)[1]


@dataclass
class Runs:
    lake: Path
    calls: list[dict[str, int]]  # per run: membership calls per category
    planned_same_day: int  # coins_markets calls a dry run plans after the first run, same day


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Three runs: one, another the same UTC day, one the next day (each test reads the same lake)."""
    lake = tmp_path_factory.mktemp("membership") / "lake"
    calls = [_run(lake, NOW)]
    plan = dry_run(_settings(lake, "http://unused", NOW + timedelta(hours=3)), open_lake(lake, read_only=True))
    calls += [_run(lake, NOW + timedelta(hours=3)), _run(lake, NOW + timedelta(days=1))]
    return Runs(lake, calls, plan.calls.get("coins_markets", 0))


def test_membership_is_fetched_once_per_utc_day(runs: Runs) -> None:
    first, same_day, next_day = runs.calls
    assert len(first) == MEMBERSHIP_CALLS and set(first.values()) == {1} and "stablecoins" in first
    assert runs.planned_same_day == 1  # the ranking page only: today's members are held
    assert same_day == {}  # same UTC day: none again
    assert next_day == first  # the next day: each once more


def test_category_daily_coin_count_is_the_number_of_members(runs: Runs) -> None:
    lake = runs.lake
    counts = _rows(
        lake,
        "SELECT d.category_id, d.date, d.coin_count, m.n FROM gold.category_daily d JOIN "
        "(SELECT category_id, snapshot_date, count(*) AS n FROM silver.category_members GROUP BY ALL) m "
        "ON m.category_id = d.category_id AND m.snapshot_date = d.date",
    )
    assert len(counts) >= MEMBERSHIP_CALLS and all(c == n > 0 for _, _, c, n in counts)
    without = _rows(
        lake,
        "SELECT count(*) FROM gold.category_daily d WHERE coin_count IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM silver.category_members m WHERE m.category_id = d.category_id AND m.snapshot_date = d.date)",
    )
    assert without == [(0,)]


def test_a_stablecoin_known_only_by_membership_counts_from_its_first_day(runs: Runs) -> None:
    lake = runs.lake
    # analytics.stablecoins is empty: only membership can make a coin a stablecoin before the
    # 30-day band rule could apply (the lake's first days)
    ((_first_day, share, expected),) = _rows(
        lake,
        "WITH first AS (SELECT min(date) AS d FROM gold.market_daily WHERE vs_currency = 'usd') "
        "SELECT m.date, m.stablecoin_share, "
        "(SELECT sum(market_cap) FROM gold.coin_daily c WHERE c.vs_currency = 'usd' AND c.date = m.date "
        " AND c.coin_id IN (SELECT coin_id FROM silver.category_members WHERE category_id = 'stablecoins')) "
        "/ m.covered_market_cap "
        "FROM gold.market_daily m, first WHERE m.vs_currency = 'usd' AND m.date = first.d",
    )
    assert expected is not None and expected > 0
    assert share == pytest.approx(expected, rel=1e-9)
    shares = [
        s
        for (s,) in _rows(
            lake, "SELECT stablecoin_share FROM gold.market_daily WHERE vs_currency = 'usd' ORDER BY date"
        )
    ]
    jumps = [abs(b - a) for a, b in itertools.pairwise(shares)]
    assert max(jumps) < 0.05, shares  # no jump when the band rule would have warmed up
