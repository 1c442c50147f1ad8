"""Operations from the CLI as a user runs it: status, freshness breach + alert, metrics, alert test, JSON logs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.support import NOW, Cli, lake_hashes
from tests.integration.ops.servers import webhook_listener


def test_status_freshness_breach_alert_metrics_and_json_logs(cli: Cli) -> None:
    with webhook_listener() as hook:
        alerts_env = {"GECKOLAKE_ALERTS": json.dumps({"webhook_url": hook.url})}
        run = cli(
            "run", "--coins", "50", "--history-coins", "3", "--history-days", "30",
            "--log-level", "info", "--log-format", "json", check=True, **alerts_env,
        )  # fmt: skip
        logs = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
        assert logs and {"ts", "level", "logger", "message"} <= set(logs[0])

        ok = cli("status", "--as-of", (NOW + timedelta(minutes=5)).isoformat())
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "healthy" in ok.stdout and "API credits" in ok.stdout

        # the markets job stops: 20 minutes later silver.market_snapshots is past its 15-minute SLA
        later = (NOW + timedelta(minutes=20)).isoformat()
        stale = cli("status", "--as-of", later, "--format", "json")
        assert stale.returncode == 1
        body = json.loads(stale.stdout)
        assert not body["healthy"]
        markets = next(f for f in body["freshness"] if f["table"] == "silver.market_snapshots")
        assert markets["age_minutes"] > markets["sla_minutes"] == 15

        checked = cli("check", "--as-of", later, **alerts_env)
        assert checked.returncode == 1
        assert "freshness" in checked.stdout and "FAIL" in checked.stdout
        assert hook.event.wait(5)
        assert any("stale data: silver.market_snapshots" in b["text"] for b in hook.bodies)
        assert "secret-token" not in json.dumps(hook.bodies)

        test = cli("alert", "test", **alerts_env)
        assert test.returncode == 0 and "webhook: delivered" in test.stdout
        assert hook.bodies[-1]["text"].startswith("[info] geckolake test alert")

    metrics = cli("metrics", check=True).stdout
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    assert {"geckolake_runs", "geckolake_api_calls", "geckolake_dq_check_passed", "geckolake_table_age_seconds"} <= set(
        families
    )
    runs = families["geckolake_runs"].samples
    assert any(s.labels == {"command": "run", "status": "succeeded"} and s.value == 1 for s in runs)
    assert sum(s.value for s in families["geckolake_api_calls"].samples) >= 4


def test_alert_test_without_channels_says_what_to_set(cli: Cli) -> None:
    proc = cli("alert", "test")
    assert proc.returncode == 1
    assert "no alert channel configured" in proc.stderr and "alerts.webhook_url" in proc.stderr


def test_compact_expires_and_sweeps_orphans_keeping_the_content(cli: Cli) -> None:
    args = ("run", "--coins", "50", "--history-coins", "3", "--history-days", "30")
    cli(*args, check=True)
    cli(*args, "--as-of", (NOW + timedelta(days=1)).isoformat(), check=True)  # rewrites some partitions
    content = lake_hashes(cli.lake)
    warehouse = cli.lake / "warehouse"
    files_before = sum(1 for p in warehouse.rglob("*") if p.is_file())

    # snapshot times are wall-clock times, so retention is judged against the real clock here
    real_now = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    retention = {"keep_snapshots_hours": 0, "keep_last_snapshots": 1, "orphan_min_age_hours": 0}
    out = cli("compact", GECKOLAKE_MAINTENANCE=json.dumps(retention), GECKOLAKE_AS_OF=real_now, check=True)

    assert re.search(r"deleted \d+ orphan files \([\d.]+ MiB\)", out.stdout), out.stdout
    files_after = sum(1 for p in warehouse.rglob("*") if p.is_file())
    assert files_after < files_before
    assert lake_hashes(cli.lake) == content
    again = cli("compact", GECKOLAKE_MAINTENANCE=json.dumps(retention), GECKOLAKE_AS_OF=real_now, check=True)
    assert "orphan files (" not in again.stdout  # nothing left to sweep
