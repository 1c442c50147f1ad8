"""Acceptance 1: a corrupted batch is gated (gold unchanged, alert sent); the next clean run publishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.ops.servers import corrupt_markets, proxy, webhook_listener

from geckolake import flows
from geckolake.config import Settings
from geckolake.ingest.replay import replay
from geckolake.lake.catalog import open_lake
from geckolake.simulator import SimulatorConfig, running_simulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _settings(lake: Path, url: str, now: datetime, webhook: str) -> Settings:
    return Settings(
        lake=lake, base_url=url, plan="pro", rate_per_min=60000, coins=100, history_coins=5, history_days=60,
        as_of=now, alerts={"webhook_url": webhook},
    )  # fmt: skip


def _gold(lake: Path) -> dict[str, tuple[int | None, str]]:
    opened = open_lake(lake)
    out = {}
    for name in opened.table_names():
        if name.startswith(("gold.", "silver.")):
            snap = opened.table(name).current_snapshot()
            out[name] = (snap.snapshot_id if snap else None, opened.content_hash(name))
    return out


def test_corrupted_batch_is_gated_and_next_clean_run_publishes(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with webhook_listener() as hook:
        with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=NOW)) as url:
            first = flows.run(_settings(lake, url, NOW, hook.url))
            assert first.status in ("succeeded", "partial")
            before = _gold(lake)
            with proxy(url, corrupt_markets) as bad_url:
                gated = flows.run(_settings(lake, bad_url, NOW + timedelta(minutes=5), hook.url))
        assert gated.status == "gated"
        assert "silver.market_snapshots.price_non_negative" in (gated.error or "")
        assert any("unique_coin_per_response" in c for c in gated.checks_failed)
        assert _gold(lake) == before  # silver and gold: same snapshots, same content

        opened = open_lake(lake)
        con = opened.connect_duckdb()
        runs = dict(con.execute("SELECT run_id, status FROM ops.pipeline_runs").fetchall())
        assert runs[gated.run_id] == "gated"
        failing = con.execute(
            "SELECT table_name || '.' || check_name FROM ops.dq_results WHERE run_id = ? AND NOT passed",
            [gated.run_id],
        ).fetchall()
        assert ("silver.market_snapshots.price_non_negative",) in failing
        assert hook.event.wait(5)
        alert = hook.bodies[-1]
        assert "gold not published" in alert["text"]
        assert "secret-token" not in str(hook.bodies)

        # A replay keeps to the gate: the gated run's rows stay in bronze, not in silver and gold.
        bronze_runs = "SELECT count(*) FROM bronze.coins_markets WHERE _run_id = ?"
        replayed = replay(opened)
        assert replayed.gated_runs == [gated.run_id]
        assert opened.connect_duckdb().execute(bronze_runs, [gated.run_id]).fetchone() != (0,)
        rebuilt = _gold(lake)
        for name in [n for n in before if n.startswith("silver.")] + ["gold.coin_aggregates", "gold.coin_daily"]:
            assert rebuilt[name][1] == before[name][1], name

        later = NOW + timedelta(hours=1)
        with running_simulator(SimulatorConfig(port=0, coins=300, plan="unlimited", now=later)) as url:
            clean = flows.run(_settings(lake, url, later, hook.url))
        assert clean.status in ("succeeded", "partial"), clean.error
        after = _gold(lake)
        assert after["gold.coin_aggregates"] != before["gold.coin_aggregates"]
        con = open_lake(lake).connect_duckdb()
        assert con.execute("SELECT count(*) FROM silver.market_snapshots WHERE current_price < 0").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM gold.coin_aggregates WHERE min_price < 0").fetchone() == (0,)
