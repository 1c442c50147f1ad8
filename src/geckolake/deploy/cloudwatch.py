"""A deployed job's metrics, published to CloudWatch (``PutMetricData``) under one namespace.

Two kinds, both from what geckolake already records (no second bookkeeping):

* per job run, dimension ``Job``: ``JobSucceeded``/``JobFailed`` (1 or 0), ``JobDurationSeconds``,
  ``JobSkipped`` (a poll that found the lake locked),
  and for runs and polls the run's ``ApiCalls``, ``Retries``, ``RateLimited`` (429s),
  ``FailedRequests`` and ``RowsWritten`` (from its ``RunResult``);
* lake gauges, no dimension, read through ``ops.metrics.LakeCollector`` (the Prometheus series of
  ``geckolake metrics``): ``DQChecksFailing``, ``TablesOverFreshnessSla``, ``CreditsUsedMonth`` and
  ``CreditBudgetUsedRatio``.

The alarms and the dashboard in ``deploy/aws/modules/monitoring`` read exactly these names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geckolake.config import Settings

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "Geckolake"
RUN_FIELDS = {
    "api_calls": "ApiCalls",
    "retries": "Retries",
    "rate_limited": "RateLimited",
    "failed_requests": "FailedRequests",
}


def run_metrics(result: Any) -> dict[str, float]:
    """The per-run counts of a ``RunResult`` (nothing for other results)."""
    if not hasattr(result, "api_calls"):
        return {}
    out = {name: float(getattr(result, field)) for field, name in RUN_FIELDS.items()}
    out["RowsWritten"] = float(sum(getattr(result, "rows", {}).values()))
    return out


def lake_gauges(settings: Settings) -> dict[str, float]:
    """The lake-wide gauges, from the same collector as ``geckolake metrics`` (empty without a lake)."""
    from geckolake.lake.catalog import is_lake, open_lake
    from geckolake.ops.metrics import LakeCollector

    if not is_lake(settings):
        return {}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in LakeCollector(open_lake(settings, read_only=True), settings).collect():
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    out = {"DQChecksFailing": float(sum(1 for _, v in samples.get("geckolake_dq_check_passed", []) if v < 1))}
    age = {labels["table"]: v for labels, v in samples.get("geckolake_table_age_seconds", [])}
    sla = {labels["table"]: v for labels, v in samples.get("geckolake_table_freshness_sla_seconds", [])}
    out["TablesOverFreshnessSla"] = float(sum(1 for t, a in age.items() if t in sla and a > sla[t]))
    used = [v for _, v in samples.get("geckolake_api_credits_used_month", [])]
    plan = [v for _, v in samples.get("geckolake_api_credits_plan", [])]
    if used:
        out["CreditsUsedMonth"] = used[0]
        if plan and plan[0] > 0:
            out["CreditBudgetUsedRatio"] = used[0] / plan[0]
    return out


def metric_data(
    job: str,
    ok: bool,
    seconds: float,
    per_run: Mapping[str, float],
    gauges: Mapping[str, float],
    *,
    skipped: bool = False,
) -> list[dict[str, Any]]:
    """The ``MetricData`` of one job run (``JobSkipped`` only when it skipped a locked lake)."""
    dims = [{"Name": "Job", "Value": job}]
    data: list[dict[str, Any]] = [
        {"MetricName": "JobSucceeded", "Dimensions": dims, "Value": 1.0 if ok else 0.0, "Unit": "Count"},
        {"MetricName": "JobFailed", "Dimensions": dims, "Value": 0.0 if ok else 1.0, "Unit": "Count"},
        {"MetricName": "JobDurationSeconds", "Dimensions": dims, "Value": seconds, "Unit": "Seconds"},
    ]
    if skipped:
        data.append({"MetricName": "JobSkipped", "Dimensions": dims, "Value": 1.0, "Unit": "Count"})
    data += [{"MetricName": k, "Dimensions": dims, "Value": v, "Unit": "Count"} for k, v in per_run.items()]
    data += [{"MetricName": k, "Value": v, "Unit": "None"} for k, v in gauges.items()]
    return data


def publish(
    namespace: str,
    data: list[dict[str, Any]],
    *,
    client: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> bool:
    """Send ``data`` in batches; a failure is logged, never raised (metrics must not fail a job)."""
    try:
        if client is None:
            import boto3

            client = boto3.client("cloudwatch", region_name=region, endpoint_url=endpoint_url)
        for i in range(0, len(data), 20):
            client.put_metric_data(Namespace=namespace, MetricData=data[i : i + 20])
    except Exception as e:  # botocore errors, a missing boto3: log the kind only, no request details
        logger.warning("metrics not published to CloudWatch: %s", type(e).__name__)
        return False
    return True
