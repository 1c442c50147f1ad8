"""The credit budget guard stops API jobs and alerts through a real local webhook listener."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.ops.servers import webhook_listener

from geckolake import flows
from geckolake.config import Settings
from geckolake.lake.catalog import open_lake

START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def test_budget_guard_stops_api_jobs_and_alerts(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    open_lake(lake)
    now = [START]
    calls: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=max(seconds, 0.001))

    def runner(settings: Settings, name: str) -> str:
        calls.append(name)
        return "ok"

    with webhook_listener() as hook:
        settings = Settings(
            lake=lake, plan="pro", coins=500, alerts={"webhook_url": hook.url},
            schedule={
                "monthly_credits": 1,  # markets needs 2 pages: over budget at once
                "jobs": {
                    "markets": {"cron": "*/5 * * * *", "kind": "markets"},
                    "maintenance": {"cron": "*/10 * * * *", "kind": "maintenance"},
                },
            },
        )  # fmt: skip
        sched = flows.scheduler(
            settings, clock=lambda: now[0], sleep=sleep, runners={"markets": runner, "maintenance": runner}
        )
        ref = sched

        def idle_sleep(seconds: float) -> None:
            ref.wait_idle(5)
            sleep(seconds)

        sched.sleep = idle_sleep
        sched.run(until=START + timedelta(minutes=30))
        assert hook.event.wait(5)
    assert calls == ["maintenance"] * 3  # API jobs never ran; the others kept going
    assert sched.budget_stopped == "2026-11"
    stopped = [e for e in sched.events if e.kind == "budget_stopped"]
    assert len(stopped) == 6 and "API jobs stopped" in stopped[0].detail
    assert len(hook.bodies) == 1 and "budget" in str(hook.bodies[0]).lower()
    sent = open_lake(lake).read("ops.alerts_sent").to_pylist()
    assert [r["rule"] for r in sent] == ["budget"]
