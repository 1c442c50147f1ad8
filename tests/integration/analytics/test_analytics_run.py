"""Analytics after real runs against the simulator: tables filled, forecasts and backtests reported
(the daily forecast job after each run), and the incremental refresh of two daily runs equal to the
full rebuild a replay does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from geckolake import flows
from geckolake.analytics.refresh import WINDOWED
from geckolake.config import Settings
from geckolake.ingest.replay import replay
from geckolake.lake.catalog import open_lake
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _settings(lake: Path, url: str, now: datetime) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=60000, coins=100, history_coins=10, history_days=200,
        as_of=now,
    )  # fmt: skip


def test_two_daily_runs_then_replay(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    for now in (NOW, NOW + timedelta(days=1)):
        with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=now)) as url:
            result = flows.run(_settings(lake_dir, url, now))
        assert result.status in ("succeeded", "partial"), result.error
        assert result.rows["gold.coin_risk"] > 0 and "gold.price_forecasts" not in result.rows  # a separate job
        # the top 10 hold two stablecoins (tether, usd-coin): not forecast; the two coins after them
        # have no history (history_coins = 10), so 8 coins get forecasts
        assert flows.forecast(_settings(lake_dir, url, now))["gold.price_forecasts"] == 8 * 3 * 30
    lake = open_lake(lake_dir)
    con = lake.connect_duckdb()
    # risk of the history coins is complete; the rest have a few snapshot days only
    full = con.execute(
        "SELECT count(*) FROM gold.coin_risk WHERE coin_id = 'bitcoin' AND vol_90d IS NOT NULL"
    ).fetchone()
    assert full is not None and full[0] > 100
    assert con.execute("SELECT count(*) FROM gold.correlations WHERE window_days = 90").fetchone() != (0,)
    dom = con.execute(
        "SELECT btc_dominance, totals_source FROM gold.market_daily ORDER BY date DESC LIMIT 1"
    ).fetchone()
    assert dom is not None and 0 < dom[0] < 1 and dom[1] == "global"
    bt = con.execute(
        "SELECT model, avg(coverage_80), avg(coverage_95), avg(mase), count(DISTINCT coin_id) "
        "FROM gold.forecast_backtests GROUP BY model ORDER BY model"
    ).fetchall()
    assert [r[0] for r in bt] == ["auto_ets", "auto_theta", "naive"] and all(r[4] == 8 for r in bt)
    assert all(0 <= r[1] <= r[2] <= 1 for r in bt)
    runs = con.execute("SELECT count(DISTINCT run_date) FROM gold.price_forecasts").fetchone()
    assert runs == (2,)  # the forecasts of the first run are kept
    con.close()

    incremental = {name: lake.content_hash(name) for name in (*WINDOWED, "gold.coin_daily", "gold.category_daily")}
    replay(lake)
    assert {name: lake.content_hash(name) for name in incremental} == incremental
