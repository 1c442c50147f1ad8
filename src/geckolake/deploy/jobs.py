"""The deployed jobs: each a name and the flow it calls, the same functions the CLI and scheduler call.

Every kind of the local scheduler (``flows.schedule.JOBS``: markets, history, prices, maintenance,
watch) is deployable as it is; the daily pipeline's steps (``run``, ``forecast``, ``check``) and
``replay`` are added here, each one flow. The daily ``check`` reads only (``record=False``, no writer
lock): the run has recorded and alerted its checks itself, and the check runs beside the forecast.

A job *fails* (raises :class:`JobFailed`) exactly when the CLI command would exit non-zero for
something other than a partial run (exit 3: what failed is fetched by the next run), so Glue, Lambda
and Step Functions see the same outcome as a user would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geckolake.errors import ConfigError, TerminalError
from geckolake.flows.checks import check
from geckolake.flows.forecasts import forecast
from geckolake.flows.pipeline import run
from geckolake.flows.rebuild import replay
from geckolake.flows.schedule import JOBS
from geckolake.quality.runner import CheckReport

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from geckolake.config import Settings

# RunResult statuses after which the CLI exits non-zero (partial = 3 is a success for a job).
FAILED_STATUSES = frozenset({"failed", "interrupted"})


class JobFailed(TerminalError):
    """A deployed job finished but its flow reported failure (a failed run, an error-level check)."""


@dataclass(frozen=True)
class Outcome:
    """What a job did, in one line for the job's log and the alert."""

    job: str
    summary: str
    run_id: str | None = None


def outcome(job: str, result: Any) -> Outcome:
    """Judge a flow's result as the CLI does.

    Raises:
        JobFailed: a run ended ``failed``/``interrupted``, or the daily ``check`` found an error-level failure.
    """
    status = getattr(result, "status", None)
    if isinstance(status, str):
        run_id = getattr(result, "run_id", None)
        summary = f"{job}: {status}" + (f" ({result.error})" if getattr(result, "error", None) else "")
        if status in FAILED_STATUSES:
            raise JobFailed(summary, hint="see the job's log and ops.pipeline_runs")
        return Outcome(job, summary, run_id)
    if isinstance(result, CheckReport):
        errors = [r for r in result.failures if r.severity == "error"]
        if errors and job == "check":
            raise JobFailed(f"check: {result.summary()}", hint="see ops.dq_results")
        return Outcome(job, f"{job}: {result.summary()}")
    return Outcome(job, f"{job}: done")


def _scheduled(kind: str) -> Callable[[Settings], Any]:
    return lambda settings: JOBS[kind](settings, kind)


# name → flow. The scheduler's kinds come straight from JOBS (one source of truth).
RUNNERS: dict[str, Callable[[Settings], Any]] = {
    **{kind: _scheduled(kind) for kind in JOBS},
    "run": lambda settings: run(settings, command="run"),
    "forecast": forecast,
    "check": lambda settings: check(settings, record=False),
    "replay": lambda settings: replay(settings),
}


# The jobs whose flow computes on a SparkSession handed to it (engine spark). Without one, a flow on
# the spark engine takes the cluster's own session (``spark_master = "cluster"``: Glue's).
ON_SESSION: dict[str, Callable[[Settings, SparkSession], Any]] = {
    "replay": lambda settings, spark: replay(settings, spark=spark),
    "run": lambda settings, spark: run(settings, command="run", spark=spark),
}


def runner(name: str, spark: SparkSession | None = None) -> Callable[[Settings], Any]:
    """The flow of the deployed job ``name``; with ``spark``, on that session when the job computes
    on one (``ON_SESSION``), the session left running.

    Raises:
        ConfigError: no such job.
    """
    if name not in RUNNERS:
        raise ConfigError(f"unknown job {name!r}", hint=f"one of: {', '.join(sorted(RUNNERS))}")
    if spark is not None and name in ON_SESSION:
        on_session = ON_SESSION[name]
        return lambda settings: on_session(settings, spark)
    return RUNNERS[name]
