"""The daily pipeline's job graph: stages of deployed jobs, one stage after the other.

The local scheduler's daily job (``flows.schedule.history_job``) is the run, then the forecasts on
the gold it published. Deployed, the same graph gains the checks beside the forecasts (both read the
published gold, so they run in parallel) and a notification at the end:

    run ─▶ forecast ∥ check ─▶ notify

``states`` turns this into the Step Functions definition; ``tests/unit/deploy`` proves the graph
runs the scheduler's flows in the scheduler's order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One deployed job in the graph (a name of ``deploy.jobs.RUNNERS``).

    ``retry_failed`` is how often a job run that *failed* is started again: only for jobs a second
    attempt can change (a run that met an unreachable API fetches what it lacked; a check that
    found bad rows would find them again). ``writes``: the job takes the lake's writer lock, so at
    most one job of a stage may (a second writer would meet ``LakeLocked``).
    """

    job: str
    title: str
    retry_failed: int = 0
    writes: bool = True


DAILY: tuple[tuple[Step, ...], ...] = (
    (Step("run", "Run", retry_failed=1),),
    # The run has recorded and alerted its checks already; Check verifies the published snapshot
    # read-only (deploy.jobs: record=False), so it runs beside the forecast, which holds the lock.
    (Step("forecast", "Forecast", retry_failed=1), Step("check", "Check", writes=False)),
)


def jobs(graph: tuple[tuple[Step, ...], ...] = DAILY) -> list[str]:
    """The graph's jobs, stage by stage."""
    return [step.job for stage in graph for step in stage]
