"""The daily pipeline's Step Functions definition: generated from the job graph, committed as generated,
and the same graph as the local scheduler's daily job. No AWS, no Terraform."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from geckolake.config import Settings
from geckolake.deploy import graph, jobs, states
from geckolake.errors import ConfigError
from geckolake.flows import schedule

COMMITTED = states.Path(__file__).resolve().parents[3] / "deploy" / "aws" / "state_machine" / "daily.asl.json"
MAIN_TF = COMMITTED.parents[1] / "main.tf"


def test_the_committed_definition_is_what_the_generator_writes() -> None:
    assert COMMITTED.read_text() == states.render(states.definition()), (
        "regenerate: python -m geckolake.deploy.states deploy/aws/state_machine/daily.asl.json"
    )


def test_every_task_has_retry_and_a_catch_that_notifies_then_fails() -> None:
    doc = json.loads(COMMITTED.read_text())
    tasks = states.tasks(doc)
    assert tasks
    for name, task in tasks.items():
        assert task["Retry"], name
        assert task["Catch"] and task["Catch"][0]["ErrorEquals"] == ["States.ALL"], name
    scopes = [doc["States"], *(b["States"] for s in doc["States"].values() for b in s.get("Branches", []))]
    for scope in scopes:
        for name, state in scope.items():
            if state["Type"] != "Task" or state["Resource"].endswith("sns:publish"):
                continue
            notify = scope[state["Catch"][0]["Next"]]
            assert notify["Resource"] == "arn:aws:states:::sns:publish", name
            assert notify["Parameters"]["TopicArn"] == "${alerts_topic_arn}"
            assert scope[notify["Next"]]["Type"] == "Fail", name


def _flow_order(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The flows the local scheduler's daily job calls, in order (the flows replaced by recorders)."""
    called: list[str] = []

    class Done:
        status = "succeeded"

    def recorder(name: str) -> Any:
        def record(*args: object, **kwargs: object) -> Done:
            called.append(name)
            return Done()

        return record

    monkeypatch.setattr(schedule, "run", recorder("run"))
    monkeypatch.setattr(schedule, "forecast", recorder("forecast"))
    schedule.JOBS["history"](Settings(lake="unused"), "history")
    return called


def test_the_state_machine_runs_the_scheduler_daily_job_in_its_order(monkeypatch: pytest.MonkeyPatch) -> None:
    order = _flow_order(monkeypatch)
    assert order == ["run", "forecast"]
    stage_of = {step.job: i for i, stage in enumerate(graph.DAILY) for step in stage}
    assert [stage_of[j] for j in order] == sorted(stage_of[j] for j in order), (
        "graph stages out of the scheduler's order"
    )
    doc = states.definition()
    names = [doc["StartAt"]]
    while "Next" in doc["States"][names[-1]]:
        names.append(doc["States"][names[-1]]["Next"])
    glue_jobs = []
    for name in names:
        state = doc["States"][name]
        inner = [t for b in state.get("Branches", []) for t in states.tasks(b).values()] or [state]
        glue_jobs.append(sorted(re.findall(r"\$\{job_(\w+)\}", json.dumps(inner))))
    assert glue_jobs == [["run"], ["check", "forecast"], []], "run ─▶ forecast ∥ check ─▶ notify"
    assert names[-1] == "Notify"


def test_at_most_one_job_of_a_stage_takes_the_writer_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(sum(step.writes for step in stage) <= 1 for stage in graph.DAILY)
    seen: dict[str, object] = {}
    monkeypatch.setattr(jobs, "check", lambda settings, **kw: seen.update(kw))
    jobs.RUNNERS["check"](Settings(lake="unused"))
    assert seen == {"record": False}, "the daily check must read only (it runs beside the forecast)"


def test_every_graph_step_and_scheduler_kind_is_a_deployed_job() -> None:
    assert set(graph.jobs()) <= set(jobs.RUNNERS)
    assert set(schedule.JOBS) <= set(jobs.RUNNERS)
    tf = MAIN_TF.read_text()
    deployed = set(re.findall(r"^\s{4}(\w+)\s+=\s+\{ reads_key", tf, flags=re.M))
    # The scheduler's daily job ("history") is the state machine; every other kind is a job of its own.
    assert set(graph.jobs()) | (set(schedule.JOBS) - {"history"}) <= deployed | {"replay"}
    assert deployed <= set(jobs.RUNNERS)


def test_a_job_fails_where_the_cli_exits_non_zero_but_not_on_a_partial_run() -> None:
    class Result:
        def __init__(self, status: str) -> None:
            self.status, self.run_id, self.error = status, "r1", None

    assert jobs.outcome("run", Result("partial")).summary == "run: partial"
    assert jobs.outcome("run", Result("gated")).run_id == "r1"
    for status in ("failed", "interrupted"):
        with pytest.raises(jobs.JobFailed):
            jobs.outcome("run", Result(status))
    with pytest.raises(ConfigError):
        jobs.runner("nope")
