"""Data loss, as a user meets it: schema drift is detected, not absorbed, and a lake whose tables were
dropped under it (a replay killed after its drop) is brought back by the next run.

The reference is a clean lake made by the same run against a clean simulator (same seed, same
``--as-of``): after the follow-up runs the lake's silver and gold content must equal it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.e2e.support import NOW, Cli, SimFactory, base_env, lake_hashes, last_run, query

from geckolake.lake.catalog import open_lake
from geckolake.simulator import SimulatorConfig, running_simulator

ARGS = ("run", "--coins", "50", "--history-coins", "15", "--history-days", "30")
LATER = (NOW + timedelta(minutes=5)).isoformat()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The silver and gold hashes of a clean lake (the e2e simulator's settings, no faults)."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    cfg = SimulatorConfig(port=0, coins=600, seed=7, plan="unlimited", now=NOW)
    with running_simulator(cfg) as url:
        Cli(lake, url, base_env(lake, url))(*ARGS, check=True)
    yield lake_hashes(lake)


def _status(cli: Cli) -> dict[str, object]:
    out = cli("status", "--as-of", LATER, "--format", "json")
    body: dict[str, object] = json.loads(out.stdout)
    assert out.returncode == (0 if body["healthy"] else 1), out.stdout + out.stderr
    return body


def _failing(status: dict[str, object]) -> set[str]:
    failing = status["failing"]
    assert isinstance(failing, list)
    return {f"{f['table']}.{f['check']}" for f in failing}


def test_drifted_bodies_are_quarantined_fetched_again_and_the_lake_ends_equal_to_a_clean_one(
    tmp_path: Path, simulator: SimFactory, reference: dict[str, str]
) -> None:
    lake = tmp_path / "lake"
    with simulator(faults="drift=0.5") as url:
        first = Cli(lake, url, base_env(lake, url))(*ARGS)
        assert first.returncode == 3 and "partial" in first.stdout, first.stdout + first.stderr
        lost = {
            row[0]
            for row in query(
                lake,
                "SELECT coin_id FROM ops.raw_manifest WHERE endpoint = 'market_chart_range' "
                "AND outcome = 'quarantined' AND error = 'missing required: total_volumes'",
            )
        }
        assert lost, "the simulator (seed 7, drift=0.5) drops total_volumes from some charts"
        # Nothing of a drifted chart reached silver: no point of a lost coin, no null series.
        assert query(lake, "SELECT count(*) FROM silver.price_history WHERE total_volume IS NULL")[0][0] == 0
        in_silver = {r[0] for r in query(lake, "SELECT DISTINCT coin_id FROM silver.price_history")}
        assert not lost & in_silver
        # `status` does not call the lake healthy while required data is missing.
        status = _status(Cli(lake, url, base_env(lake, url)))
        assert not status["healthy"]
        assert "ops.raw_manifest.required_parts_missing" in _failing(status)

    with simulator() as url:
        cli = Cli(lake, url, base_env(lake, url))
        cli(*ARGS, check=True)
        (run_id,) = query(lake, "SELECT run_id FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT 1")[0]
        asked = {
            r[0]
            for r in query(
                lake,
                f"SELECT coin_id FROM ops.raw_manifest WHERE run_id = '{run_id}' AND endpoint = 'market_chart_range'",
            )
        }
        assert asked == lost  # the planner asked for exactly the charts that were not complete
        assert _status(cli)["healthy"]
    assert lake_hashes(lake) == reference
    # A replay re-parses every landed body, drifted ones included (quarantined again): same lake.
    cli("replay", check=True)
    assert lake_hashes(lake) == reference


def test_the_run_records_the_rows_silver_rules_leave_out(cli: Cli) -> None:
    """Each daily chart ends with CoinGecko's live point, which silver.price_history leaves out by rule."""
    out = cli(*ARGS, check=True).stdout
    rows = json.loads(str(last_run(cli.lake)["rows_json"]))
    daily_charts = query(
        cli.lake, "SELECT count(*) FROM ops.raw_manifest WHERE endpoint = 'market_chart_range' AND outcome = 'ok'"
    )[0][0]
    assert rows["filtered.silver.price_history"] == daily_charts == 15
    assert rows["bronze.market_chart"] == rows["silver.price_history"] + rows["filtered.silver.price_history"]
    assert "filtered.silver.price_history" in out  # in the run's summary of rows


def test_a_run_after_a_replay_killed_past_its_drop_restores_the_lake(
    tmp_path: Path, simulator: SimFactory, reference: dict[str, str]
) -> None:
    """The manifest still lists today's /coins/list when a killed replay has emptied silver.coins."""
    lake = tmp_path / "lake"
    with simulator() as url:
        cli = Cli(lake, url, base_env(lake, url))
        cli(*ARGS, check=True)
        open_lake(lake).drop_layers(("bronze", "silver", "gold"))  # where the killed replay stopped
        cli(*ARGS, check=True)
    assert query(lake, "SELECT count(*) FROM silver.coins")[0][0] == 600  # every listed coin, not only markets'
    assert lake_hashes(lake) == reference
