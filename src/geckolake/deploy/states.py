"""The Step Functions definition (Amazon States Language) of the daily pipeline, generated from ``graph``.

Each job is a Glue job run (``glue:startJobRun.sync``: the state waits for the job's end). Every
Task has a ``Retry`` (transient service errors; a failed job run again only where ``Step``
allows) and a ``Catch`` that publishes the failure to the alerts topic and then fails::

    Run ──▶ Forecast and check (Parallel: Forecast ∥ Check) ──▶ Notify ──▶ (end)
     │ Catch          │ Catch (inside each branch)                │ Catch
     ▼                ▼                                           ▼
    Run failed: notify (SNS) ─▶ Run failed (Fail)  ...         Notify failed (Fail)

The definition names the Glue jobs and the topic by placeholders (``${job_run}``,
``${alerts_topic_arn}``) that Terraform's ``templatefile`` fills; :func:`fill` does the same for
tests. ``python -m geckolake.deploy.states PATH`` writes the committed file.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geckolake.deploy.graph import DAILY, Step

# Errors a second attempt a little later can get past (throttling, capacity, AWS-side faults).
GLUE_TRANSIENT = [
    "Glue.ConcurrentRunsExceededException",
    "Glue.ThrottlingException",
    "Glue.InternalServiceException",
    "Glue.OperationTimeoutException",
]
SNS_TRANSIENT = ["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"]
TOPIC = "${alerts_topic_arn}"
PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def placeholder(job: str) -> str:
    """The placeholder naming the Glue job of ``job``."""
    return "${job_" + job + "}"


def _retry(transient: list[str], interval: int, failed: int = 0) -> list[dict[str, Any]]:
    """Transient errors: 3 more attempts, ``interval`` s apart and doubling; a failed job run: ``failed``
    more, ``interval`` × 10 s later (a second run fetches only what the first lacked)."""
    rules: list[dict[str, Any]] = [
        {"ErrorEquals": transient, "IntervalSeconds": interval, "MaxAttempts": 3, "BackoffRate": 2.0}
    ]
    if failed:
        rules.append({"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": interval * 10, "MaxAttempts": failed})
    return rules


def _fail(title: str) -> dict[str, Any]:
    return {
        "Type": "Fail",
        "Error": f"geckolake.{title.lower().replace(' ', '_')}_failed",
        "Cause": f"{title} failed; the alerts topic has the error",
    }


def _notify_failure(title: str, interval: int) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": TOPIC,
            "Subject": f"[geckolake critical] daily pipeline failed: {title}",
            "Message.$": (
                f"States.Format('The geckolake daily pipeline failed at {title}: {{}} ({{}}). Execution: {{}}', "
                "$.error.Error, $.error.Cause, $$.Execution.Id)"
            ),
        },
        "ResultPath": None,
        "Retry": _retry(SNS_TRANSIENT, interval),
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": f"{title} failed"}],
        "Next": f"{title} failed",
    }


def _task(step: Step, sync: bool, interval: int) -> dict[str, dict[str, Any]]:
    """The step's Task with its failure path (notify, then fail): three states."""
    resource = "arn:aws:states:::glue:startJobRun" + (".sync" if sync else "")
    task = {
        "Type": "Task",
        "Comment": f"geckolake job {step.job!r} (deploy.jobs.RUNNERS)",
        "Resource": resource,
        "Parameters": {"JobName": placeholder(step.job)},
        "ResultPath": None,
        "Retry": _retry(GLUE_TRANSIENT, interval, step.retry_failed),
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{step.title} failed: notify"}],
    }
    return {
        step.title: task,
        f"{step.title} failed: notify": _notify_failure(step.title, interval),
        f"{step.title} failed": _fail(step.title),
    }


def definition(graph: tuple[tuple[Step, ...], ...] = DAILY, *, sync: bool = True, interval: int = 30) -> dict[str, Any]:
    """The state machine of ``graph``: its stages in order (a stage of several jobs is a Parallel), then Notify.

    ``sync=False`` starts the jobs without waiting (for emulators whose ``.sync`` integration does
    not work) and ``interval`` scales the retry waits (seconds); the deployed file uses the defaults.
    """
    states: dict[str, Any] = {}
    names: list[str] = []
    for stage in graph:
        if len(stage) == 1:
            step = stage[0]
            states.update(_task(step, sync, interval))
            names.append(step.title)
            continue
        name = " and ".join([stage[0].title, *(s.title.lower() for s in stage[1:])])
        branches = []
        for step in stage:
            own = _task(step, sync, interval)
            own[step.title]["End"] = True
            branches.append({"StartAt": step.title, "States": own})
        states[name] = {
            "Type": "Parallel",
            "Branches": branches,
            "ResultPath": None,
            # The failing branch has already notified; the pipeline then fails.
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Pipeline failed"}],
        }
        names.append(name)
    for current, following in zip(names, [*names[1:], "Notify"], strict=True):
        states[current]["Next"] = following
    states["Notify"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": TOPIC,
            "Subject": "[geckolake info] daily pipeline succeeded",
            "Message.$": "States.Format('The geckolake daily pipeline succeeded. Execution: {}', $$.Execution.Id)",
        },
        "ResultPath": None,
        "Retry": _retry(SNS_TRANSIENT, interval),
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify failed"}],
        "End": True,
    }
    states["Notify failed"] = _fail("Notify")
    states["Pipeline failed"] = _fail("Pipeline")
    return {
        "Comment": "geckolake daily pipeline, generated by geckolake.deploy.states from graph.DAILY; do not edit",
        "StartAt": names[0],
        "States": states,
    }


def render(doc: Mapping[str, Any]) -> str:
    """The definition as the committed file holds it (stable key order, two-space indent)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the ``${name}`` placeholders as Terraform's templatefile does (a missing value raises KeyError)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def tasks(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, branches included, by name."""
    out: dict[str, dict[str, Any]] = {}
    for name, state in doc["States"].items():
        if state["Type"] == "Task":
            out[name] = state
        for branch in state.get("Branches", []):
            out.update(tasks(branch))
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the deployed definition to the path given (``deploy/aws/state_machine/daily.asl.json``)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m geckolake.deploy.states PATH", file=sys.stderr)
        return 2
    Path(args[0]).write_text(render(definition()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
