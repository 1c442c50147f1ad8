"""Acceptance 5: an hour of one-minute /simple/price polls keeps every price point, files bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from geckolake import flows
from geckolake.config import MaintenanceSettings, Settings
from geckolake.errors import ConfigError
from geckolake.ingest.prices import IDS_PER_REQUEST, plan_prices
from geckolake.lake.catalog import open_lake
from geckolake.ops.maintenance import maintain
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLLS = 60
COINS = 50
TOUCHED = ["bronze.simple_price", "silver.live_prices", "ops.raw_manifest", "ops.pipeline_runs", "ops.task_runs"]
MAINT = MaintenanceSettings(keep_snapshots_hours=0, keep_last_snapshots=3)


def _settings(lake: Path, url: str, now: datetime, **extra: object) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=60000, coins=100, history_coins=0, history_days=60,
        extras=False, as_of=now, schedule={"price_coins": COINS}, **extra,
    )  # fmt: skip


def test_ids_are_chunked() -> None:
    ids = [f"c{i}" for i in range(IDS_PER_REQUEST * 2 + 1)]
    reqs = plan_prices(ids, "usd")
    assert [len(r.params_dict["ids"].split(",")) for r in reqs] == [IDS_PER_REQUEST, IDS_PER_REQUEST, 1]


def test_empty_lake_says_run_first(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no coins"):
        flows.prices(_settings(tmp_path / "lake", "http://127.0.0.1:9/api/v3", NOW))


@pytest.mark.slow
def test_an_hour_of_minute_polls_keeps_every_point_with_bounded_files(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=NOW)) as url:
        flows.run(_settings(lake, url, NOW))
    results = []
    for i in range(POLLS):
        t = NOW + timedelta(minutes=i + 1)
        with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=t)) as url:
            results.append(flows.prices(_settings(lake, url, t)))
        if i % 20 == 19:  # periodic maintenance of the tables polls write: compaction + snapshot expiry
            maintain(open_lake(lake), MAINT, t, TOUCHED)
        if i == 29:  # the same minute polled twice: one point, latest fetch wins
            with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=t)) as url:
                flows.prices(_settings(lake, url, t))
    assert all(r.status == "succeeded" and r.api_calls == 1 for r in results)
    opened = open_lake(lake)
    con = opened.connect_duckdb()
    points, coins, distinct = con.execute(
        "SELECT count(*), count(DISTINCT coin_id), count(DISTINCT (coin_id, vs_currency, last_updated_at)) "
        "FROM silver.live_prices"
    ).fetchone() or (0, 0, 0)
    bronze_keys = con.execute(
        "SELECT count(DISTINCT (coin_id, vs_currency, last_updated_at)) FROM bronze.simple_price"
    ).fetchone()
    assert coins == COINS
    assert points == distinct == (bronze_keys or (0,))[0]
    per_coin = con.execute(
        "SELECT min(n), max(n) FROM (SELECT coin_id, count(*) n FROM silver.live_prices GROUP BY coin_id)"
    ).fetchone()
    assert per_coin is not None and per_coin[0] >= POLLS - 5  # every minute a new point (stale quirks aside)
    runs = con.execute("SELECT count(*) FROM ops.pipeline_runs WHERE command = 'prices'").fetchone()
    assert runs == (POLLS + 1,)
    # compaction after each poll keeps the price tables bounded; a maintenance pass bounds the rest
    files = {s.name: s.data_files for s in opened.table_stats()}
    assert files["bronze.simple_price"] <= 8 + 1
    assert files["silver.live_prices"] <= 8 + 1
    before = opened.content_hash("silver.live_prices")
    maintain(opened, MAINT, NOW + timedelta(hours=2), TOUCHED)
    opened = open_lake(lake)
    files = {s.name: s.data_files for s in opened.table_stats()}
    assert opened.content_hash("silver.live_prices") == before
    for name in TOUCHED:  # at most one file per partition, or below the compaction threshold
        assert files[name] <= MAINT.small_file_count, (name, files[name])


def test_replay_rebuilds_live_prices_with_the_same_content(tmp_path: Path) -> None:
    from geckolake.ingest.replay import replay

    lake = tmp_path / "lake"
    with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=NOW)) as url:
        flows.run(_settings(lake, url, NOW))
    for minutes in (1, 2, 2, 3):  # minute 2 polled twice: latest fetch wins, in the polls and in the rebuild
        t = NOW + timedelta(minutes=minutes)
        with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=t)) as url:
            assert flows.prices(_settings(lake, url, t)).status == "succeeded"
    opened = open_lake(lake)
    before = {name: opened.content_hash(name) for name in ("silver.live_prices", "silver.market_snapshots")}
    (points,) = opened.connect_duckdb().execute("SELECT count(*) FROM silver.live_prices").fetchone() or (0,)
    assert points >= 3 * COINS

    result = replay(opened)
    assert result.rows["silver.live_prices"] == points
    opened = open_lake(lake)
    assert {name: opened.content_hash(name) for name in before} == before
