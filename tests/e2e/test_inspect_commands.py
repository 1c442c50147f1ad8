"""plan, run --dry-run, tables, runs and sql formats, as a user runs them."""

from __future__ import annotations

import csv
import io
import json

import httpx
from tests.e2e.support import Cli

SCOPE = ("--coins", "300", "--history-coins", "7", "--history-days", "90")


def _stats(cli: Cli) -> object:
    return httpx.get(cli.base_url.rsplit("/api/v3", 1)[0] + "/__stats", timeout=10).json()


def test_plan_and_dry_run_call_nothing_and_shrink_after_a_run(cli: Cli) -> None:
    before = _stats(cli)
    plan = cli("plan", *SCOPE, check=True)
    dry = cli("run", "--dry-run", *SCOPE, check=True)
    assert _stats(cli) == before  # no API call at all
    for out in (plan.stdout, dry.stdout):
        assert "coins_markets" in out and "market_chart_range" in out
        # 2 markets pages + 7 histories + 4 extras + 6 category memberships (stablecoins + top 5)
        assert "credits: 19" in out
    cli("run", *SCOPE, check=True)
    after = cli("plan", *SCOPE, check=True)
    # the lake is current: markets and the snapshot extras only (history, coins list and today's
    # category members are held)
    assert "market_chart_range" not in after.stdout
    assert "credits: 5" in after.stdout


def test_tables_runs_and_sql_formats(cli: Cli) -> None:
    cli("run", *SCOPE, check=True)
    tables = cli("tables", check=True).stdout
    for name in ("bronze.coins_markets", "silver.market_snapshots", "gold.coin_daily", "ops.pipeline_runs"):
        assert name in tables
    runs = cli("runs", check=True).stdout
    assert "succeeded" in runs
    out = cli("sql", "SELECT coin_id, market_cap_rank FROM silver.market_snapshots ORDER BY market_cap_rank LIMIT 3",
              "--format", "json", check=True)  # fmt: skip
    rows = json.loads(out.stdout)
    assert [r["coin_id"] for r in rows][:1] == ["bitcoin"] and set(rows[0]) == {"coin_id", "market_cap_rank"}
    eth = "SELECT coin_id, date, close FROM gold.coin_daily WHERE coin_id = 'ethereum' ORDER BY date LIMIT 5"
    out = cli("sql", eth, "--format", "csv", check=True)
    parsed = list(csv.reader(io.StringIO(out.stdout)))
    assert parsed[0] == ["coin_id", "date", "close"] and len(parsed) == 6
    assert cli("sql", "SELECT 1", "--format", "xml").returncode == 1


def test_forecast_job_after_a_run(cli: Cli) -> None:
    missing = cli("forecast")
    assert missing.returncode == 1 and "no lake at" in missing.stderr + missing.stdout
    cli("run", *SCOPE, check=True)
    count = "SELECT count(*) AS n FROM gold.price_forecasts"
    assert json.loads(cli("sql", count, "--format", "json", check=True).stdout) == [{"n": 0}]  # runs fit none
    out = cli("forecast", check=True).stdout
    # 7 coins with 90 daily closes less the stablecoins among them (tether, usd-coin: not forecast),
    # 3 models, 30 horizons
    assert "450 forecast rows and 450 backtest rows written" in out
    sql = (
        "SELECT lo_95, point, hi_95 FROM gold.price_forecasts "
        "WHERE coin_id = 'bitcoin' AND model = 'naive' AND horizon = 1"
    )
    band = json.loads(cli("sql", sql, "--format", "json", check=True).stdout)
    assert len(band) == 1 and 0 < band[0]["lo_95"] < band[0]["point"] < band[0]["hi_95"]


def test_replay_says_the_forecasts_went_and_status_keeps_showing_them(cli: Cli) -> None:
    cli("run", *SCOPE, check=True)
    cli("forecast", check=True)
    fresh = json.loads(cli("status", "--format", "json").stdout)["freshness"]
    assert any(f["table"] == "gold.price_forecasts" and f["latest"] for f in fresh)
    out = cli("replay", check=True).stdout
    assert "gold.price_forecasts" in out and "geckolake forecast" in out
    st = json.loads(cli("status", "--format", "json").stdout)
    forecasts = [f for f in st["freshness"] if f["table"] == "gold.price_forecasts"]
    assert forecasts and forecasts[0]["latest"] is None  # listed, with no data, once the job has run
    assert {j["command"] for j in st["jobs"]} >= {"run", "forecast", "replay"}
    cli("forecast", check=True)
    fresh = json.loads(cli("status", "--format", "json").stdout)["freshness"]
    assert any(f["table"] == "gold.price_forecasts" and f["latest"] for f in fresh)
