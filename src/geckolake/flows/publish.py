"""What a run does after its commits: checks, the publication gate, anomalies, alerts.

Alerting never fails a run: a channel error is logged and recorded in ``ops.alerts_sent``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from geckolake.flows.alerting import send
from geckolake.ops import alerts
from geckolake.quality import anomalies, gate
from geckolake.quality.runner import context_from, record_results, run_checks

if TYPE_CHECKING:
    from geckolake.ingest.pipeline import Run
    from geckolake.ops.notifiers import Alert

log = logging.getLogger(__name__)


def publish(run: Run) -> None:
    """Check the run's data; gate gold on error-level failures; record anomalies; alert."""
    import duckdb

    s, result, lake = run.settings, run.result, run.lake
    with run.ledger.task("quality") as task:
        report = run_checks(lake, context_from(s, run_id=run.run_id, run_rows=result.rows))
        record_results(lake, report, run.run_id)
        task.rows_in, task.rows_out = len(report.results), len(report.failures)
    result.checks_failed = report.failing  # "table.check (severity)", errors first
    gated = bool(s.quality.gate and report.blocking)
    to_send: list[Alert | None] = [alerts.check_failed(report, run.run_id, gated=gated)]
    if gated:
        with run.ledger.task("gate") as task:
            restored = gate.restore(lake, run.gate_snapshots or {})
            task.rows_out = len(restored)
        result.status = "gated"
        result.error = "gold not published (kept at its last good snapshot): " + "; ".join(
            f"{r.label}: {r.detail}" for r in report.blocking
        )
    else:
        with run.ledger.task("anomalies") as task:
            try:
                found = anomalies.detect(lake, s.quality, run.run_id)
            except duckdb.Error as e:  # a detector bug must not fail a run whose data is committed
                log.warning("anomaly detection failed: %s", e)
                task.status, task.error, found = "failed", str(e).splitlines()[0], []
            anomalies.record(lake, found, run.run_id, run.now)
            task.rows_out = len(found)
        result.anomalies = len(found)
        to_send.append(alerts.anomalies(found, run.run_id))
    send(s, lake, to_send)
