"""The one Glue entry point (``geckolake.deploy.entry``) reads its parameters among Glue's own and
turns ``--engine`` into the settings the flows run with."""

from __future__ import annotations

from pathlib import Path

import pytest

from geckolake.config import load_settings
from geckolake.deploy import entry, jobs
from geckolake.errors import ConfigError

# What Glue 5.0 hands the script: its own arguments around the job's DefaultArguments.
GLUE_ARGV = [
    "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "geckolake-run",
    "--job-bookmark-option", "job-bookmark-disable", "--TempDir", "s3://bucket/tmp", "--enable-metrics",
    "--geckolake-job", "run", "--GECKOLAKE_LAKE", "s3://b/lake", "--metrics-namespace", "Ns",
    "--COINGECKO_BASE_URL", "http://sim", "--lock-wait-seconds", "30", "--engine", "spark",
    "--GECKOLAKE_AS_OF=2026-11-20T12:00:00+00:00",
]  # fmt: skip


def test_a_glue_job_reads_its_job_settings_and_engine_and_skips_glues_own() -> None:
    assert entry.parse_glue_args(GLUE_ARGV) == entry.GlueArgs(
        job="run",
        namespace="Ns",
        env={
            "GECKOLAKE_LAKE": "s3://b/lake",
            "COINGECKO_BASE_URL": "http://sim",
            "GECKOLAKE_AS_OF": "2026-11-20T12:00:00+00:00",
        },
        on_locked=entry.OnLocked(30.0),
        engine="spark",
        job_name="geckolake-run",
    )


def test_without_engine_or_namespace_the_defaults_hold() -> None:
    args = entry.parse_glue_args(["--geckolake-job", "forecast"])
    assert (args.engine, args.namespace, args.on_locked, args.env) == (None, "Geckolake", entry.GLUE_ON_LOCKED, {})


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--JOB_NAME", "j", "--engine", "spark"], "no job named"),
        (["--geckolake-job", "run", "--engine", "flink"], "unknown --engine 'flink'"),
        (["--geckolake-job", "run", "--lock-wait-seconds", "soon"], "not a number"),
    ],
)
def test_bad_job_parameters_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        entry.parse_glue_args(argv)


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("spark", ("spark", "cluster")), ("duckdb", ("duckdb", "local[2]")), (None, ("spark", "local[2]"))],
)
def test_engine_spark_computes_on_the_clusters_session_and_duckdb_pins_duckdb(
    engine: entry.Engine | None, expected: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no geckolake.toml here
    monkeypatch.delenv("GECKOLAKE_CONFIG", raising=False)
    # what a deployment may also say through the environment; --engine wins over it
    monkeypatch.setenv("GECKOLAKE_TRANSFORM", '{"engine": "spark", "spark_master": "local[2]"}')
    transform = load_settings(**entry.engine_flags(engine)).transform
    assert (transform.engine, transform.spark_master) == expected


def test_a_given_session_goes_to_the_jobs_that_compute_on_one() -> None:
    session = object()  # runner only closes over it; no flow runs here
    assert jobs.runner("replay", spark=session) is not jobs.RUNNERS["replay"]  # type: ignore[arg-type]
    assert jobs.runner("run", spark=session) is not jobs.RUNNERS["run"]  # type: ignore[arg-type]
    assert jobs.runner("forecast", spark=session) is jobs.RUNNERS["forecast"]  # type: ignore[arg-type]
    assert jobs.runner("replay") is jobs.RUNNERS["replay"]
    with pytest.raises(ConfigError, match="unknown job 'nope'"):
        jobs.runner("nope")
