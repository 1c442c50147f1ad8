"""Prometheus exposition of the lake's run, API, data-quality and freshness series.

Built on demand from the ops tables (no process state), so ``geckolake metrics`` and the
scheduler's ``/metrics`` endpoint say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake


class LakeCollector:
    """A prometheus-client collector reading the lake at each scrape."""

    def __init__(self, lake: Lake, settings: Settings) -> None:
        self.lake = lake
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from geckolake.ops.status import credits_used, freshness, monthly_credits

        now = self.settings.now()
        con = self.lake.connect_duckdb()
        try:
            runs = CounterMetricFamily(
                "geckolake_runs", "Pipeline runs by command and status", labels=["command", "status"]
            )
            for command, st, n in con.execute(
                "SELECT command, status, count(*) FROM ops.pipeline_runs GROUP BY ALL ORDER BY ALL"
            ).fetchall():
                runs.add_metric([command, st], n)
            yield runs
            last_ts = GaugeMetricFamily(
                "geckolake_last_run_timestamp_seconds", "Start of the last run", labels=["command"]
            )
            last_dur = GaugeMetricFamily(
                "geckolake_last_run_duration_seconds", "Duration of the last run", labels=["command"]
            )
            last_ok = GaugeMetricFamily("geckolake_last_run_success", "1 if the last run published", labels=["command"])
            for command, started, seconds, st in con.execute(
                "SELECT command, epoch(started_at), epoch(finished_at) - epoch(started_at), status "
                "FROM ops.pipeline_runs "
                "QUALIFY row_number() OVER (PARTITION BY command ORDER BY started_at DESC) = 1 ORDER BY command"
            ).fetchall():
                last_ts.add_metric([command], started)
                last_dur.add_metric([command], seconds or 0.0)
                last_ok.add_metric([command], 1.0 if st in ("succeeded", "partial") else 0.0)
            yield last_ts
            yield last_dur
            yield last_ok
            tasks = GaugeMetricFamily(
                "geckolake_task_duration_seconds", "Phase durations of the last run", labels=["task"]
            )
            for task, seconds in con.execute(
                "SELECT task, seconds FROM ops.task_runs WHERE run_id = "
                "(SELECT run_id FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT 1) ORDER BY task"
            ).fetchall():
                tasks.add_metric([task], seconds or 0.0)
            yield tasks
            calls = CounterMetricFamily(
                "geckolake_api_calls", "API requests by endpoint and outcome", labels=["endpoint", "outcome"]
            )
            for endpoint, outcome, n in con.execute(
                "SELECT endpoint, outcome, count(*) FROM ops.raw_manifest GROUP BY ALL ORDER BY ALL"
            ).fetchall():
                calls.add_metric([endpoint, outcome], n)
            yield calls
            totals = con.execute(
                "SELECT coalesce(sum(api_calls), 0), coalesce(sum(retries), 0), coalesce(sum(rate_limited), 0) "
                "FROM ops.pipeline_runs"
            ).fetchone() or (0, 0, 0)
            yield CounterMetricFamily(
                "geckolake_api_http_requests", "HTTP requests sent, retries included", value=totals[0]
            )
            yield CounterMetricFamily("geckolake_api_retries", "Retried HTTP requests", value=totals[1])
            yield CounterMetricFamily("geckolake_api_rate_limited", "HTTP 429 answers", value=totals[2])
            yield GaugeMetricFamily(
                "geckolake_api_credits_used_month", "API credits used this month", value=credits_used(con, now)
            )
            plan_credits = monthly_credits(self.settings)
            if plan_credits:
                yield GaugeMetricFamily(
                    "geckolake_api_credits_plan", "Monthly API credits of the plan", value=plan_credits
                )
            passed = GaugeMetricFamily(
                "geckolake_dq_check_passed",
                "1 if the check passed at its last evaluation",
                labels=["table", "check", "severity"],
            )
            failing = GaugeMetricFamily(
                "geckolake_dq_check_failing_rows", "Bad rows at the last evaluation", labels=["table", "check"]
            )
            for table, check, severity, ok, n in con.execute(
                "SELECT table_name, check_name, severity, passed, failing_rows FROM ops.dq_results "
                "QUALIFY row_number() OVER (PARTITION BY table_name, check_name ORDER BY checked_at DESC) = 1 "
                "ORDER BY ALL"
            ).fetchall():
                passed.add_metric([table, check, severity], 1.0 if ok else 0.0)
                failing.add_metric([table, check], n or 0)
            yield passed
            yield failing
            anomalies = CounterMetricFamily("geckolake_anomalies", "Market anomalies detected", labels=["kind"])
            for kind, n in con.execute("SELECT kind, count(*) FROM ops.anomalies GROUP BY ALL ORDER BY ALL").fetchall():
                anomalies.add_metric([kind], n)
            yield anomalies
            age = GaugeMetricFamily("geckolake_table_age_seconds", "Age of the newest row", labels=["table"])
            sla = GaugeMetricFamily("geckolake_table_freshness_sla_seconds", "Freshness SLA", labels=["table"])
            for f in freshness(self.lake, self.settings, con):
                if f.age_minutes is not None:
                    age.add_metric([f.table], f.age_minutes * 60)
                sla.add_metric([f.table], f.sla_minutes * 60)
            yield age
            yield sla
        finally:
            con.close()


def exposition(lake: Lake, settings: Settings) -> str:
    """The Prometheus text exposition of the lake's metrics."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(LakeCollector(lake, settings))  # type: ignore[arg-type]
    return generate_latest(registry).decode()
