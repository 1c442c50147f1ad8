"""The pipeline driven through the CLI against the simulator, as a user runs it (issue 3)."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.e2e.support import NOW, Cli, SimFactory, base_env, lake_hashes, query


def sim_get(base_url: str, path: str, **params: str) -> object:
    return httpx.get(f"{base_url}{path}", params=params, timeout=30).json()


def test_run_counts_and_values_match_the_simulator(cli: Cli) -> None:
    cli("run", "--coins", "500", "--history-coins", "50", "--history-days", "365", check=True)
    markets = sim_get(cli.base_url, "/coins/markets", vs_currency="usd", per_page="250", page="1")
    markets += sim_get(cli.base_url, "/coins/markets", vs_currency="usd", per_page="250", page="2")  # type: ignore[operator]
    assert isinstance(markets, list) and len(markets) == 500
    # one snapshot per coin: the snapshot time is CoinGecko's last_updated, not the fetch time
    (n_snap,) = query(cli.lake, "SELECT count(*) FROM silver.market_snapshots")[0]
    assert n_snap == len({(c["id"], c["last_updated"]) for c in markets})
    (n_coins,) = query(cli.lake, "SELECT count(DISTINCT coin_id) FROM silver.market_snapshots")[0]
    assert n_coins == 500
    btc = next(c for c in markets if c["id"] == "bitcoin")
    (price, cap) = query(
        cli.lake, "SELECT current_price, market_cap FROM silver.market_snapshots WHERE coin_id = 'bitcoin'"
    )[0]
    assert price == pytest.approx(float(btc["current_price"]), rel=1e-12)
    assert cap == pytest.approx(float(btc["market_cap"]), rel=1e-12)

    # daily history: exactly the simulator's 00:00 UTC points in the window, for each of the top 50
    start = datetime(2025, 11, 20, tzinfo=UTC)  # floor(now) - 365 days
    expected_points = 0
    for coin in [c["id"] for c in markets[:50]]:
        chart = sim_get(
            cli.base_url, f"/coins/{coin}/market_chart/range", vs_currency="usd",
            **{"from": str(int(start.timestamp())), "to": str(int(NOW.timestamp())), "interval": "daily"},
        )  # fmt: skip
        assert isinstance(chart, dict)
        expected_points += sum(1 for ts, _ in chart["prices"] if ts % 86_400_000 == 0)
    (n_hist,) = query(cli.lake, "SELECT count(*) FROM silver.price_history WHERE granularity = 'daily'")[0]
    assert n_hist == expected_points
    assert n_hist > 50 * 300  # most of the top 50 have a full year

    # gold: one coin_aggregates row per coin and snapshot day, records_count = distinct snapshots
    (n_agg, total_records) = query(cli.lake, "SELECT count(*), sum(records_count) FROM gold.coin_aggregates")[0]
    assert total_records == n_snap
    assert n_agg == len({(c["id"], c["last_updated"][:10]) for c in markets})


def test_second_run_same_time_is_idempotent_and_an_hour_later_adds_snapshots(
    tmp_path: Path, simulator: SimFactory
) -> None:
    lake = tmp_path / "lake"
    with simulator() as url:
        cli = Cli(lake, url, base_env(lake, url))
        cli("run", "--coins", "300", "--history-coins", "5", "--history-days", "120", check=True)
        before = lake_hashes(lake)
        cli("run", "--coins", "300", "--history-coins", "5", "--history-days", "120", check=True)
        assert lake_hashes(lake) == before
    existing = {(r[0], r[1]) for r in query(lake, "SELECT coin_id, snapshot_ts FROM silver.market_snapshots")}
    (n1,) = query(lake, "SELECT count(*) FROM silver.market_snapshots")[0]
    later = NOW + timedelta(hours=1)
    with simulator(now=later) as url:
        markets = sim_get(url, "/coins/markets", vs_currency="usd", per_page="150", page="1")
        markets += sim_get(url, "/coins/markets", vs_currency="usd", per_page="150", page="2")  # type: ignore[operator]
        cli = Cli(lake, url, base_env(lake, url, later))
        cli("run", "--coins", "300", "--history-coins", "5", "--history-days", "120", check=True)
    (n2,) = query(lake, "SELECT count(*) FROM silver.market_snapshots")[0]
    new_keys = {(c["id"], c["last_updated"]) for c in markets}  # type: ignore[union-attr]
    assert n2 - n1 == len(new_keys) - _already_held(new_keys, existing)
    assert n2 > n1
    # records_count counts distinct snapshots: equals the snapshots per coin and day
    bad = query(
        lake,
        "SELECT a.coin_id FROM gold.coin_aggregates a JOIN (SELECT coin_id, CAST(snapshot_ts AS DATE) AS d, "
        "count(*) AS n FROM silver.market_snapshots GROUP BY 1, 2) s ON a.coin_id = s.coin_id AND a.date = s.d "
        "WHERE a.records_count <> s.n",
    )
    assert bad == []


def _already_held(new_keys: set[tuple[str, str]], existing: set[tuple[object, object]]) -> int:
    held = {(c, ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z") for c, ts in existing if isinstance(ts, datetime)}
    return len(new_keys & held)


def test_replay_rebuilds_the_same_content(cli: Cli) -> None:
    cli("run", "--coins", "250", "--history-coins", "10", "--history-days", "200", check=True)
    before = lake_hashes(cli.lake)
    out = cli("replay", check=True)
    assert "replayed" in out.stdout
    assert lake_hashes(cli.lake) == before
    calls_before = sim_get(cli.base_url.rsplit("/api/v3", 1)[0], "/__stats")
    cli("replay", check=True)
    assert sim_get(cli.base_url.rsplit("/api/v3", 1)[0], "/__stats") == calls_before  # no API call


@pytest.mark.slow
def test_kill_9_anywhere_then_rerun_equals_an_uninterrupted_run(tmp_path: Path, simulator: SimFactory) -> None:
    args = ("run", "--coins", "500", "--history-coins", "40", "--history-days", "365")
    ref_lake = tmp_path / "ref"
    with simulator() as url:
        Cli(ref_lake, url, base_env(ref_lake, url))(*args, check=True)
    reference = lake_hashes(ref_lake)
    with simulator(latency_ms=20) as url:
        for i, delay in enumerate((0.8, 1.6, 2.4, 3.2)):
            lake = tmp_path / f"lake{i}"
            cli = Cli(lake, url, base_env(lake, url))
            proc = cli.popen(*args)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            cli(*args, check=True)
            assert lake_hashes(lake) == reference, f"kill after {delay}s"


@pytest.mark.slow
def test_faults_complete_quarantine_and_the_next_run_fills(tmp_path: Path, simulator: SimFactory) -> None:
    args = ("run", "--coins", "500", "--history-coins", "50", "--history-days", "100")
    ref_lake = tmp_path / "ref"
    with simulator() as url:
        Cli(ref_lake, url, base_env(ref_lake, url))(*args, check=True)
    reference = lake_hashes(ref_lake)
    lake = tmp_path / "lake"
    faults = "500=0.05,timeout=0.02,malformed=0.01,truncated=0.01,drift=0.02"
    with simulator(faults=faults, timeout_s=3.0) as url:
        cli = Cli(
            lake,
            url,
            base_env(lake, url),
        )
        first = cli(*args, GECKOLAKE_TIMEOUT_S="1")
        # exit 3: done, with transient failures or quarantined bodies left for the next run
        assert first.returncode in (0, 3), first.stdout + first.stderr
        assert ("partial" in first.stdout) == (first.returncode == 3), first.stdout
        reasons = query(lake, "SELECT endpoint, reason FROM bronze.quarantine")
        malformed = query(lake, "SELECT count(*) FROM ops.raw_manifest WHERE outcome = 'quarantined'")[0][0]
        assert all(r for _, r in reasons)
        assert malformed == len(
            {r for r in query(lake, "SELECT raw_path FROM bronze.quarantine WHERE record_json IS NULL")}
        )
        for _ in range(4):
            assert cli(*args, GECKOLAKE_TIMEOUT_S="1").returncode in (0, 3)
            if lake_hashes(lake) == reference:
                break
    assert lake_hashes(lake) == reference


def test_pacing_avoids_429_and_takes_calls_over_rate(tmp_path: Path, simulator: SimFactory) -> None:
    lake = tmp_path / "lake"
    # 1 markets page + 35 daily histories + 4 extras + 6 category memberships = 46 calls at the
    # server's own limit
    with simulator(plan="pro", rate_per_min=600) as url:
        cli = Cli(lake, url, base_env(lake, url))
        out = cli("run", "--coins", "200", "--history-coins", "35", "--history-days", "30",
                  GECKOLAKE_RATE_PER_MIN="600", check=True)  # fmt: skip
        stats = sim_get(url.rsplit("/api/v3", 1)[0], "/__stats")
    assert "46 API calls" in out.stdout and "0 × 429" in out.stdout
    assert json.dumps(stats).count("429") == 0
    # the calls themselves are spread at the rate: 45 gaps of 0.1 s (commits between phases add a little;
    # the bound is loose because the machine running the suite is shared)
    ((span,),) = query(lake, "SELECT epoch(max(fetched_at)) - epoch(min(fetched_at)) FROM ops.raw_manifest")
    assert 3.5 <= span < 30.0


def test_secret_never_reaches_lake_or_output(tmp_path: Path, simulator: SimFactory) -> None:
    key = "CG-s3cr3tK3yF0rT3st1ng"
    lake = tmp_path / "lake"
    with simulator(plan="pro", api_key=key) as url:
        cli = Cli(lake, url, base_env(lake, url))
        out = cli("run", "--coins", "50", "--history-coins", "3", "--log-level", "debug",
                  COINGECKO_PRO_API_KEY=key, check=True)  # fmt: skip
        tables = cli("sql", "SELECT * FROM ops.raw_manifest", "--format", "json", check=True)
    assert key not in out.stdout + out.stderr + tables.stdout
    import gzip

    for path in lake.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key.encode() not in data, path
            if path.suffix == ".gz":
                assert key.encode() not in gzip.decompress(data), path
