"""What a pipeline run does after its commits: checks, the gate, anomalies, alerts.

Called by :func:`geckolake.ingest.pipeline.run_pipeline` under the writer lock. Alerting never
fails a run: a channel error is logged and recorded in ``ops.alerts_sent``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geckolake.ingest.pipeline import Run
    from geckolake.ops.notifiers import Alert

log = logging.getLogger(__name__)


def after_run(run: Run) -> None:
    """Check the run's data; gate gold on error-level failures; record anomalies; alert."""
    from geckolake.ops import alerts
    from geckolake.quality import anomalies, gate
    from geckolake.quality.runner import context_from, record_results, run_checks

    s, result, lake = run.settings, run.result, run.lake
    with run.ledger.task("quality") as task:
        report = run_checks(lake, context_from(s, run_id=run.run_id, run_rows=result.rows))
        record_results(lake, report, run.run_id)
        task.rows_in, task.rows_out = len(report.results), len(report.failures)
    result.checks_failed = [f"{r.label} [{r.severity}]" for r in report.failures]
    gated = bool(s.quality.gate and report.blocking)
    to_send: list[Alert | None] = []
    if gated:
        with run.ledger.task("gate") as task:
            restored = gate.restore(lake, run.gate_snapshots or {})
            task.rows_out = len(restored)
        result.status = "gated"
        result.error = "gold not published (kept at its last good snapshot): " + "; ".join(
            f"{r.label}: {r.detail}" for r in report.blocking
        )
    else:
        import duckdb

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
    to_send.insert(0, alerts.check_failed(report, run.run_id, gated=gated))
    send(run, [a for a in to_send if a is not None])


def on_failure(run: Run, error: BaseException) -> None:
    """Alert that a run failed (the lake records the alert only if the run had opened it)."""
    from geckolake.ops import alerts

    send(run, [alerts.run_failed(run.command, run.run_id, str(error))], use_lake=run.has_lake)


def send(run: Run, to_send: list[Alert], *, use_lake: bool = True) -> None:
    from geckolake.ops.alerts import AlertDispatcher

    if not to_send:
        return
    try:
        dispatcher = AlertDispatcher(run.settings, run.lake if use_lake else None)
        for d in dispatcher.dispatch(to_send):
            log.info("alert %s: %s %s", d.alert.key, "sent" if d.sent else "not sent", d.reason)
    # Alerting must never turn a finished run into a failed one, nor hide why a run failed (recording
    # the alert can fail for the same reason the run did, e.g. a full disk).
    except Exception as e:
        log.warning("alerts not sent or not recorded: %s", e)
